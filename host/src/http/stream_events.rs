//! The server-sent events of a streaming chat and of `/events`, as types: each variant of
//! [`StreamEvent`] is one SSE `event:` name with its JSON `data:`. [`sse`](super::sse) sends
//! exactly these, and the OpenAPI document describes them from the same types.

use axum::response::sse::Event;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::api_types::ChatReplyBody;

/// `text_delta`: more of the model's text.
#[derive(Serialize, ToSchema)]
pub struct TextDelta {
    /// The new text.
    pub text: String,
}

/// `tool_start`: a tool call begins.
#[derive(Serialize, ToSchema)]
pub struct ToolStart {
    /// The call's id (its `tool_end` carries it too).
    pub id: String,
    /// The tool's name.
    pub tool: String,
    /// Its arguments: the JSON the model gave, or its text when that was not JSON.
    pub args: Value,
}

/// `tool_end`: a tool call finished.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolEnd {
    /// The call's id.
    pub id: String,
    /// The tool's name.
    pub tool: String,
    /// Whether the tool failed.
    pub is_error: bool,
    /// What the tool returned, or its error.
    pub result: String,
}

/// `tool_output`: output of a program the `run` tool is running, as it is written.
#[derive(Serialize, ToSchema)]
pub struct ToolOutput {
    /// The id of the tool call running it (its `tool_start` and `tool_end` carry it too).
    pub id: String,
    /// `stdout` or `stderr`.
    pub stream: String,
    /// The text written.
    pub text: String,
}

/// `compaction`: older turns were summarised (estimated prompt sizes).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompactionEvent {
    /// The prompt's size before, in tokens.
    pub tokens_before: u64,
    /// The prompt's size after, in tokens.
    pub tokens_after: u64,
}

/// `lagged`: the client was too slow; this many events were dropped for it.
#[derive(Serialize, ToSchema)]
pub struct Lagged {
    /// How many events it missed.
    pub missed: u64,
}

/// `reset`: the events after `Last-Event-ID` are no longer buffered; reload
/// `GET /session/{id}/messages` to catch up.
#[derive(Serialize, ToSchema)]
pub struct Reset {
    /// Why.
    pub reason: String,
}

/// `chat_start` (on `/events`): a chat began.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatStart {
    /// The chat's id.
    pub chat_id: u64,
    /// The user's message.
    pub message: String,
}

/// `chat_end` (on `/events`): a chat ended.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatEnd {
    /// The chat's id.
    pub chat_id: u64,
    /// `end_turn`, `max_turns`, `repeat_guard`, `aborted`, or `error` when the chat failed.
    #[schema(example = "end_turn")]
    pub stop_reason: String,
}

/// `error`: the chat failed; the stream ends.
#[derive(Serialize, ToSchema)]
pub struct StreamError {
    /// What went wrong.
    pub error: String,
    /// The HTTP status the failure would have answered with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

/// One server-sent event: `event` is the SSE event name, `data` its JSON. Each carries an SSE
/// `id:` too (see `Last-Event-ID`), except `lagged` and `reset`.
///
/// A streaming chat sends `text_delta`, `tool_start`, `tool_output`, `tool_end`, `compaction` and `lagged`,
/// then `done` or `error`; or `reset` alone when it rejoins events no longer buffered.
/// `GET /session/{id}/events` sends every chat between `chat_start` and `chat_end`, and starts
/// with `reset` when the events it was asked to resume after are gone.
#[derive(Serialize, ToSchema)]
#[serde(tag = "event", content = "data", rename_all = "snake_case")]
pub enum StreamEvent {
    /// More of the model's text.
    TextDelta(TextDelta),
    /// A tool call begins.
    ToolStart(ToolStart),
    /// A tool call finished.
    ToolEnd(ToolEnd),
    /// A program's output, live.
    ToolOutput(ToolOutput),
    /// Older turns were summarised.
    Compaction(CompactionEvent),
    /// Events were dropped for a slow client.
    Lagged(Lagged),
    /// The events asked for are gone.
    Reset(Reset),
    /// A chat began (`/events`).
    ChatStart(ChatStart),
    /// A chat ended (`/events`).
    ChatEnd(ChatEnd),
    /// The chat's reply: the same body as the JSON answer.
    Done(ChatReplyBody),
    /// The chat failed.
    Error(StreamError),
}

impl StreamEvent {
    /// The SSE event: `event:` its name, `data:` its JSON.
    pub fn to_sse(&self) -> Event {
        let value = serde_json::to_value(self).unwrap_or_default();
        let name = value.get("event").and_then(Value::as_str).unwrap_or("error");
        let data = value.get("data").cloned().unwrap_or_default();
        Event::default().event(name).data(data.to_string())
    }
}

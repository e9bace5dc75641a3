//! A chat: its request, its reply, and aborting it.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::chat::{ChatReply, ChatStop};
use crate::message::Usage;

/// The JSON body of `POST /session/{id}/chat`.
#[derive(Deserialize, ToSchema)]
pub struct ChatBody {
    /// What to tell the agent (not empty, unless the request rejoins a stream).
    pub message: String,
    /// A URL to POST the outcome to when the chat ends.
    #[serde(default)]
    pub notify: Option<String>,
    /// Answer as server-sent events instead of one JSON reply.
    #[serde(default)]
    pub stream: bool,
    /// The model to use (default: the server's `--model`).
    #[serde(default)]
    pub model: Option<String>,
}

/// The query of `POST /session/{id}/chat`.
#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ChatQuery {
    /// Abort the chat when a streaming client disconnects (by default it runs on).
    #[serde(default)]
    pub abort_on_disconnect: bool,
    /// For clients that cannot send `Last-Event-ID` (rejoining a streaming chat).
    pub last_event_id: Option<String>,
}

/// The query of `GET /session/{id}/events`.
#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// For clients that cannot send `Last-Event-ID`.
    pub last_event_id: Option<String>,
}

/// A tool call of a chat, as the reply lists it.
#[derive(Serialize, ToSchema)]
pub struct ToolCallJson {
    /// The tool's name.
    pub tool: String,
    /// Its arguments: the JSON the model gave, or its text when that was not JSON.
    pub args: Value,
}

/// How a chat ended.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model finished.
    EndTurn,
    /// The turn limit (`--max-turns`) stopped it.
    MaxTurns,
    /// The repeat guard stopped a model making the same call over and over.
    RepeatGuard,
    /// Someone aborted the chat.
    Aborted,
}

impl From<ChatStop> for StopReason {
    fn from(stop: ChatStop) -> Self {
        match stop {
            ChatStop::EndTurn => Self::EndTurn,
            ChatStop::MaxTurns => Self::MaxTurns,
            ChatStop::RepeatGuard => Self::RepeatGuard,
            ChatStop::Aborted => Self::Aborted,
        }
    }
}

/// A chat's answer (and the data of the stream's `done` event).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatReplyBody {
    /// The model's final text.
    pub response: String,
    /// The tool calls, in the order they ran.
    pub tool_calls: Vec<ToolCallJson>,
    /// Tokens over all model calls of the chat.
    pub usage: Usage,
    /// How the chat ended.
    pub stop_reason: StopReason,
}

impl From<&ChatReply> for ChatReplyBody {
    fn from(reply: &ChatReply) -> Self {
        Self {
            response: reply.response.clone(),
            tool_calls: reply
                .tool_calls
                .iter()
                .map(|c| ToolCallJson {
                    tool: c.tool.clone(),
                    args: json_or_text(&c.args),
                })
                .collect(),
            usage: reply.usage,
            stop_reason: reply.stop.into(),
        }
    }
}

/// JSON text as JSON, or as a string when it is not JSON.
pub fn json_or_text(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// `POST /session/{id}/abort`'s answer.
#[derive(Serialize, ToSchema)]
pub struct Aborted {
    /// Always `true`.
    pub aborted: bool,
}

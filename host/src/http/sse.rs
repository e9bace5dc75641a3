//! Server-sent events: the streaming chat answer, and a session's event stream.
//!
//! Every event of a chat carries the `id:` it has in the session's event buffer
//! ([`crate::service::EventHub`]), so a client can rejoin the session's stream after it.
//!
//! - The chat answer: `text_delta`, `tool_start`, `tool_end`, then `done` or `error` (with the id
//!   of the chat's `chat_end`). A client too slow for the buffer gets `lagged {missed}` in place
//!   of the events it missed. Sent again with `Last-Event-ID`, the request starts no chat: it
//!   rejoins the chat of that event, from right after it (or answers `reset` alone).
//! - The session's stream (`/events`): every chat's events, between `chat_start {chatId,
//!   message}` and `chat_end {chatId, stopReason}`. It starts with `reset {reason}` when the
//!   event it was asked to resume after is gone, and ends when its client falls behind the
//!   buffer (the client rejoins with `Last-Event-ID`).
//!
//! Both send a keep-alive comment every 15 seconds.

use std::convert::Infallible;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use futures_util::stream;
use tokio::sync::oneshot;

use super::ApiError;
use super::api_types::json_or_text;
use super::stream_events::{
    ChatEnd, ChatStart, CompactionEvent, Lagged, Reset, StreamError, StreamEvent, TextDelta, ToolEnd, ToolOutput,
    ToolStart,
};
use crate::chat::ChatReply;
use crate::interfaces::session::ChatEvent;
use crate::service::{Finished, LiveChat, Next, Numbered, Rejoined, ServiceError, SessionEvent, Viewer};

/// How often an idle stream sends a comment, so proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

fn chat_event(e: &ChatEvent) -> Event {
    match e {
        ChatEvent::TextDelta(text) => StreamEvent::TextDelta(TextDelta { text: text.clone() }),
        ChatEvent::ToolStart { id, tool, args } => StreamEvent::ToolStart(ToolStart {
            id: id.clone(),
            tool: tool.clone(),
            args: json_or_text(args),
        }),
        ChatEvent::ToolEnd {
            id,
            tool,
            is_error,
            result,
        } => StreamEvent::ToolEnd(ToolEnd {
            id: id.clone(),
            tool: tool.clone(),
            is_error: *is_error,
            result: result.clone(),
        }),
        ChatEvent::ToolOutput { id, stream, text } => StreamEvent::ToolOutput(ToolOutput {
            id: id.clone(),
            stream: (*stream).to_string(),
            text: text.clone(),
        }),
        ChatEvent::Compaction {
            tokens_before,
            tokens_after,
        } => StreamEvent::Compaction(CompactionEvent {
            tokens_before: *tokens_before,
            tokens_after: *tokens_after,
        }),
    }
    .to_sse()
}

fn session_event(e: &Numbered) -> Event {
    let event = match &*e.event {
        SessionEvent::ChatStart { message } => StreamEvent::ChatStart(ChatStart {
            chat_id: e.chat_id,
            message: message.clone(),
        })
        .to_sse(),
        SessionEvent::Chat(chat) => chat_event(chat),
        SessionEvent::ChatEnd { stop_reason, .. } => StreamEvent::ChatEnd(ChatEnd {
            chat_id: e.chat_id,
            stop_reason: stop_reason.clone(),
        })
        .to_sse(),
    };
    event.id(e.id.to_string())
}

fn lagged(missed: u64) -> Event {
    StreamEvent::Lagged(Lagged { missed }).to_sse()
}

/// The chat's last event: `done` with its reply, or `error`.
fn outcome(end_id: Option<u64>, result: Result<&ChatReply, &ServiceError>) -> Event {
    let event = match result {
        Ok(reply) => StreamEvent::Done(reply.into()),
        Err(e) => {
            let e = ApiError::from(e);
            StreamEvent::Error(StreamError {
                error: e.message,
                status: Some(e.status.as_u16()),
            })
        }
    }
    .to_sse();
    match end_id {
        Some(id) => event.id(id.to_string()),
        None => event,
    }
}

fn finished(finished: Result<Finished, oneshot::error::RecvError>) -> Event {
    match finished {
        Ok(Finished { end_id, result }) => outcome(end_id, result.as_ref()),
        Err(_) => StreamEvent::Error(StreamError {
            error: "the chat ended unexpectedly".into(),
            status: None,
        })
        .to_sse(),
    }
}

/// Where a streaming chat's answer is.
struct ChatStream {
    chat_id: u64,
    events: Viewer,
    /// The chat's outcome, while it runs (`None` for a rejoined chat, whose outcome is its
    /// `chat_end`).
    done: Option<oneshot::Receiver<Finished>>,
    /// The outcome, once it came: the chat's remaining buffered events go first.
    finished: Option<Result<Finished, oneshot::error::RecvError>>,
    over: bool,
}

/// What a streaming chat waits for.
enum Step {
    Next(Next),
    Finished(Result<Finished, oneshot::error::RecvError>),
    /// The chat is over and its buffered events are all read.
    Drained,
}

impl ChatStream {
    /// The answer's next SSE event; `None` after the last.
    async fn next_event(&mut self) -> Option<Event> {
        loop {
            if self.over {
                return None;
            }
            let step = match (self.done.as_mut(), self.finished.is_some()) {
                (Some(done), _) => tokio::select! {
                    biased;
                    next = self.events.next() => Step::Next(next),
                    finished = done => Step::Finished(finished),
                },
                (None, true) => self.events.try_next().map_or(Step::Drained, Step::Next),
                (None, false) => Step::Next(self.events.next().await),
            };
            match step {
                Step::Next(Next::Missed(missed)) => return Some(lagged(missed)),
                Step::Next(Next::Event(e)) if e.chat_id == self.chat_id => match &*e.event {
                    SessionEvent::Chat(chat) => return Some(chat_event(chat).id(e.id.to_string())),
                    SessionEvent::ChatStart { .. } => {}
                    SessionEvent::ChatEnd { outcome: result, .. } => {
                        self.over = true;
                        return Some(outcome(Some(e.id), result.as_ref().as_ref().map_err(|e| &**e)));
                    }
                },
                // Another chat started (chats run one at a time): this one's end is no longer
                // buffered.
                Step::Next(Next::Event(e))
                    if matches!(*e.event, SessionEvent::ChatStart { .. }) && self.done.is_none() =>
                {
                    self.over = true;
                    if self.finished.is_none() {
                        return Some(reset("the chat's end is no longer buffered: reload /messages"));
                    }
                }
                Step::Next(Next::Event(_)) => {}
                Step::Finished(finished) => {
                    // Its events were all appended before: read what is left of them.
                    self.finished = Some(finished);
                    self.done = None;
                }
                Step::Drained => {
                    self.over = true;
                    return self.finished.take().map(finished);
                }
            }
            if self.over {
                return self.finished.take().map(finished);
            }
        }
    }
}

fn reset(reason: &str) -> Event {
    StreamEvent::Reset(Reset { reason: reason.into() }).to_sse()
}

fn chat_stream(state: ChatStream) -> Response {
    let events = stream::unfold(state, |mut state| async move {
        let event = state.next_event().await?;
        Some((Ok::<_, Infallible>(event), state))
    });
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}

/// The streaming chat's answer: the chat's events as they happen, then its outcome.
pub fn chat_response(chat: LiveChat) -> Response {
    let LiveChat { chat_id, events, done } = chat;
    chat_stream(ChatStream {
        chat_id,
        events,
        done: Some(done),
        finished: None,
        over: false,
    })
}

/// A rejoined chat's answer: its events after the one the client last saw, then its outcome;
/// or `reset` alone when they are no longer buffered.
pub fn rejoined_chat_response(rejoined: Option<(u64, Viewer)>) -> Response {
    match rejoined {
        Some((chat_id, events)) => chat_stream(ChatStream {
            chat_id,
            events,
            done: None,
            finished: None,
            over: false,
        }),
        None => {
            let reset = reset("the events after Last-Event-ID are no longer buffered: reload /messages");
            Sse::new(stream::iter([Ok::<_, Infallible>(reset)])).into_response()
        }
    }
}

/// A session's event stream, until the client goes or falls behind the buffer.
pub fn session_response(rejoined: Rejoined) -> Response {
    let (reset, viewer) = match rejoined {
        Rejoined::Resumed(viewer) => (None, viewer),
        Rejoined::Reset(viewer) => (
            Some(reset(
                "the events after Last-Event-ID are no longer buffered: reload /messages",
            )),
            viewer,
        ),
    };
    let live = stream::unfold(viewer, |mut viewer| async move {
        match viewer.next().await {
            Next::Event(e) => Some((session_event(&e), viewer)),
            // Fallen behind the buffer: the client rejoins with its last id (and is reset).
            Next::Missed(_) => None,
        }
    });
    let events = stream::iter(reset).chain(live).map(Ok::<_, Infallible>);
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}

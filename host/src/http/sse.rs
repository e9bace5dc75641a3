//! The streaming chat answer: `text_delta`, `tool_start`, `tool_end`, then `done` or `error`.
//! A client too slow to keep up with the chat's bounded event buffer gets `lagged {missed}` in
//! place of the events it missed.

use std::convert::Infallible;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use futures_util::stream;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use super::ApiError;
use super::routes::reply_json;
use crate::interfaces::session::ChatEvent;
use crate::service::LiveChat;

fn event(name: &str, data: &Value) -> Result<Event, Infallible> {
    Ok(Event::default().event(name).data(data.to_string()))
}

fn chat_event(e: ChatEvent) -> Result<Event, Infallible> {
    match e {
        ChatEvent::TextDelta(text) => event("text_delta", &json!({ "text": text })),
        ChatEvent::ToolStart { id, tool, args } => {
            let args = serde_json::from_str::<Value>(&args).unwrap_or(Value::String(args));
            event("tool_start", &json!({ "id": id, "tool": tool, "args": args }))
        }
        ChatEvent::ToolEnd {
            id,
            tool,
            is_error,
            result,
        } => event(
            "tool_end",
            &json!({ "id": id, "tool": tool, "isError": is_error, "result": result }),
        ),
    }
}

/// The SSE response: live events until the chat's store is dropped, then the final event.
pub fn response(chat: LiveChat) -> Response {
    let LiveChat { events, done } = chat;
    let live = stream::unfold(events, |mut rx| async move {
        match rx.recv().await {
            Ok(e) => Some((chat_event(e), rx)),
            Err(RecvError::Lagged(missed)) => Some((event("lagged", &json!({ "missed": missed })), rx)),
            Err(RecvError::Closed) => None,
        }
    });
    let last = stream::once(async move {
        match done.await {
            Ok(Ok(reply)) => event("done", &reply_json(&reply)),
            Ok(Err(e)) => {
                let e = ApiError::from(e);
                event("error", &json!({ "error": e.message, "status": e.status.as_u16() }))
            }
            Err(_) => event("error", &json!({ "error": "the chat ended unexpectedly" })),
        }
    });
    Sse::new(live.chain(last))
        .keep_alive(KeepAlive::default())
        .into_response()
}

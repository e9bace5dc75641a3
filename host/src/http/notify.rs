//! `"notify": "<url>"` on a chat: when the chat ends, its reply (or error) is POSTed there by
//! the [`Notifier`](crate::notify::Notifier), whether or not the client is still connected.

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::ApiError;
use super::api_types::ChatReplyBody;
use crate::import::remote::policy::Target;
use crate::notify::{Notifier, NotifyError};
use crate::service::LiveChat;
use crate::sessions::SessionId;

/// The body a notification carries: the reply JSON, or `{error, status}`, with the session and
/// chat ids.
fn body(session: &SessionId, chat_id: u64, outcome: Result<&Value, &ApiError>) -> Value {
    let mut body = match outcome {
        Ok(reply) => reply.clone(),
        Err(e) => json!({ "error": e.message, "status": e.status.as_u16() }),
    };
    if let Some(object) = body.as_object_mut() {
        object.insert("sessionId".into(), json!(session.as_str()));
        object.insert("chatId".into(), json!(chat_id));
    }
    body
}

/// `chat` whose outcome is also sent to `target` when it ends. The outcome still reaches the
/// caller through the returned chat's `done`; the notification does not wait for the caller.
pub fn when_done(notifier: Arc<Notifier>, target: Target, session: SessionId, chat: LiveChat) -> LiveChat {
    let LiveChat { chat_id, events, done } = chat;
    let (forward, forwarded) = oneshot::channel();
    tokio::spawn(async move {
        let finished = done.await;
        let sent = match finished.as_ref().map(|f| &f.result) {
            Ok(Ok(reply)) => {
                let reply = serde_json::to_value(ChatReplyBody::from(reply)).unwrap_or_default();
                body(&session, chat_id, Ok(&reply))
            }
            Ok(Err(e)) => body(&session, chat_id, Err(&ApiError::from(e))),
            Err(_) => body(
                &session,
                chat_id,
                Err(&ApiError::new(
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "the chat ended unexpectedly",
                )),
            ),
        };
        notifier.send(target, &sent);
        if let Ok(finished) = finished {
            let _ = forward.send(finished);
        }
    });
    LiveChat {
        chat_id,
        events,
        done: forwarded,
    }
}

impl From<NotifyError> for ApiError {
    fn from(e: NotifyError) -> Self {
        let status = match &e {
            NotifyError::NoSecret => axum::http::StatusCode::BAD_REQUEST,
            NotifyError::Url(remote) => super::import::remote_status(remote),
        };
        Self::new(status, format!("notify: {e}"))
    }
}

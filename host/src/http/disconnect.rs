//! `?abortOnDisconnect=true` on a streaming chat: when the client goes away before the chat
//! ends, the chat is aborted. By default it runs on, and the stream can be rejoined.

use std::sync::Arc;

use tokio::sync::oneshot;

use crate::service::{ChatService, LiveChat};
use crate::sessions::SessionId;

/// `chat`, aborted when whoever holds the returned chat's `done` drops it before the end.
pub fn abort_when_dropped(service: Arc<ChatService>, session: SessionId, chat: LiveChat) -> LiveChat {
    let LiveChat { chat_id, events, done } = chat;
    let (mut forward, forwarded) = oneshot::channel();
    tokio::spawn(async move {
        tokio::pin!(done);
        let finished = tokio::select! {
            finished = &mut done => finished,
            () = forward.closed() => {
                // The client left: stop its chat (not another), and let it finish on its own.
                service.abort_chat(&session, chat_id);
                return;
            }
        };
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

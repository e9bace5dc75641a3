//! The chats running now, one per session at most, with the signal that stops each.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::abort::AbortSignal;
use crate::sessions::SessionId;

/// The running chats of a server.
#[derive(Debug, Default)]
pub struct RunningChats {
    chats: Mutex<HashMap<SessionId, Arc<AbortSignal>>>,
}

/// A chat registered as running; it is forgotten when this is dropped.
pub struct Running<'a> {
    chats: &'a RunningChats,
    id: SessionId,
    /// The chat's stop signal.
    pub signal: Arc<AbortSignal>,
}

impl RunningChats {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Arc<AbortSignal>>> {
        self.chats.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers the chat starting on session `id` (which holds the session's lock).
    pub fn start(&self, id: &SessionId) -> Running<'_> {
        let signal = Arc::new(AbortSignal::default());
        self.map().insert(id.clone(), signal.clone());
        Running {
            chats: self,
            id: id.clone(),
            signal,
        }
    }

    /// Asks the chat running on session `id` to stop; false when none runs.
    pub fn abort(&self, id: &SessionId) -> bool {
        match self.map().get(id) {
            Some(signal) => {
                signal.abort();
                true
            }
            None => false,
        }
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.chats.map().remove(&self.id);
    }
}

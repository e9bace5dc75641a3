//! The chats running now, one per session at most, with the signal that stops each; and the
//! chats asked to stop while still queued, stopped as soon as they start.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::abort::AbortSignal;
use crate::sessions::SessionId;

#[derive(Debug, Default)]
struct State {
    running: HashMap<SessionId, (u64, Arc<AbortSignal>)>,
    aborted_early: HashSet<(SessionId, u64)>,
}

/// The running chats of a server.
#[derive(Debug, Default)]
pub struct RunningChats {
    state: Mutex<State>,
}

/// A chat registered as running; it is forgotten when this is dropped.
pub struct Running<'a> {
    chats: &'a RunningChats,
    id: SessionId,
    /// The chat's stop signal.
    pub signal: Arc<AbortSignal>,
}

impl RunningChats {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers chat `chat_id` starting on session `id` (which holds the session's lock). A
    /// chat asked to stop while it was queued starts stopped.
    pub fn start(&self, id: &SessionId, chat_id: u64) -> Running<'_> {
        let signal = Arc::new(AbortSignal::default());
        let mut state = self.state();
        if state.aborted_early.remove(&(id.clone(), chat_id)) {
            signal.abort();
        }
        state.running.insert(id.clone(), (chat_id, signal.clone()));
        Running {
            chats: self,
            id: id.clone(),
            signal,
        }
    }

    /// Asks the chat running on session `id` to stop; false when none runs.
    pub fn abort(&self, id: &SessionId) -> bool {
        match self.state().running.get(id) {
            Some((_, signal)) => {
                signal.abort();
                true
            }
            None => false,
        }
    }

    /// Asks chat `chat_id` of session `id` to stop: now if it runs, as it starts if it is
    /// still queued. Another chat of the session is left alone.
    pub fn abort_chat(&self, id: &SessionId, chat_id: u64) {
        let mut state = self.state();
        match state.running.get(id) {
            Some((running, signal)) if *running == chat_id => signal.abort(),
            _ => {
                state.aborted_early.insert((id.clone(), chat_id));
            }
        }
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.chats.state().running.remove(&self.id);
    }
}

//! One chat at a time per session: a lock per session id, kept only while someone holds or
//! waits for it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::OwnedMutexGuard;

use crate::sessions::SessionId;

/// The per-session locks of a server.
#[derive(Debug, Default)]
pub struct SessionLocks {
    locks: Mutex<HashMap<SessionId, Weak<tokio::sync::Mutex<()>>>>,
}

impl SessionLocks {
    /// Waits until nothing else holds the session; it stays held while the guard lives.
    pub async fn lock(&self, id: &SessionId) -> OwnedMutexGuard<()> {
        self.lock_for(id).lock_owned().await
    }

    /// Takes the session's lock if nothing holds it now (`None`: a chat or a write is running).
    pub fn try_lock(&self, id: &SessionId) -> Option<OwnedMutexGuard<()>> {
        self.lock_for(id).try_lock_owned().ok()
    }

    fn lock_for(&self, id: &SessionId) -> Arc<tokio::sync::Mutex<()>> {
        {
            let mut locks = self.locks.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Some(lock) = locks.get(id).and_then(Weak::upgrade) {
                lock
            } else {
                // Forget locks nobody holds any more, so the map stays as small as the busy set.
                locks.retain(|_, weak| weak.strong_count() > 0);
                let lock = Arc::new(tokio::sync::Mutex::new(()));
                locks.insert(id.clone(), Arc::downgrade(&lock));
                lock
            }
        }
    }
}

//! A process-wide bound on the session databases chats hold open.
//!
//! An open session database costs four file descriptors (the database, its WAL and shared memory,
//! the blob directory), and a process has a fixed number. With thousands of chats in flight,
//! each holding a model connection, databases held by all of them would run the process out of
//! descriptors, and chats would fail. So a chat holds a [`DbPermit`] while its database is open:
//! one is taken before the chat opens it, and a chat waiting for the model under pressure (few
//! permits left) suspends its database and gives the permit back, taking one again when the
//! answer comes. Chats past the bound wait for a permit instead of failing.

use std::sync::{Arc, LazyLock};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Permits for a sixteenth of the descriptor limit: a quarter of the descriptors, at four a
/// database, leaving the rest to sockets (each chat's connection to the model and its client's)
/// and to the requests served beside the chats.
static PERMITS: LazyLock<(Arc<Semaphore>, usize)> = LazyLock::new(|| {
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(1 << 20);
    let permits = (limit / 16).clamp(16, Semaphore::MAX_PERMITS as u64) as usize;
    (Arc::new(Semaphore::new(permits)), permits)
});

/// Leave to hold one session database open; the permit returns when it drops.
#[derive(Debug)]
pub struct DbPermit(#[allow(dead_code, reason = "held for its drop")] OwnedSemaphorePermit);

/// Waits for a permit to open a session database.
pub async fn acquire() -> DbPermit {
    let permit = PERMITS.0.clone().acquire_owned().await;
    DbPermit(permit.expect("the semaphore is never closed"))
}

/// Whether permits run short (under a quarter left): waiting chats should give theirs back.
pub fn under_pressure() -> bool {
    PERMITS.0.available_permits() < PERMITS.1 / 4
}

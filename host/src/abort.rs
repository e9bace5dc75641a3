//! Asking a running chat to stop: a flag the guest reads between steps (`session.aborted`) and a
//! wake-up for a model call in flight (`llm`), which then ends with `llm-error.aborted`.

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

/// One chat's stop request.
#[derive(Debug, Default)]
pub struct AbortSignal {
    requested: AtomicBool,
    wake: Notify,
}

impl AbortSignal {
    /// Asks the chat to stop at its next safe point.
    pub fn abort(&self) {
        self.requested.store(true, Ordering::SeqCst);
        self.wake.notify_waiters();
    }

    /// Whether the chat was asked to stop.
    pub fn is_aborted(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }

    /// Resolves once the chat is asked to stop (at once if it already was).
    pub async fn aborted(&self) {
        let woken = self.wake.notified();
        tokio::pin!(woken);
        // Registered before the check, so an abort between the check and the wait is not missed.
        woken.as_mut().enable();
        if !self.is_aborted() {
            woken.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn a_waiter_wakes_on_abort_and_later_waiters_return_at_once() {
        let signal = Arc::new(AbortSignal::default());
        let waiter = tokio::spawn({
            let signal = signal.clone();
            async move { signal.aborted().await }
        });
        tokio::task::yield_now().await;
        assert!(!signal.is_aborted());
        signal.abort();
        waiter.await.unwrap();
        signal.aborted().await;
        assert!(signal.is_aborted());
    }
}

//! Each session's live events: a bounded buffer of numbered events that the session's chats
//! append to and any number of viewers read, each at its own pace.
//!
//! A [`EventHub`] exists while a chat runs on the session or someone watches it, and for
//! [`LINGER`] after its last chat, so a viewer that lost its connection can rejoin. It keeps the
//! events of the current and the last chat, at most [`MAX_BUFFERED_EVENTS`] events and about
//! [`MAX_BUFFERED_BYTES`] bytes: appending never waits and never grows memory past that. A
//! viewer is a cursor into the buffer; one that falls behind the buffer's start is told how many
//! events it missed.
//!
//! Ids are integers, unique within the session and increasing, also across chats and hubs:
//! they come from one counter per server that starts at the server's start time in
//! microseconds since the Unix epoch, so the ids of a restarted server are larger than the old
//! one's and an old id is never mistaken for a new one.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

use super::ServiceError;
use crate::chat::ChatReply;
use crate::interfaces::session::{ChatEvent, EventSink};
use crate::sessions::SessionId;

/// At most this many events are buffered per session.
pub const MAX_BUFFERED_EVENTS: usize = 4096;

/// At most about this many bytes of events (their text and their bookkeeping) are buffered
/// per session.
pub const MAX_BUFFERED_BYTES: usize = 2 << 20;

/// How long a session's events stay rejoinable after its last chat ended with nobody watching.
pub const LINGER: Duration = Duration::from_secs(60);

/// Something that happened on a session.
#[derive(Debug, Clone)]
pub enum SessionEvent {
    /// A chat started, with the user's message.
    ChatStart {
        /// The message.
        message: String,
    },
    /// Progress of a chat.
    Chat(ChatEvent),
    /// A chat ended: its stop reason (`end_turn`, `max_turns`, …), or `error`.
    ChatEnd {
        /// Why it stopped.
        stop_reason: String,
        /// Its reply, or why it failed (boxed: every other event stays small).
        outcome: Box<Result<ChatReply, Arc<ServiceError>>>,
    },
}

impl SessionEvent {
    /// Roughly what it holds on the heap, in bytes.
    fn heap_bytes(&self) -> usize {
        match self {
            SessionEvent::ChatStart { message } => message.len(),
            SessionEvent::Chat(ChatEvent::TextDelta(text)) => text.len(),
            SessionEvent::Chat(ChatEvent::ToolStart { id, tool, args }) => id.len() + tool.len() + args.len(),
            SessionEvent::Chat(ChatEvent::ToolEnd { id, tool, result, .. }) => id.len() + tool.len() + result.len(),
            SessionEvent::Chat(ChatEvent::ToolOutput { id, text, .. }) => id.len() + text.len(),
            SessionEvent::Chat(ChatEvent::Compaction { .. }) => 0,
            SessionEvent::ChatEnd { stop_reason, outcome } => {
                let reply = size_of::<Result<ChatReply, Arc<ServiceError>>>();
                let reply = reply
                    + outcome.as_ref().as_ref().map_or(0, |reply| {
                        let calls: usize = reply.tool_calls.iter().map(|c| c.tool.len() + c.args.len()).sum();
                        reply.response.len() + calls
                    });
                stop_reason.len() + reply
            }
        }
    }
}

/// An event with its id and the chat it belongs to.
#[derive(Debug, Clone)]
pub struct Numbered {
    /// The event's id: unique within the session, increasing.
    pub id: u64,
    /// The chat's id (allocated from the same counter as event ids).
    pub chat_id: u64,
    /// What happened.
    pub event: Arc<SessionEvent>,
}

impl Numbered {
    /// What one buffered event costs, in bytes: its slot, its shared allocation and its text.
    pub fn cost(&self) -> usize {
        size_of::<Self>() + 2 * size_of::<usize>() + size_of::<SessionEvent>() + self.event.heap_bytes()
    }
}

/// What a viewer reads next.
#[derive(Debug, Clone)]
pub enum Next {
    /// The next event.
    Event(Numbered),
    /// The viewer fell behind the buffer: this many events are gone.
    Missed(u64),
}

/// The buffer itself.
#[derive(Debug)]
struct Ring {
    entries: VecDeque<Numbered>,
    /// The position (counted from the hub's first event) of `entries[0]`.
    first_index: u64,
    /// Every event of the session with an id up to this one is no longer (or never was) held.
    floor: u64,
    bytes: usize,
    /// The chats whose events are kept: the last and the current one.
    kept_chats: [u64; 2],
}

impl Ring {
    fn end_index(&self) -> u64 {
        self.first_index + self.entries.len() as u64
    }

    fn evict_front(&mut self) {
        if let Some(old) = self.entries.pop_front() {
            self.first_index += 1;
            self.floor = old.id;
            self.bytes -= old.cost();
        }
    }

    fn push(&mut self, entry: Numbered) {
        if matches!(*entry.event, SessionEvent::ChatStart { .. }) && self.kept_chats[1] != entry.chat_id {
            self.kept_chats = [self.kept_chats[1], entry.chat_id];
            while self
                .entries
                .front()
                .is_some_and(|e| !self.kept_chats.contains(&e.chat_id))
            {
                self.evict_front();
            }
        }
        self.bytes += entry.cost();
        self.entries.push_back(entry);
        while self.entries.len() > 1 && (self.entries.len() > MAX_BUFFERED_EVENTS || self.bytes > MAX_BUFFERED_BYTES) {
            self.evict_front();
        }
    }
}

/// One session's live events.
#[derive(Debug)]
pub struct EventHub {
    ring: Mutex<Ring>,
    /// The index after the last event appended: viewers wait for it to change.
    appended: watch::Sender<u64>,
    ids: Arc<AtomicU64>,
}

impl EventHub {
    fn new(ids: Arc<AtomicU64>) -> Self {
        let floor = ids.load(Ordering::SeqCst);
        Self {
            ring: Mutex::new(Ring {
                entries: VecDeque::new(),
                first_index: 0,
                floor,
                bytes: 0,
                kept_chats: [0, 0],
            }),
            appended: watch::Sender::new(0),
            ids,
        }
    }

    fn ring(&self) -> MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A fresh id from the server's counter (for a chat).
    pub fn next_id(&self) -> u64 {
        self.ids.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Appends `event` of chat `chat_id` and wakes the viewers; returns the event's id. Never
    /// waits for a viewer.
    pub fn append(&self, chat_id: u64, event: SessionEvent) -> u64 {
        let (id, end) = {
            let mut ring = self.ring();
            // Under the lock: ids enter the buffer in increasing order.
            let id = self.next_id();
            ring.push(Numbered {
                id,
                chat_id,
                event: Arc::new(event),
            });
            (id, ring.end_index())
        };
        self.appended.send_replace(end);
        id
    }

    /// A viewer of the events appended from now on.
    pub fn view_from_now(self: &Arc<Self>) -> Viewer {
        let next = self.ring().end_index();
        self.viewer(next)
    }

    /// A viewer of the events after the one with id `last_id`, or `None` when events after it
    /// may be gone (it is older than the buffer, or not an id of this server).
    pub fn view_after(self: &Arc<Self>, last_id: u64) -> Option<Viewer> {
        let next = {
            let ring = self.ring();
            if last_id < ring.floor || last_id > self.ids.load(Ordering::SeqCst) {
                return None;
            }
            ring.first_index + ring.entries.partition_point(|e| e.id <= last_id) as u64
        };
        Some(self.viewer(next))
    }

    /// The chat of the event with id `last_id`, and a viewer of the events after it; `None` when
    /// that event is no longer buffered. When `last_id` is the chat's end (its `done`), the
    /// viewer starts at that end again, so the rejoined stream repeats the outcome and ends
    /// instead of waiting for a chat that is over.
    pub fn rejoin_chat(self: &Arc<Self>, last_id: u64) -> Option<(u64, Viewer)> {
        let (chat_id, next) = {
            let ring = self.ring();
            let position = ring.entries.binary_search_by_key(&last_id, |e| e.id).ok()?;
            let entry = ring.entries.get(position)?;
            let ended = matches!(*entry.event, SessionEvent::ChatEnd { .. });
            let next = ring.first_index + position as u64 + u64::from(!ended);
            (entry.chat_id, next)
        };
        Some((chat_id, self.viewer(next)))
    }

    fn viewer(self: &Arc<Self>, next: u64) -> Viewer {
        Viewer {
            hub: self.clone(),
            next,
            wake: self.appended.subscribe(),
        }
    }

    /// The events buffered now and the bytes they are counted as.
    pub fn buffered(&self) -> (usize, usize) {
        let ring = self.ring();
        (ring.entries.len(), ring.bytes)
    }

    fn take(&self, next: &mut u64) -> Option<Next> {
        let ring = self.ring();
        if *next < ring.first_index {
            let missed = ring.first_index - *next;
            *next = ring.first_index;
            return Some(Next::Missed(missed));
        }
        let position = usize::try_from(*next - ring.first_index).ok()?;
        let entry = ring.entries.get(position)?.clone();
        *next += 1;
        Some(Next::Event(entry))
    }
}

/// A cursor into a session's events, reading at its own pace.
#[derive(Debug)]
pub struct Viewer {
    hub: Arc<EventHub>,
    next: u64,
    wake: watch::Receiver<u64>,
}

impl Viewer {
    /// The next event, without waiting: `None` when there is none yet.
    pub fn try_next(&mut self) -> Option<Next> {
        self.wake.borrow_and_update();
        self.hub.take(&mut self.next)
    }

    /// The next event, once there is one.
    pub async fn next(&mut self) -> Next {
        loop {
            if let Some(next) = self.try_next() {
                return next;
            }
            // The sender lives in the hub this viewer holds: it cannot be dropped meanwhile.
            if self.wake.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

/// A chat's events, into its session's hub.
#[derive(Debug)]
pub(super) struct ChatSink {
    pub(super) hub: Arc<EventHub>,
    pub(super) chat_id: u64,
}

impl EventSink for ChatSink {
    fn emit(&self, event: ChatEvent) {
        self.hub.append(self.chat_id, SessionEvent::Chat(event));
    }
}

/// The hubs of a server's sessions, and the counter their ids come from.
#[derive(Debug)]
pub struct EventHubs {
    hubs: Mutex<HashMap<SessionId, Weak<EventHub>>>,
    ids: Arc<AtomicU64>,
}

impl Default for EventHubs {
    fn default() -> Self {
        let start = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX / 2));
        Self {
            hubs: Mutex::default(),
            ids: Arc::new(AtomicU64::new(start)),
        }
    }
}

impl EventHubs {
    /// The session's hub, created when it has none.
    /// Forgets the session's hub: the next [`hub`](Self::hub) for that id starts a new, empty
    /// one. Called when a session is deleted or created, so a session made later under the same
    /// id (perhaps by another tenant) never sees an earlier one's events. Viewers of the old hub
    /// keep it until they go.
    pub fn forget(&self, id: &SessionId) {
        self.hubs.lock().unwrap_or_else(PoisonError::into_inner).remove(id);
    }

    pub fn hub(&self, id: &SessionId) -> Arc<EventHub> {
        let mut hubs = self.hubs.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(hub) = hubs.get(id).and_then(Weak::upgrade) {
            return hub;
        }
        hubs.retain(|_, hub| hub.strong_count() > 0);
        let hub = Arc::new(EventHub::new(self.ids.clone()));
        hubs.insert(id.clone(), Arc::downgrade(&hub));
        hub
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(n: usize) -> SessionEvent {
        SessionEvent::Chat(ChatEvent::TextDelta("x".repeat(n)))
    }

    fn start() -> SessionEvent {
        SessionEvent::ChatStart { message: "hi".into() }
    }

    #[tokio::test]
    async fn a_viewer_resumes_after_an_id_without_gap_or_duplicate() {
        let hub = Arc::new(EventHub::new(Arc::new(AtomicU64::new(100))));
        let ids: Vec<u64> = (0..5).map(|_| hub.append(7, text(1))).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        let mut viewer = hub.view_after(ids[1]).unwrap();
        for id in &ids[2..] {
            match viewer.next().await {
                Next::Event(e) => assert_eq!(e.id, *id),
                other => panic!("{other:?}"),
            }
        }
        assert!(viewer.try_next().is_none());
        assert!(hub.view_after(99).is_none(), "older than the hub");
        assert!(hub.view_after(ids[4] + 1).is_none(), "not issued yet");
    }

    #[test]
    fn the_buffer_keeps_the_current_and_the_last_chat() {
        let hub = Arc::new(EventHub::new(Arc::new(AtomicU64::new(0))));
        let first = hub.append(1, start());
        hub.append(1, text(1));
        let second = hub.append(2, start());
        hub.append(3, start());
        assert!(hub.view_after(first).is_none());
        assert!(hub.view_after(second - 1).is_some());
        assert_eq!(hub.buffered().0, 2);
    }

    #[test]
    fn a_flood_stays_within_the_byte_cap_and_a_slow_viewer_is_told_what_it_missed() {
        let hub = Arc::new(EventHub::new(Arc::new(AtomicU64::new(0))));
        let mut viewer = hub.view_from_now();
        hub.append(1, start());
        for _ in 0..10_000 {
            hub.append(1, text(4096));
        }
        let (events, bytes) = hub.buffered();
        assert!(bytes <= MAX_BUFFERED_BYTES, "{bytes}");
        assert!(events < 10_000);
        match viewer.try_next() {
            Some(Next::Missed(missed)) => assert_eq!(missed, 10_001 - events as u64),
            other => panic!("{other:?}"),
        }
        assert!(matches!(viewer.try_next(), Some(Next::Event(_))));
    }
}

//! The chat service: each session's lifecycle, between the HTTP adapters and the runtime.
//!
//! It owns the per-session lock (one chat at a time per session, others wait their turn), the
//! chat slots (at most as many chats at once as the instance pool holds), opening or creating a
//! session's database, running the chat on a blocking thread, and the live event fan-out. HTTP
//! handlers ([`crate::http`]) only translate requests and answers; another embedder can drive
//! sessions through this type alone.

mod checkpoints;
mod files;
mod git_transport;
mod import;
mod lifecycle;
mod locks;
mod running;

use std::sync::Arc;

use gix_hash::ObjectId;
use tokio::sync::{Semaphore, broadcast, oneshot};

pub use self::checkpoints::Reverted;
pub use self::files::{PathView, WriteCondition, Written};
pub use self::git_transport::UploadPack;
pub use self::lifecycle::{Page, SessionBusy};
pub use self::locks::SessionLocks;
use crate::chat::{self, ChatError, ChatLimits, ChatReply, ChatRequest};
use crate::engine::AgentEngine;
use crate::git::transport::ProtocolError;
use crate::git::{GitError, Repo};
use crate::import::ImportError;
use crate::interfaces::session::ChatEvent;
use crate::llm::ProviderRegistry;
use crate::seed::{self, GitAuthor, Template};
use crate::sessions::{SessionId, SessionStore};
use crate::storage::conversation::Recorded;
use crate::storage::{FsError, OpenError, SessionDb, Stats, StorageError, Stores, meta};
use crate::tenants::Tenant;

/// How many live events a chat buffers for its slowest watcher. A watcher further behind skips
/// the oldest (and is told how many); the guest never waits for a watcher.
pub const EVENT_BUFFER: usize = 1024;

/// Why a service call failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// No session has that id.
    #[error("session '{0}' not found")]
    NotFound(SessionId),
    /// The chat failed.
    #[error(transparent)]
    Chat(#[from] ChatError),
    /// A git operation failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// An import (archive or repository) was refused or failed.
    #[error(transparent)]
    Import(#[from] ImportError),
    /// A git client's request broke the protocol.
    #[error(transparent)]
    GitProtocol(#[from] ProtocolError),
    /// A working-tree operation was refused (not found, not a file, quota, …).
    #[error(transparent)]
    Fs(#[from] FsError),
    /// A message sequence number names no message of the session.
    #[error("{0}")]
    NoSuchMessage(String),
    /// A conditional write's condition did not hold.
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    /// The session's storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The session's database could not be opened or created.
    #[error(transparent)]
    Open(OpenError),
    /// A blocking task could not finish (it panicked, or the runtime is shutting down).
    #[error("a background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// A chat is running on the session.
    #[error(transparent)]
    Busy(#[from] SessionBusy),
    /// No more chats can start (the server is shutting down).
    #[error("the server is shutting down")]
    ShuttingDown,
}

impl From<OpenError> for ServiceError {
    fn from(e: OpenError) -> Self {
        match e {
            OpenError::Storage(e) => Self::Storage(e),
            other => Self::Open(other),
        }
    }
}

/// What a session holds, at a glance.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    /// Totals over the working tree.
    pub stats: Stats,
    /// Messages in the conversation.
    pub message_count: u64,
    /// When the session was created, milliseconds since the Unix epoch.
    pub created_ms: Option<u64>,
    /// The template it started from.
    pub template: Option<String>,
    /// The current branch (`None`: detached HEAD).
    pub branch: Option<String>,
    /// HEAD's commit (`None`: no commits yet).
    pub head: Option<ObjectId>,
    /// Who commits are authored by.
    pub git_author: GitAuthor,
    /// The tenant that owns the session (`None`: the default tenant).
    pub owner: Option<String>,
}

/// A chat running in the background, as a watcher sees it.
pub struct LiveChat {
    /// Live events, until the chat ends.
    pub events: broadcast::Receiver<ChatEvent>,
    /// The chat's outcome.
    pub done: oneshot::Receiver<Result<ChatReply, ServiceError>>,
}

/// Every session of a server, and the chats running on them.
pub struct ChatService {
    sessions: SessionStore,
    engine: AgentEngine,
    providers: Arc<ProviderRegistry>,
    limits: ChatLimits,
    slots: Arc<Semaphore>,
    locks: SessionLocks,
    running: running::RunningChats,
}

impl ChatService {
    /// A service over `sessions`, running `engine`'s guest with `providers`; at most
    /// `max_concurrent_chats` chats run at once.
    pub fn new(
        sessions: SessionStore,
        engine: AgentEngine,
        providers: Arc<ProviderRegistry>,
        limits: ChatLimits,
        max_concurrent_chats: u32,
    ) -> Self {
        Self {
            sessions,
            engine,
            providers,
            limits,
            slots: Arc::new(Semaphore::new(max_concurrent_chats as usize)),
            locks: SessionLocks::default(),
            running: running::RunningChats::default(),
        }
    }

    /// The model providers.
    pub fn providers(&self) -> &ProviderRegistry {
        &self.providers
    }

    /// Opens an existing session's database. Blocking.
    pub fn open_blocking(&self, id: &SessionId) -> Result<SessionDb, ServiceError> {
        match self.sessions.open(id) {
            Err(OpenError::NotFound) => Err(ServiceError::NotFound(id.clone())),
            other => Ok(other?),
        }
    }

    /// Runs `f` over an existing session's stores in one read transaction, on a blocking thread.
    pub async fn read<T, E>(
        self: &Arc<Self>,
        id: &SessionId,
        f: impl FnOnce(Stores<'_>) -> Result<T, E> + Send + 'static,
    ) -> Result<T, ServiceError>
    where
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
        ServiceError: From<E>,
    {
        let (service, id) = (self.clone(), id.clone());
        tokio::task::spawn_blocking(move || Ok(service.open_blocking(&id)?.read(f)?)).await?
    }

    /// Runs `f` over an existing session's stores in one write transaction, on a blocking
    /// thread, once the session's lock is free: it never interleaves with a chat.
    pub async fn write<T, E>(
        self: &Arc<Self>,
        id: &SessionId,
        f: impl FnOnce(Stores<'_>) -> Result<T, E> + Send + 'static,
    ) -> Result<T, ServiceError>
    where
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
        ServiceError: From<E>,
    {
        self.with_session(id, move |db| Ok(db.write(f)?)).await
    }

    /// Runs `f` on an existing session's open database, on a blocking thread, holding the
    /// session's lock (no chat or other holder runs meanwhile) until `f` returns.
    pub async fn with_session<T: Send + 'static>(
        self: &Arc<Self>,
        id: &SessionId,
        f: impl FnOnce(&mut SessionDb) -> Result<T, ServiceError> + Send + 'static,
    ) -> Result<T, ServiceError> {
        let guard = self.locks.lock(id).await;
        let (service, id) = (self.clone(), id.clone());
        tokio::task::spawn_blocking(move || {
            let _held = guard;
            let mut db = service.open_blocking(&id)?;
            service.changing(&id)?;
            let result = f(&mut db);
            service.changed(&id, &db);
            result
        })
        .await?
    }

    /// What a session holds.
    pub async fn info(self: &Arc<Self>, id: &SessionId) -> Result<SessionInfo, ServiceError> {
        self.read(id, |s| {
            let repo = Repo::new(s);
            let (name, email) = repo.author()?;
            let (branch, head) = match (repo.current_branch(), repo.head_commit()) {
                (Err(GitError::NotARepository), _) | (_, Err(GitError::NotARepository)) => (None, None),
                (branch, head) => (branch?, head?),
            };
            let meta = s.meta();
            let created_ms = match meta.get(meta::CREATED_MS)? {
                Some(v) => Some(
                    v.parse()
                        .map_err(|e| StorageError::corrupt("meta", format!("{}: '{v}': {e}", meta::CREATED_MS)))?,
                ),
                None => None,
            };
            Ok::<_, ServiceError>(SessionInfo {
                stats: s.worktree().stats()?,
                message_count: s.conversation().count()?,
                created_ms,
                template: meta.get(meta::TEMPLATE)?,
                branch,
                head,
                git_author: GitAuthor { name, email },
                owner: meta.get(meta::OWNER)?.filter(|owner| !owner.is_empty()),
            })
        })
        .await
    }

    /// The session's conversation, oldest first: the whole record with its markers, or only what
    /// the model sees (`model_view`).
    pub async fn messages(self: &Arc<Self>, id: &SessionId, model_view: bool) -> Result<Vec<Recorded>, ServiceError> {
        self.read(id, move |s| {
            let conversation = s.conversation();
            if model_view {
                conversation.view()
            } else {
                conversation.record()
            }
        })
        .await
    }

    /// Runs a chat on the session once every chat before it has finished, creating the session
    /// (from the sample template) when it does not exist yet. Events go to `events`, if given.
    ///
    /// The session lock and the chat slot move into the blocking task: a caller that goes away
    /// mid-chat neither frees the session for a second, interleaved chat nor leaks the slot.
    pub async fn chat(
        self: &Arc<Self>,
        id: &SessionId,
        owner: &Tenant,
        request: ChatRequest,
        events: Option<broadcast::Sender<ChatEvent>>,
    ) -> Result<ChatReply, ServiceError> {
        let session_guard = self.locks.lock(id).await;
        let slot = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ServiceError::ShuttingDown)?;
        let (service, id, owner) = (self.clone(), id.clone(), owner.clone());
        let span = tracing::info_span!("chat", session = %id);
        tokio::task::spawn_blocking(move || {
            let _held = (session_guard, slot);
            let _entered = span.enter();
            let mut db = service.open_or_create(&id, &owner)?;
            service.changing(&id)?;
            // The files as the chat finds them (edits made since the last turn included): the
            // checkpoint after the last message.
            db.write(|s| Repo::new(s).record_checkpoint(s.conversation().last_seq()?))?;
            let running = service.running.start(&id);
            let reply = chat::run_chat(
                &service.engine,
                service.providers.clone(),
                db,
                request,
                service.limits,
                events,
                running.signal.clone(),
            );
            drop(running);
            match service.open_blocking(&id) {
                Ok(db) => service.changed(&id, &db),
                Err(e) => tracing::error!("cannot reopen the session to list it: {e}"),
            }
            match &reply {
                Ok(r) => tracing::info!(tools = r.tool_calls.len(), "chat done"),
                Err(e) => tracing::warn!(error = %e, "chat failed"),
            }
            Ok(reply?)
        })
        .await?
    }

    /// Asks the chat running on the session to stop at its next safe point (between steps, or
    /// in the middle of the model's answer). Returns whether a chat was running; an unknown
    /// session is not found.
    pub fn abort(&self, id: &SessionId) -> Result<bool, ServiceError> {
        if self.running.abort(id) {
            return Ok(true);
        }
        match self.sessions.exists(id) {
            true => Ok(false),
            false => Err(ServiceError::NotFound(id.clone())),
        }
    }

    /// Starts a chat in the background and watches it: its live events, then its outcome.
    pub fn watch_chat(self: &Arc<Self>, id: &SessionId, owner: &Tenant, request: ChatRequest) -> LiveChat {
        let (events_tx, events) = broadcast::channel(EVENT_BUFFER);
        let (done_tx, done) = oneshot::channel();
        let (service, id, owner) = (self.clone(), id.clone(), owner.clone());
        tokio::spawn(async move {
            let result = service.chat(&id, &owner, request, Some(events_tx)).await;
            let _ = done_tx.send(result);
        });
        LiveChat { events, done }
    }

    /// Opens the session, or creates it for `owner` when it does not exist. A session of another
    /// tenant is not found (it may have been created since the request's access check).
    fn open_or_create(&self, id: &SessionId, owner: &Tenant) -> Result<SessionDb, ServiceError> {
        match self.sessions.open(id) {
            Ok(db) => {
                let stored = db.read(|s| s.meta().get(meta::OWNER))?.unwrap_or_default();
                if stored != owner.name() {
                    return Err(ServiceError::NotFound(id.clone()));
                }
                Ok(db)
            }
            Err(OpenError::NotFound) => {
                self.create_blocking(
                    id,
                    owner,
                    |sessions, id| sessions.create(id),
                    |db| Ok(seed::seed(db, Template::Sample, None)?),
                )?;
                Ok(self.sessions.open(id)?)
            }
            other => Ok(other?),
        }
    }
}

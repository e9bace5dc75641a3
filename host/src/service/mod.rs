//! The chat service: each session's lifecycle, between the HTTP adapters and the runtime.
//!
//! It owns the per-session lock (one chat at a time per session, others wait their turn), the
//! chat slots (at most as many chats at once as the instance pool holds), opening or creating a
//! session's database, running the chat (a fiber on the runtime), and the live event fan-out. HTTP
//! handlers ([`crate::http`]) only translate requests and answers; another embedder can drive
//! sessions through this type alone.

mod checkpoints;
mod events;
mod files;
mod git_transport;
mod git_views;
mod import;
mod lifecycle;
mod locks;
mod running;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use gix_hash::ObjectId;
use tokio::sync::{Semaphore, oneshot};
use tracing::Instrument;

pub use self::checkpoints::Reverted;
pub use self::events::{
    EventHub, LINGER, MAX_BUFFERED_BYTES, MAX_BUFFERED_EVENTS, Next, Numbered, SessionEvent, Viewer,
};
pub use self::files::{PathView, WriteCondition, Written};
pub use self::git_transport::UploadPack;
pub use self::git_views::{CheckpointFiles, WorktreeDiff};
pub use self::lifecycle::{Page, SessionBusy, SessionSetup};
pub use self::locks::SessionLocks;
use crate::agents::{Agents, UnknownAgent};
use crate::chat::{self, ChatError, ChatLimits, ChatReply, ChatRequest};
use crate::git::transport::ProtocolError;
use crate::git::{GitError, Repo};
use crate::import::ImportError;
use crate::llm::ProviderRegistry;
use crate::seed::{self, GitAuthor, Template};
use crate::sessions::{SessionId, SessionStore};
use crate::storage::conversation::Recorded;
use crate::storage::{FsError, OpenError, SessionDb, Stats, StorageError, Stores, meta};
use crate::telemetry;
use crate::tenants::Tenant;

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
    /// A new session asked for an agent this server does not run.
    #[error(transparent)]
    UnknownAgent(#[from] UnknownAgent),
    /// The session's agent is not one this server runs (any more).
    #[error("the session's agent is missing: {0}")]
    AgentGone(UnknownAgent),
    /// No more chats can start (the server is shutting down).
    #[error("the server is shutting down")]
    ShuttingDown,
    /// A failure also told to others (a chat's viewers).
    #[error(transparent)]
    Shared(Arc<ServiceError>),
}

impl ServiceError {
    /// A short fixed name for the kind of failure (a metrics label).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "not_found",
            Self::Chat(chat) => chat.kind(),
            Self::Git(_) | Self::GitProtocol(_) => "git",
            Self::Import(_) => "import",
            Self::Fs(_) => "workspace",
            Self::NoSuchMessage(_) => "invalid_request",
            Self::PreconditionFailed(_) => "precondition_failed",
            Self::Storage(_) | Self::Open(_) => "storage",
            Self::Task(_) => "internal",
            Self::Busy(_) => "busy",
            Self::ShuttingDown => "shutting_down",
            Self::UnknownAgent(_) => "unknown_agent",
            Self::AgentGone(_) => "agent_gone",
            Self::Shared(inner) => inner.kind(),
        }
    }
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
    /// The size of the last prompt a model answered, in tokens (0: none yet).
    pub context_tokens: u64,
    /// Compactions of the conversation so far.
    pub compactions: u64,
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
    /// The agent it runs (`None`: the default agent; a session from before agents had names).
    pub agent: Option<String>,
    /// `sha256:<hex>` of the agent component it was created with (`None`: not recorded).
    pub agent_hash: Option<String>,
}

/// A chat running in the background, as a watcher sees it.
pub struct LiveChat {
    /// The chat's id (its events carry it).
    pub chat_id: u64,
    /// The session's events from just before the chat was queued: the chat's are among them.
    pub events: Viewer,
    /// The chat's outcome, once its events are all appended.
    pub done: oneshot::Receiver<Finished>,
}

/// How a chat ended.
pub struct Finished {
    /// The id of its `chat_end` event (`None`: it failed before it started).
    pub end_id: Option<u64>,
    /// Its reply, or why it failed.
    pub result: Result<ChatReply, ServiceError>,
}

/// Where a viewer of a session's events starts.
pub enum Rejoined {
    /// Right after the event it named (or, named none, from now on).
    Resumed(Viewer),
    /// The event it named is gone: it should reload the record, and gets live events from now.
    Reset(Viewer),
}

/// Chats running and waiting, counted as they come and go.
#[derive(Debug, Default)]
struct ChatLoad {
    /// Holding a chat slot (running, or waiting for the model).
    in_flight: AtomicU64,
    /// Waiting for their session (another chat of it runs) or for a slot.
    queued: AtomicU64,
    /// The number of slots.
    max: u64,
}

/// One chat counted in one of [`ChatLoad`]'s counters while this lives.
struct Counted {
    load: Arc<ChatLoad>,
    counter: fn(&ChatLoad) -> &AtomicU64,
}

impl Counted {
    fn new(load: &Arc<ChatLoad>, counter: fn(&ChatLoad) -> &AtomicU64) -> Self {
        counter(load).fetch_add(1, Ordering::Relaxed);
        Self {
            load: load.clone(),
            counter,
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        (self.counter)(&self.load).fetch_sub(1, Ordering::Relaxed);
    }
}

/// How many chats run and wait, at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadSnapshot {
    /// Chats holding a slot: running, or waiting for the model.
    pub in_flight: u64,
    /// Chats waiting for their session or for a slot.
    pub queued: u64,
    /// Slots: the most chats in flight at once (`--max-chats`).
    pub max: u64,
}

/// Every session of a server, and the chats running on them.
pub struct ChatService {
    sessions: SessionStore,
    agents: Agents,
    providers: Arc<ProviderRegistry>,
    limits: ChatLimits,
    slots: Arc<Semaphore>,
    load: Arc<ChatLoad>,
    locks: SessionLocks,
    running: running::RunningChats,
    hubs: events::EventHubs,
}

impl ChatService {
    /// A service over `sessions`, running `agents` with `providers`; at most
    /// `max_concurrent_chats` chats run at once.
    pub fn new(
        sessions: SessionStore,
        agents: Agents,
        providers: Arc<ProviderRegistry>,
        limits: ChatLimits,
        max_concurrent_chats: u32,
    ) -> Self {
        Self {
            sessions,
            agents,
            providers,
            limits,
            slots: Arc::new(Semaphore::new(max_concurrent_chats as usize)),
            load: Arc::new(ChatLoad {
                max: u64::from(max_concurrent_chats),
                ..ChatLoad::default()
            }),
            locks: SessionLocks::default(),
            running: running::RunningChats::default(),
            hubs: events::EventHubs::default(),
        }
    }

    /// How many chats run and wait, server-wide.
    pub fn load(&self) -> LoadSnapshot {
        LoadSnapshot {
            in_flight: self.load.in_flight.load(Ordering::Relaxed),
            queued: self.load.queued.load(Ordering::Relaxed),
            max: self.load.max,
        }
    }

    /// The agents this server runs.
    pub fn agents(&self) -> &Agents {
        &self.agents
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
                context_tokens: s.conversation().last_prompt_tokens()?,
                compactions: s.conversation().compactions()?,
                created_ms,
                template: meta.get(meta::TEMPLATE)?,
                branch,
                head,
                git_author: GitAuthor { name, email },
                owner: meta.get(meta::OWNER)?.filter(|owner| !owner.is_empty()),
                agent: meta.get(meta::AGENT)?,
                agent_hash: meta.get(meta::AGENT_HASH)?,
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
    /// (from the sample template) when it does not exist yet. Its events go to the session's
    /// viewers ([`ChatService::watch_session`]).
    pub async fn chat(
        self: &Arc<Self>,
        id: &SessionId,
        owner: &Tenant,
        request: ChatRequest,
    ) -> Result<ChatReply, ServiceError> {
        let hub = self.hubs.hub(id);
        let chat_id = hub.next_id();
        self.run(id, owner, request, hub, chat_id).await.result
    }

    /// Runs a chat whose events go to `hub` as chat `chat_id`, between `chat_start` and
    /// `chat_end`.
    ///
    /// The chat runs as its own task, holding the session lock and the chat slot: a caller that
    /// goes away mid-chat neither frees the session for a second, interleaved chat nor leaks the
    /// slot. Opening the session and listing it afterwards are blocking work, done on the
    /// blocking pool; the chat itself is a fiber on the runtime.
    async fn run(
        self: &Arc<Self>,
        id: &SessionId,
        owner: &Tenant,
        request: ChatRequest,
        hub: Arc<EventHub>,
        chat_id: u64,
    ) -> Finished {
        let started = Instant::now();
        telemetry::chat_started();
        let finished = self.run_counted(id, owner, request, hub, chat_id).await;
        match &finished.result {
            Ok(reply) => telemetry::chat_finished(reply.stop.as_str(), started.elapsed()),
            Err(e) => telemetry::chat_failed(e.kind(), started.elapsed()),
        }
        finished
    }

    /// [`ChatService::run`], without its accounting.
    async fn run_counted(
        self: &Arc<Self>,
        id: &SessionId,
        owner: &Tenant,
        request: ChatRequest,
        hub: Arc<EventHub>,
        chat_id: u64,
    ) -> Finished {
        let queued = Counted::new(&self.load, |load| &load.queued);
        let session_guard = self.locks.lock(id).await;
        let Ok(slot) = self.slots.clone().acquire_owned().await else {
            return Finished {
                end_id: None,
                result: Err(ServiceError::ShuttingDown),
            };
        };
        drop(queued);
        let slot = (slot, Counted::new(&self.load, |load| &load.in_flight));
        let (service, id, owner) = (self.clone(), id.clone(), owner.clone());
        let span = tracing::info_span!("chat", session = %id, chat = chat_id);
        let task = async move {
            let _held = (session_guard, slot);
            let permit = crate::open_dbs::acquire().await;
            let opened = {
                let (service, id, span) = (service.clone(), id.clone(), tracing::Span::current());
                tokio::task::spawn_blocking(move || {
                    let _in_chat = span.enter();
                    let mut db = service.open_or_create(&id, &owner)?;
                    let name = db.read(|s| s.meta().get(meta::AGENT))?;
                    let agent = service
                        .agents
                        .get(name.as_deref())
                        .map_err(ServiceError::AgentGone)?
                        .clone();
                    service.changing(&id)?;
                    // The files as the chat finds them (edits made since the last turn
                    // included): the checkpoint after the last message.
                    db.write(|s| Repo::new(s).record_checkpoint(s.conversation().last_seq()?))?;
                    Ok::<_, ServiceError>((db, agent))
                })
                .await??
            };
            let (opened, agent) = opened;
            let running = service.running.start(&id, chat_id);
            let message = request.message.clone();
            hub.append(chat_id, SessionEvent::ChatStart { message });
            let sink = Arc::new(events::ChatSink {
                hub: hub.clone(),
                chat_id,
            });
            let run = chat::run_chat(
                &agent.engine,
                service.providers.clone(),
                chat::ChatDb {
                    db: opened,
                    permit: Some(permit),
                },
                request,
                service.limits,
                Some(sink),
                running.signal.clone(),
            )
            .await;
            drop(running);
            let (reply, db) = (run.reply, run.db);
            let listed = {
                let (service, id, span) = (service.clone(), id.clone(), tracing::Span::current());
                tokio::task::spawn_blocking(move || span.in_scope(|| service.changed(&id, &db)))
            };
            if let Err(e) = listed.await {
                tracing::error!("listing the session failed: {e}");
            }
            let stop_reason = match &reply {
                Ok(r) => {
                    tracing::info!(tools = r.tool_calls.len(), "chat done");
                    r.stop.as_str()
                }
                Err(e @ (ChatError::Llm(_) | ChatError::InvalidRequest(_))) => {
                    tracing::warn!(error = %e, "chat failed");
                    "error"
                }
                Err(e) => {
                    tracing::error!(error = %e, "chat failed");
                    "error"
                }
            };
            let stop_reason = stop_reason.to_string();
            let outcome = reply.map_err(|e| Arc::new(ServiceError::from(e)));
            let end_id = hub.append(
                chat_id,
                SessionEvent::ChatEnd {
                    stop_reason,
                    outcome: Box::new(outcome.clone()),
                },
            );
            // The chat's events stay rejoinable for a while after it, watched or not.
            tokio::spawn(async move {
                tokio::time::sleep(LINGER).await;
                drop(hub);
            });
            Ok::<_, ServiceError>((end_id, outcome))
        };
        let ran = tokio::spawn(task.instrument(span)).await;
        match ran {
            Ok(Ok((end_id, reply))) => Finished {
                end_id: Some(end_id),
                result: reply.map_err(ServiceError::Shared),
            },
            Ok(Err(e)) => Finished {
                end_id: None,
                result: Err(e),
            },
            Err(e) => Finished {
                end_id: None,
                result: Err(e.into()),
            },
        }
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

    /// Asks chat `chat_id` of the session to stop: at once if it runs, as soon as it starts if
    /// it is still waiting for the session. Another chat of the session is left alone.
    pub fn abort_chat(&self, id: &SessionId, chat_id: u64) {
        self.running.abort_chat(id, chat_id);
    }

    /// Starts a chat in the background and watches it: its live events, then its outcome.
    pub fn watch_chat(self: &Arc<Self>, id: &SessionId, owner: &Tenant, request: ChatRequest) -> LiveChat {
        let hub = self.hubs.hub(id);
        let events = hub.view_from_now();
        let chat_id = hub.next_id();
        let (done_tx, done) = oneshot::channel();
        let (service, id, owner) = (self.clone(), id.clone(), owner.clone());
        tokio::spawn(async move {
            let finished = service.run(&id, &owner, request, hub, chat_id).await;
            let _ = done_tx.send(finished);
        });
        LiveChat { chat_id, events, done }
    }

    /// Rejoins the chat that the event `last_event_id` of the session belongs to: the chat's
    /// id and a viewer of the session's events after that one, or `None` when that event is no
    /// longer buffered.
    pub async fn rejoin_chat(
        self: &Arc<Self>,
        id: &SessionId,
        owner: &Tenant,
        last_event_id: u64,
    ) -> Result<Option<(u64, Viewer)>, ServiceError> {
        self.require_owner(id, owner).await?;
        Ok(self.hubs.hub(id).rejoin_chat(last_event_id))
    }

    /// Watches an existing session's events: every chat's, whoever started it. With
    /// `last_event_id`, resumes right after that event when the buffer still holds what
    /// followed it, and otherwise says so ([`Rejoined::Reset`]).
    pub async fn watch_session(
        self: &Arc<Self>,
        id: &SessionId,
        owner: &Tenant,
        last_event_id: Option<u64>,
    ) -> Result<Rejoined, ServiceError> {
        self.require_owner(id, owner).await?;
        let hub = self.hubs.hub(id);
        Ok(match last_event_id {
            None => Rejoined::Resumed(hub.view_from_now()),
            Some(last) => match hub.view_after(last) {
                Some(viewer) => Rejoined::Resumed(viewer),
                None => Rejoined::Reset(hub.view_from_now()),
            },
        })
    }

    /// Refuses (as not found) a session that does not exist or that another tenant owns. The
    /// HTTP layer checks ownership before every session route; long-lived watches check again,
    /// since the session may have been created between that check and this call.
    async fn require_owner(self: &Arc<Self>, id: &SessionId, owner: &Tenant) -> Result<(), ServiceError> {
        match self.owner_of(id).await? {
            Some(found) if found == *owner => Ok(()),
            _ => Err(ServiceError::NotFound(id.clone())),
        }
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
                    Some(self.agents.get(None)?),
                    |sessions, id| sessions.create(id),
                    |db| Ok(seed::seed(db, Template::Sample, None)?),
                )?;
                Ok(self.sessions.open(id)?)
            }
            other => Ok(other?),
        }
    }
}

//! One chat: a fresh guest instance in its own store, run to completion on a fiber.
//! The runtime half of a chat; [`service`](crate::service) decides when and on which session.
//!
//! The guest runs with Wasmtime's async support: while it waits for the model it is a suspended
//! fiber (no thread; when open databases run short, its session database suspended too, see
//! [`crate::open_dbs`]), and every epoch tick it yields to the
//! executor, so a spinning guest cannot starve the other chats. Its CPU budget counts the time it
//! runs: wall time less model waits and less time spent yielded.

use crate::abort::AbortSignal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use wasmtime::component::ResourceTable;
use wasmtime::{Store, StoreLimits, StoreLimitsBuilder, UpdateDeadline};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::exports::pi::worker::agent;
use crate::engine::AgentEngine;
use crate::git::GitError;
use crate::interfaces::git::{GitCtxView, GitView};
use crate::interfaces::llm::{LlmCtx, LlmCtxView, LlmView};
use crate::interfaces::process::{ProcessCtx, ProcessCtxView, ProcessView};
use crate::interfaces::session::{ChatEvent, EventSink, SessionCtx, SessionCtxView, SessionView};
use crate::interfaces::workspace::{WorkspaceCtxView, WorkspaceView};
use crate::llm::{LlmError, ProviderRegistry};
use crate::message::Usage;
use crate::open_dbs::DbPermit;
use crate::program::{LiveOutput, RunLimits};
use crate::storage::{FsError, SessionDb, StorageError};

/// Per-chat limits.
#[derive(Debug, Clone, Copy)]
pub struct ChatLimits {
    /// Model calls allowed in one chat.
    pub max_turns: u32,
    /// Longest tool result fed back to the model, in bytes.
    pub max_tool_output_bytes: u32,
    /// Guest CPU time allowed in one chat (time spent waiting for the model not counted).
    pub max_guest_cpu: Duration,
    /// Largest linear memory the guest may grow to.
    pub max_memory_bytes: usize,
    /// How full a model's context window may get, in percent, before the agent compacts.
    pub compact_at_percent: u8,
    /// Limits of each program the agent runs (`pi:worker/process`).
    pub run: RunLimits,
}

/// What a client asked.
#[derive(Debug, Clone)]
pub struct ChatRequest {
    /// The user's message.
    pub message: String,
    /// The model, if not the default.
    pub model: Option<String>,
}

/// A tool call the agent ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCallRecord {
    /// The tool's name.
    pub tool: String,
    /// Its arguments as JSON text.
    pub args: String,
}

/// The result of a chat.
#[derive(Debug, Clone)]
pub struct ChatReply {
    /// The model's text.
    pub response: String,
    /// Tool calls, in the order they ran.
    pub tool_calls: Vec<ToolCallRecord>,
    /// Tokens over all model calls.
    pub usage: Usage,
    /// How the chat ended.
    pub stop: ChatStop,
}

/// How a chat ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatStop {
    /// The model finished.
    EndTurn,
    /// The turn limit stopped it.
    MaxTurns,
    /// The repeat guard stopped a model making the same call over and over.
    RepeatGuard,
    /// Someone aborted the chat.
    Aborted,
}

impl ChatStop {
    /// The name the API reports (`stopReason`).
    pub fn as_str(self) -> &'static str {
        match self {
            ChatStop::EndTurn => "end_turn",
            ChatStop::MaxTurns => "max_turns",
            ChatStop::RepeatGuard => "repeat_guard",
            ChatStop::Aborted => "aborted",
        }
    }
}

/// Why a chat failed.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// The model call failed.
    #[error("{0}")]
    Llm(#[source] LlmError),
    /// The agent refused the request.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The guest used up its CPU time.
    #[error("the agent exceeded its CPU time limit of {0:?} and was stopped")]
    CpuLimit(Duration),
    /// The guest trapped (crashed, or hit its memory limit). The error keeps the trap's
    /// backtrace and context.
    #[error("the agent crashed: {0:#}")]
    Trap(wasmtime::Error),
    /// A host fault ended the chat: an import trapped because the session's storage failed.
    #[error("storage failed during the chat: {0:#}")]
    HostFault(wasmtime::Error),
    /// The host could not set up the chat.
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ChatError {
    /// A short fixed name for the kind of failure (a metrics label).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Llm(e) => e.kind(),
            Self::InvalidRequest(_) => "invalid_request",
            Self::CpuLimit(_) => "cpu_limit",
            Self::Trap(_) => "guest_trap",
            Self::HostFault(_) => "storage",
            Self::Internal(_) => "internal",
        }
    }

    /// Sorts a trap: the CPU limit, a host fault raised by an import, or the guest's own crash.
    fn from_trap(e: wasmtime::Error, cpu_budget: Duration) -> Self {
        if e.downcast_ref::<CpuLimitExceeded>().is_some() {
            Self::CpuLimit(cpu_budget)
        } else if e.downcast_ref::<StorageError>().is_some()
            || e.downcast_ref::<FsError>().is_some()
            || e.downcast_ref::<GitError>().is_some()
        {
            Self::HostFault(e)
        } else {
            Self::Trap(e)
        }
    }
}

/// Marker error raised by the epoch callback when the CPU budget is spent.
#[derive(Debug, thiserror::Error)]
#[error("guest CPU time limit exceeded")]
struct CpuLimitExceeded;

/// A chat's session database, and its [permit](crate::open_dbs) when the process bounds open
/// databases (the server does; a bench or an embedder may not).
pub struct ChatDb {
    /// The database.
    pub db: SessionDb,
    /// Leave to hold it open.
    pub permit: Option<DbPermit>,
}

impl From<SessionDb> for ChatDb {
    fn from(db: SessionDb) -> Self {
        Self { db, permit: None }
    }
}

/// Everything a chat's store holds.
pub struct ChatState {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: StoreLimits,
    db: SessionDb,
    db_permit: Option<DbPermit>,
    llm: LlmCtx,
    session: SessionCtx,
    process: ProcessCtx,
}

impl WasiView for ChatState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WorkspaceView for ChatState {
    fn workspace(&mut self) -> WorkspaceCtxView<'_> {
        WorkspaceCtxView { db: &mut self.db }
    }
}

impl GitView for ChatState {
    fn git(&mut self) -> GitCtxView<'_> {
        GitCtxView { db: &mut self.db }
    }
}

impl LlmView for ChatState {
    fn llm(&mut self) -> LlmCtxView<'_> {
        LlmCtxView {
            ctx: &mut self.llm,
            table: &mut self.table,
            idle_db: Some((&mut self.db, &mut self.db_permit)),
        }
    }
}

impl ProcessView for ChatState {
    fn process(&mut self) -> ProcessCtxView<'_> {
        // A program's output streams as `tool-output` events of the tool call in flight.
        let live = match (&self.session.events, &self.session.tool_call) {
            (Some(events), Some(id)) => {
                let (events, id) = (events.clone(), id.clone());
                let live: LiveOutput = Arc::new(move |stream, text| {
                    events.emit(ChatEvent::ToolOutput {
                        id: id.clone(),
                        stream,
                        text: text.to_string(),
                    });
                });
                Some(live)
            }
            _ => None,
        };
        ProcessCtxView {
            ctx: &mut self.process,
            db: &mut self.db,
            live,
            abort: self.session.abort.clone(),
        }
    }
}

impl SessionView for ChatState {
    fn session(&mut self) -> SessionCtxView<'_> {
        SessionCtxView {
            ctx: &mut self.session,
            db: &mut self.db,
        }
    }
}

/// A fresh store for one chat: the session's database, the providers, the limits and the live
/// event sink. Its guest must be run with `call_async` (see [`run_chat`]) on a Tokio runtime.
pub fn new_store(
    engine: &AgentEngine,
    providers: Arc<ProviderRegistry>,
    db: ChatDb,
    limits: ChatLimits,
    events: Option<Arc<dyn EventSink>>,
    abort: Arc<AbortSignal>,
) -> Store<ChatState> {
    let state = ChatState {
        // No preopened directories, no environment, no arguments, no network: the WASI defaults.
        wasi: WasiCtx::builder().build(),
        table: ResourceTable::new(),
        limits: StoreLimitsBuilder::new()
            .memory_size(limits.max_memory_bytes)
            .trap_on_grow_failure(true)
            .build(),
        db: db.db,
        db_permit: db.permit,
        llm: LlmCtx::new(providers).with_abort(abort.clone()),
        session: SessionCtx {
            events,
            abort,
            tool_call: None,
        },
        process: ProcessCtx {
            runner: engine.programs().clone(),
            limits: limits.run,
            ran: Duration::ZERO,
        },
    };
    let mut store = Store::new(engine.engine(), state);
    store.limiter(|s| &mut s.limits);
    let started = Instant::now();
    let budget = limits.max_guest_cpu;
    // Nanoseconds spent yielded to other chats, waiting to be scheduled again.
    let yielded = Arc::new(AtomicU64::new(0));
    // Checked every epoch tick while the guest runs: its CPU time is wall time less model waits
    // and less time yielded. Within budget, it yields to the executor (fairness) and goes on.
    store.epoch_deadline_callback(move |ctx| {
        let off_cpu =
            ctx.data().llm.waited() + ctx.data().process.ran + Duration::from_nanos(yielded.load(Ordering::Relaxed));
        if started.elapsed().saturating_sub(off_cpu) > budget {
            return Err(CpuLimitExceeded.into());
        }
        let yielded = yielded.clone();
        Ok(UpdateDeadline::YieldCustom(
            1,
            Box::pin(async move {
                let since = Instant::now();
                tokio::task::yield_now().await;
                yielded.fetch_add(since.elapsed().as_nanos() as u64, Ordering::Relaxed);
            }),
        ))
    });
    store.set_epoch_deadline(1);
    store
}

/// A finished chat: how it ended, and the session's database back, for the caller to read what
/// the chat changed without opening it again.
pub struct ChatRun {
    /// The chat's reply, or why it failed.
    pub reply: Result<ChatReply, ChatError>,
    /// The session's database.
    pub db: SessionDb,
}

/// Runs one chat to completion, on the current Tokio runtime.
pub async fn run_chat(
    engine: &AgentEngine,
    providers: Arc<ProviderRegistry>,
    db: ChatDb,
    request: ChatRequest,
    limits: ChatLimits,
    events: Option<Arc<dyn EventSink>>,
    abort: Arc<AbortSignal>,
) -> ChatRun {
    let context_tokens = providers.context_tokens(request.model.as_deref());
    let mut store = new_store(engine, providers, db, limits, events, abort);
    let request = agent::ChatRequest {
        message: request.message,
        model: request.model,
        max_turns: limits.max_turns,
        max_tool_output_bytes: limits.max_tool_output_bytes,
        context_tokens,
        compact_at_percent: limits.compact_at_percent,
    };
    let instantiating = Instant::now();
    let instance = engine.pre().instantiate_async(&mut store).await;
    crate::telemetry::guest_instantiated(instantiating.elapsed());
    let outcome = match instance {
        Ok(world) => world.pi_worker_agent().call_chat(&mut store, &request).await,
        Err(e) => Err(e),
    };
    let reply = match outcome {
        Ok(Ok(reply)) => Ok(ChatReply {
            response: reply.response,
            tool_calls: reply
                .tool_calls
                .into_iter()
                .map(|c| ToolCallRecord {
                    tool: c.tool,
                    args: c.args,
                })
                .collect(),
            usage: Usage {
                input_tokens: reply.usage.input_tokens,
                output_tokens: reply.usage.output_tokens,
                cache_read_tokens: reply.usage.cache_read_tokens,
                cache_write_tokens: reply.usage.cache_write_tokens,
            },
            stop: match reply.outcome {
                agent::ChatOutcome::Done => ChatStop::EndTurn,
                agent::ChatOutcome::TurnLimit => ChatStop::MaxTurns,
                agent::ChatOutcome::RepeatGuard => ChatStop::RepeatGuard,
                agent::ChatOutcome::Aborted => ChatStop::Aborted,
            },
        }),
        Ok(Err(agent::AgentError::Llm(e))) => Err(ChatError::Llm(e.into())),
        Ok(Err(agent::AgentError::InvalidRequest(m))) => Err(ChatError::InvalidRequest(m)),
        Err(e) => Err(ChatError::from_trap(e, limits.max_guest_cpu)),
    };
    ChatRun {
        reply,
        db: store.into_data().db,
    }
}

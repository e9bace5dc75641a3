//! A foreign host runs the pi-worker agent in its own Wasmtime store, with no HTTP server: it
//! links our `workspace`, `git` and `session` interfaces with their `add_to_linker`, backs them
//! with a session database of ours in a directory of its choosing, and brings its own `llm`: a
//! canned model that first asks to write a file, then answers in text; and its own `process`,
//! which runs no programs (the agent's `run` tool then says so). It runs one chat, prints what
//! happened and checks it (a wrong result ends the program with an error).
//!
//! Run it with `cargo run -p pi-worker --example embed`.

use std::collections::VecDeque;

use futures_util::stream;
use pi_worker::bindings::AgentWorld;
use pi_worker::bindings::exports::pi::worker::agent::{ChatOutcome, ChatRequest};
use pi_worker::bindings::pi::worker::llm::{self as wit_llm, Host, HostResponseStream};
use pi_worker::bindings::pi::worker::process as wit_process;
use pi_worker::interfaces::git::{self, GitCtxView, GitView};
use pi_worker::interfaces::llm::ResponseStream;
use pi_worker::interfaces::session::{self, SessionCtx, SessionCtxView, SessionView};
use pi_worker::interfaces::workspace::{self, WorkspaceCtxView, WorkspaceView};
use pi_worker::llm::{StopReason, StreamEvent};
use pi_worker::message::{ToolCall, Usage};
use pi_worker::seed::{Template, seed};
use pi_worker::storage::{SessionDb, StorageOptions};
use wasmtime::component::{Component, HasSelf, Linker, Resource, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// The embedder's own store data: WASI, our session database, and its own model.
struct Embedder {
    wasi: WasiCtx,
    table: ResourceTable,
    db: SessionDb,
    session: SessionCtx,
    /// The canned model's answers, one per model call, in order.
    answers: VecDeque<Vec<StreamEvent>>,
    /// How many model calls the agent made.
    calls: usize,
}

impl WasiView for Embedder {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WorkspaceView for Embedder {
    fn workspace(&mut self) -> WorkspaceCtxView<'_> {
        WorkspaceCtxView { db: &mut self.db }
    }
}

impl GitView for Embedder {
    fn git(&mut self) -> GitCtxView<'_> {
        GitCtxView { db: &mut self.db }
    }
}

impl SessionView for Embedder {
    fn session(&mut self) -> SessionCtxView<'_> {
        SessionCtxView {
            ctx: &mut self.session,
            db: &mut self.db,
        }
    }
}

/// The embedder's `pi:worker/llm`: each call streams the next canned answer.
impl Host for Embedder {
    async fn complete(
        &mut self,
        _request: wit_llm::Request,
    ) -> wasmtime::Result<Result<Resource<ResponseStream>, wit_llm::LlmError>> {
        self.calls += 1;
        let Some(answer) = self.answers.pop_front() else {
            return Ok(Err(wit_llm::LlmError::Protocol(
                "the canned model has no more answers".into(),
            )));
        };
        let events = Box::pin(stream::iter(answer.into_iter().map(Ok)));
        Ok(Ok(self.table.push(ResponseStream::new("canned", events))?))
    }
}

/// No programs run in this host: `run` answers `unsupported`, a clean error the agent reports,
/// and there are no built-in programs.
impl wit_process::Host for Embedder {
    fn builtins(&mut self) -> wasmtime::Result<Vec<wit_process::Builtin>> {
        Ok(Vec::new())
    }

    async fn run(
        &mut self,
        _request: wit_process::RunRequest,
    ) -> wasmtime::Result<Result<wit_process::Outcome, wit_process::RunError>> {
        Ok(Err(wit_process::RunError::Unsupported(
            "this host runs no programs".into(),
        )))
    }
}

impl HostResponseStream for Embedder {
    async fn next(
        &mut self,
        stream: Resource<ResponseStream>,
    ) -> wasmtime::Result<Result<Option<wit_llm::StreamEvent>, wit_llm::LlmError>> {
        Ok(self.table.get_mut(&stream)?.next_event().await)
    }

    fn drop(&mut self, stream: Resource<ResponseStream>) -> wasmtime::Result<()> {
        self.table.delete(stream)?;
        Ok(())
    }
}

/// The end of one canned answer.
fn finish(stop_reason: StopReason) -> StreamEvent {
    StreamEvent::Finish {
        stop_reason,
        usage: Usage::default(),
    }
}

/// Runs one chat of the built-in agent in the embedder's store, prints what happened and checks it.
async fn embed() -> wasmtime::Result<()> {
    // Our storage, in a directory the embedder picked; seeded as `POST /session/new` would.
    let dir = tempfile::tempdir()?;
    let mut db = SessionDb::create(
        &dir.path().join("session.sqlite"),
        &dir.path().join("blobs"),
        StorageOptions::default(),
    )?;
    seed(&mut db, Template::Empty, None)?;

    let write_args = r#"{"path":"hello.txt","content":"hello from the embedder\n"}"#;
    let answers = VecDeque::from([
        vec![
            StreamEvent::ToolCall(ToolCall {
                id: "call-1".into(),
                name: "write".into(),
                arguments: write_args.into(),
            }),
            finish(StopReason::ToolUse),
        ],
        vec![
            StreamEvent::TextDelta("I wrote hello.txt.".into()),
            finish(StopReason::EndTurn),
        ],
    ]);

    let engine = Engine::new(Config::new().wasm_component_model(true))?;
    let mut linker = Linker::<Embedder>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    workspace::add_to_linker(&mut linker)?;
    git::add_to_linker(&mut linker)?;
    session::add_to_linker(&mut linker)?;
    wit_llm::add_to_linker::<_, HasSelf<Embedder>>(&mut linker, |state| state)?;
    wit_process::add_to_linker::<_, HasSelf<Embedder>>(&mut linker, |state| state)?;

    let state = Embedder {
        wasi: WasiCtx::builder().build(),
        table: ResourceTable::new(),
        db,
        session: SessionCtx::default(),
        answers,
        calls: 0,
    };
    let mut store = Store::new(&engine, state);
    let component = Component::new(&engine, pi_worker::DEFAULT_GUEST)?;
    let agent = AgentWorld::instantiate_async(&mut store, &component, &linker).await?;
    let request = ChatRequest {
        message: "Write hello.txt".into(),
        model: None,
        max_turns: 10,
        max_tool_output_bytes: 50_000,
        context_tokens: 200_000,
        compact_at_percent: 80,
    };
    let reply = agent
        .pi_worker_agent()
        .call_chat(&mut store, &request)
        .await?
        .map_err(|e| wasmtime::format_err!("the agent failed: {e:?}"))?;

    let state = store.into_data();
    let written = state.db.read(|s| s.worktree().read("hello.txt"))?;
    let written = String::from_utf8(written)?;
    println!("reply: {}", reply.response);
    for call in &reply.tool_calls {
        println!("tool call: {} {}", call.tool, call.args);
    }
    println!("model calls: {}", state.calls);
    print!("hello.txt: {written}");

    assert_eq!(reply.response, "I wrote hello.txt.");
    assert!(matches!(reply.outcome, ChatOutcome::Done));
    assert_eq!(reply.tool_calls.len(), 1);
    assert_eq!(reply.tool_calls[0].tool, "write");
    assert_eq!(state.calls, 2);
    assert_eq!(written, "hello from the embedder\n");
    Ok(())
}

fn main() -> wasmtime::Result<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(embed())
}

//! `pi:worker/process`: programs run over the session's workspace (see [`crate::program`]).
//!
//! A run holds its session's directory (see [`crate::program::workdir`]) from start to end. It
//! reads the program and brings the directory in step with the workspace in one read
//! transaction, runs the program there, and stores what it changed in one write transaction:
//! all of it, or (a quota, a refused path) none of it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use gix_object::Kind;
use wasmtime::component::{HasData, Linker};

use crate::abort::AbortSignal;
use crate::bindings::pi::worker::process::{self as wit, Host};
use crate::program::builtin::{self, Builtin};
use crate::program::workdir;
use crate::program::{LiveOutput, ProgramError, ProgramExit, ProgramRunner, RunLimits, WriteBudget};
use crate::storage::objects::object_id;
use crate::storage::path::normalize;
use crate::storage::{FsError, SessionDb};

/// State behind `pi:worker/process` that is not the database.
#[derive(Debug, Clone)]
pub struct ProcessCtx {
    /// The engine's runner and its compiled programs.
    pub runner: Arc<ProgramRunner>,
    /// Limits of each run.
    pub limits: RunLimits,
    /// Wall-clock time spent in `run` calls (preparing, compiling, running, storing), so the
    /// chat's own CPU budget does not count it.
    pub ran: Duration,
}

/// Borrowed access to what `pi:worker/process` needs.
pub struct ProcessCtxView<'a> {
    /// The runner and limits.
    pub ctx: &'a mut ProcessCtx,
    /// The session's database.
    pub db: &'a mut SessionDb,
    /// Where a program's output goes as it is written (the chat's `tool-output` events).
    pub live: Option<LiveOutput>,
    /// The chat's abort signal: raised, it stops the program.
    pub abort: Arc<AbortSignal>,
}

/// A store type that can hand out a [`ProcessCtxView`].
pub trait ProcessView: Send {
    /// The view used by the `process` host functions.
    fn process(&mut self) -> ProcessCtxView<'_>;
}

/// [`HasData`] marker for `pi:worker/process`.
pub struct HasProcess;

impl HasData for HasProcess {
    type Data<'a> = ProcessCtxView<'a>;
}

/// Adds `pi:worker/process` to `linker`.
pub fn add_to_linker<T: ProcessView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, HasProcess>(linker, T::process)
}

/// What `argv[0]` names.
enum Program {
    /// A built-in program.
    Builtin(Arc<Builtin>),
    /// A file in the workspace, by its normalised path.
    Workspace(String),
}

/// A [`Program`], with the workspace file read.
enum Loaded {
    Builtin(Arc<Builtin>),
    Wasm(Vec<u8>),
    /// Nothing (or a directory) at the path.
    Missing(String),
}

impl Host for ProcessCtxView<'_> {
    fn builtins(&mut self) -> wasmtime::Result<Vec<wit::Builtin>> {
        Ok(self
            .ctx
            .runner
            .builtins()
            .iter()
            .map(|b| wit::Builtin {
                name: b.name.clone(),
                summary: b.summary.clone(),
            })
            .collect())
    }

    async fn run(&mut self, request: wit::RunRequest) -> wasmtime::Result<Result<wit::Outcome, wit::RunError>> {
        let started = Instant::now();
        let ran = self.run_program(request).await;
        // Preparing, compiling, running and storing are the host's time, not the agent's.
        self.ctx.ran += started.elapsed();
        ran
    }
}

impl ProcessCtxView<'_> {
    async fn run_program(&mut self, request: wit::RunRequest) -> wasmtime::Result<Result<wit::Outcome, wit::RunError>> {
        let Some(program) = request.argv.first() else {
            return Ok(Err(wit::RunError::EmptyCommand));
        };
        // A bare name is a built-in program; anything else is a path in the workspace.
        let runner = self.ctx.runner.clone();
        let program = if builtin::is_bare_name(program) {
            match runner.find_builtin(program) {
                Some(builtin) => Program::Builtin(builtin),
                None => return Ok(Err(wit::RunError::NotFound(program.clone()))),
            }
        } else {
            match normalize(program) {
                Ok(path) => Program::Workspace(path),
                Err(e) => return Ok(Err(wit::RunError::NotFound(format!("{program}: {e}")))),
            }
        };
        let workdir = runner.workdirs().get(self.db.path());
        let mut workdir = workdir.lock().await;
        let prepared = self.db.read(|s| {
            let program = match program {
                Program::Workspace(path) => match s.worktree().read(&path) {
                    Ok(wasm) => Loaded::Wasm(wasm),
                    Err(FsError::NotFound(_) | FsError::NotAFile(_)) => Loaded::Missing(path),
                    Err(e) => return Err(e),
                },
                Program::Builtin(builtin) => Loaded::Builtin(builtin),
            };
            workdir.sync(s)?;
            Ok::<_, FsError>((program, s.worktree().stats()?))
        });
        let (program, stats) = prepared?;
        let component = match program {
            Loaded::Builtin(builtin) => runner.builtin(builtin).await,
            Loaded::Wasm(wasm) => runner.component(object_id(Kind::Blob, &wasm), wasm.into()).await,
            Loaded::Missing(path) => return Ok(Err(wit::RunError::NotFound(path))),
        };
        let component = match component {
            Ok(component) => component,
            Err(e) => return Ok(Err(wit::RunError::NotRunnable(e.to_string()))),
        };
        // What the workspace's quotas leave: within it, what the program writes can be stored.
        let options = self.db.options();
        let budget = WriteBudget::new(
            options.max_workspace_bytes.saturating_sub(stats.total_bytes),
            options.max_workspace_files.saturating_sub(stats.file_count),
        );
        let mut limits = self.ctx.limits;
        if request.timeout_ms > 0 {
            limits.max_wall = limits.max_wall.min(Duration::from_millis(request.timeout_ms));
        }
        let run = match runner
            .run(
                &component,
                &request.argv,
                workdir.path(),
                limits,
                budget,
                self.live.clone(),
                &self.abort,
            )
            .await
        {
            Ok(run) => run,
            Err(ProgramError::NotRunnable(e)) => return Ok(Err(wit::RunError::NotRunnable(e))),
            Err(e @ ProgramError::Directory(_)) => return Err(e.into()),
        };
        tracing::info!(
            program = %request.argv[0],
            exit = ?run.exit,
            elapsed_ms = run.elapsed.as_millis() as u64,
            memory_bytes = run.memory_bytes,
            "program ran"
        );
        let changes = match workdir.changes(&run.log) {
            Ok(changes) => changes,
            Err(e) => {
                workdir.discard();
                return Err(e.into());
            }
        };
        let stored = if changes.is_empty() {
            Ok(())
        } else {
            self.db.write(|s| workdir::apply(s, &changes))
        };
        match stored {
            Ok(()) => workdir.stored(&changes),
            Err(e) => {
                workdir.discard();
                match e {
                    FsError::Storage(_) => return Err(e.into()),
                    e => return Ok(Err(wit::RunError::WriteBack(e.to_string()))),
                }
            }
        }
        Ok(Ok(wit::Outcome {
            exit: match run.exit {
                ProgramExit::Code(code) => wit::Exit::Code(code),
                ProgramExit::Trap(message) => wit::Exit::Trap(message),
                ProgramExit::CpuLimit => wit::Exit::CpuLimit,
                ProgramExit::Timeout => wit::Exit::Timeout,
                ProgramExit::MemoryLimit => wit::Exit::MemoryLimit,
                ProgramExit::Aborted => wit::Exit::Aborted,
            },
            output: run.output,
            output_truncated: run.output_truncated,
            changed: changes.iter().map(|c| c.path().to_string()).collect(),
            elapsed_ms: run.elapsed.as_millis() as u64,
        }))
    }
}

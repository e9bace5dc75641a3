//! Programs the agent runs over its workspace: WASI commands (`wasi:cli/command` components) in
//! their own store, with their own limits, and the workspace as their preopened `/`.
//!
//! One [`ProgramRunner`] per engine: it links WASI once (its filesystem watched, see
//! [`filesystem`]) and keeps each program compiled, by the blob id of its bytes, so a second
//! run of the same file skips compilation; the built-in programs are also cached compiled on
//! disk. Compiling runs on a blocking thread, never on the runtime's workers. A run
//! ([`ProgramRunner::run`]) gets a fresh store: no network (sockets and name lookup refused),
//! env `PWD=/`, `HOME=/`, `TERM=dumb`, stdout and stderr into one [`CapturedOutput`], a memory
//! cap, a CPU budget in epoch ticks (yielding to other tasks every tick), a wall-clock timeout
//! and a [`WriteBudget`]. Its session's directory comes from the runner's [`Workdirs`].

pub mod builtin;
pub mod filesystem;
mod output;
pub mod workdir;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use gix_hash::ObjectId;
use wasmtime::component::{Component, HasData, Linker, ResourceTable};
use wasmtime::{Engine, ResourceLimiter, Store, UpdateDeadline};
use wasmtime_wasi::filesystem::WasiFilesystemCtxView;
use wasmtime_wasi::p2::OutputStream as _;
use wasmtime_wasi::p2::bindings::Command;
use wasmtime_wasi::p2::bindings::filesystem::types as wasi_fs;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtx, WasiCtxView, WasiView};

pub use self::builtin::{Builtin, ProgramSpec, Programs};
use self::filesystem::WatchedFilesystem;
pub use self::filesystem::{WriteBudget, WriteLog};
pub use self::output::{CapturedOutput, LiveOutput};
pub use self::workdir::{Workdir, Workdirs};
use crate::abort::AbortSignal;
use crate::engine::EPOCH_TICK;

/// Programs kept compiled per runner.
const MAX_COMPILED_PROGRAMS: usize = 64;

/// Limits of one program run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunLimits {
    /// CPU time a run may use (time spent yielding to other tasks not counted).
    pub max_cpu: Duration,
    /// Wall-clock time a run may take; a request may ask for less.
    pub max_wall: Duration,
    /// Largest linear memory a program may grow to.
    pub max_memory_bytes: usize,
    /// Output (stdout and stderr together) kept, in bytes.
    pub max_output_bytes: usize,
}

impl Default for RunLimits {
    fn default() -> Self {
        Self {
            max_cpu: Duration::from_secs(10),
            max_wall: Duration::from_secs(30),
            max_memory_bytes: 256 << 20,
            max_output_bytes: 1 << 20,
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgramExit {
    /// Returned or called `exit` with this code.
    Code(u32),
    /// Trapped, with the trap's message.
    Trap(String),
    /// Used up its CPU time.
    CpuLimit,
    /// Took longer than its wall-clock time.
    Timeout,
    /// Tried to grow its memory past the limit.
    MemoryLimit,
    /// Stopped because the chat was aborted.
    Aborted,
}

/// What a run produced.
#[derive(Debug)]
pub struct ProgramRun {
    /// How it ended.
    pub exit: ProgramExit,
    /// stdout and stderr interleaved, cut at the limit.
    pub output: String,
    /// The output was cut.
    pub output_truncated: bool,
    /// Wall-clock time of the run (not of compiling it).
    pub elapsed: Duration,
    /// The paths it may have changed.
    pub log: WriteLog,
    /// The largest any of its linear memories grew to, in bytes.
    pub memory_bytes: usize,
}

/// Why a program could not start.
#[derive(Debug, thiserror::Error)]
pub enum ProgramError {
    /// The bytes are not a `wasi:cli/command` component this host can link.
    #[error("{0}")]
    NotRunnable(String),
    /// The workspace directory could not be preopened (a host fault).
    #[error("cannot open the program's directory: {0}")]
    Directory(String),
}

/// Compiles, caches and runs programs on one engine.
pub struct ProgramRunner {
    engine: Engine,
    linker: Linker<ProgramState>,
    compiled: Mutex<HashMap<ObjectId, Component>>,
    builtins: Mutex<HashMap<String, Component>>,
    cache_dir: PathBuf,
    programs: Programs,
    workdirs: Workdirs,
}

impl std::fmt::Debug for ProgramRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgramRunner").finish_non_exhaustive()
    }
}

impl ProgramRunner {
    /// A runner on `engine` (which must have epoch interruption on), with WASI linked, that
    /// provides `programs`' built-ins (cached compiled in `cache_dir`, see [`crate::engine`]'s
    /// cache) and runs programs in the sessions' directories under `programs.dir` (emptied
    /// first).
    pub fn new(engine: &Engine, cache_dir: &Path, programs: &Programs) -> wasmtime::Result<Self> {
        let mut linker = Linker::new(engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        // The same filesystem, watched: replaces the definitions just added.
        linker.allow_shadowing(true);
        wasi_fs::add_to_linker::<ProgramState, Watched>(&mut linker, ProgramState::filesystem)?;
        linker.allow_shadowing(false);
        Ok(Self {
            engine: engine.clone(),
            linker,
            compiled: Mutex::new(HashMap::new()),
            builtins: Mutex::new(HashMap::new()),
            cache_dir: cache_dir.to_path_buf(),
            workdirs: Workdirs::new(&programs.dir)?,
            programs: programs.clone(),
        })
    }

    /// The sessions' directories.
    pub fn workdirs(&self) -> &Workdirs {
        &self.workdirs
    }

    /// The programs it provides by name.
    pub fn builtins(&self) -> &[Arc<Builtin>] {
        &self.programs.builtins
    }

    /// The built-in program `argv0` names.
    pub fn find_builtin(&self, argv0: &str) -> Option<Arc<Builtin>> {
        self.programs.find(argv0).cloned()
    }

    /// A program from the workspace, whose bytes are `wasm` (blob `id`): compiled once per
    /// runner, on a blocking thread, and kept in memory.
    pub async fn component(&self, id: ObjectId, wasm: Arc<[u8]>) -> Result<Component, ProgramError> {
        if let Some(component) = lock(&self.compiled).get(&id).cloned() {
            return Ok(component);
        }
        let component = self.compile(move |engine, _| Component::new(engine, &wasm)).await?;
        let mut compiled = lock(&self.compiled);
        // Bounded: past the cap, start over (compiling again is the only cost).
        if compiled.len() >= MAX_COMPILED_PROGRAMS {
            compiled.clear();
        }
        compiled.insert(id, component.clone());
        Ok(component)
    }

    /// A built-in program: compiled once per runner, on a blocking thread, and kept compiled on
    /// disk, so only the first run on a machine compiles it.
    pub async fn builtin(&self, builtin: Arc<Builtin>) -> Result<Component, ProgramError> {
        if let Some(component) = lock(&self.builtins).get(&builtin.name).cloned() {
            return Ok(component);
        }
        let compiled = builtin.clone();
        let component = self
            .compile(move |engine, cache_dir| {
                crate::engine::load_or_compile(engine, &compiled.wasm, cache_dir, &compiled.name)
            })
            .await?;
        lock(&self.builtins).insert(builtin.name.clone(), component.clone());
        Ok(component)
    }

    /// Runs `compile` on a blocking thread and checks that its component is a command this
    /// runner can link.
    async fn compile(
        &self,
        compile: impl FnOnce(&Engine, &Path) -> wasmtime::Result<Component> + Send + 'static,
    ) -> Result<Component, ProgramError> {
        let not_runnable = |e: wasmtime::Error| ProgramError::NotRunnable(format!("{e:#}"));
        let (engine, cache_dir) = (self.engine.clone(), self.cache_dir.clone());
        let component = tokio::task::spawn_blocking(move || compile(&engine, &cache_dir))
            .await
            .map_err(|e| ProgramError::NotRunnable(format!("compiling the program failed: {e}")))?
            .map_err(not_runnable)?;
        // A component that imports more than WASI, or exports no `wasi:cli/run`, fails here.
        let pre = self.linker.instantiate_pre(&component).map_err(not_runnable)?;
        wasmtime_wasi::p2::bindings::CommandPre::new(pre).map_err(not_runnable)?;
        Ok(component)
    }

    /// Runs `component` with `argv`, `dir` preopened as `/` read-write, to its end or a limit;
    /// its output also goes to `live` as it is written; `abort` stops it; its writes are
    /// charged to `budget`.
    #[allow(clippy::too_many_arguments, reason = "each is one independent part of a run")]
    pub async fn run(
        &self,
        component: &Component,
        argv: &[String],
        dir: &Path,
        limits: RunLimits,
        budget: Arc<WriteBudget>,
        live: Option<LiveOutput>,
        abort: &AbortSignal,
    ) -> Result<ProgramRun, ProgramError> {
        let output = CapturedOutput::new(limits.max_output_bytes, live);
        let mut wasi = WasiCtx::builder();
        wasi.args(argv)
            .envs(&[("PWD", "/"), ("HOME", "/"), ("TERM", "dumb")])
            .stdout(output.clone())
            .stderr(output.as_stream("stderr"))
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .preopened_dir(dir, "/", FsPerms::ReadWrite)
            .map_err(|e| ProgramError::Directory(format!("{e:#}")))?;
        let state = ProgramState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            memory: MemoryLimit {
                max_bytes: limits.max_memory_bytes,
                hit: false,
                peak: 0,
            },
            log: WriteLog::new(budget.clone()),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.memory);
        let cpu_ticks = limits.max_cpu.as_nanos() / EPOCH_TICK.as_nanos().max(1);
        let mut ticks: u128 = 0;
        store.epoch_deadline_callback(move |_| {
            ticks += 1;
            if ticks > cpu_ticks {
                return Err(CpuLimitExceeded.into());
            }
            Ok(UpdateDeadline::Yield(1))
        });
        store.set_epoch_deadline(1);

        let started = Instant::now();
        let run = async {
            let command = Command::instantiate_async(&mut store, component, &self.linker).await?;
            command.wasi_cli_run().call_run(&mut store).await
        };
        let ended = tokio::select! {
            ended = tokio::time::timeout(limits.max_wall, run) => Some(ended),
            () = abort.aborted() => None,
        };
        let elapsed = started.elapsed();
        if budget.refused() {
            // wasi-libc reports the refusal as a plain I/O error: say what it was.
            let notice = "pi-worker: writes past the workspace's quota were refused (no space left)\n";
            drop(output.as_stream("stderr").write(notice.into()));
        }
        let exit = match ended {
            None => ProgramExit::Aborted,
            Some(Err(_)) => ProgramExit::Timeout,
            Some(ended) => match ended {
                Ok(Ok(Ok(()))) => ProgramExit::Code(0),
                Ok(Ok(Err(()))) => ProgramExit::Code(1),
                Ok(Err(e)) => exit_of(&e, store.data().memory.hit),
                Err(_) => ProgramExit::Timeout,
            },
        };
        let (output, output_truncated) = output.take();
        let state = store.into_data();
        Ok(ProgramRun {
            exit,
            output,
            output_truncated,
            elapsed,
            log: state.log,
            memory_bytes: state.memory.peak,
        })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How a run that failed ended: an exit code, a limit, or a trap.
fn exit_of(e: &wasmtime::Error, memory_hit: bool) -> ProgramExit {
    if let Some(exit) = e.downcast_ref::<I32Exit>() {
        return ProgramExit::Code(exit.0 as u32);
    }
    if e.downcast_ref::<CpuLimitExceeded>().is_some() {
        return ProgramExit::CpuLimit;
    }
    if memory_hit {
        return ProgramExit::MemoryLimit;
    }
    // The trap's own message ("wasm `unreachable` instruction executed"), not the backtrace.
    match e.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => ProgramExit::Trap(trap.to_string()),
        None => ProgramExit::Trap(e.root_cause().to_string()),
    }
}

/// Marker error raised by the epoch callback when a program's CPU budget is spent.
#[derive(Debug, thiserror::Error)]
#[error("program CPU time limit exceeded")]
struct CpuLimitExceeded;

/// A program's store: its WASI context, its memory cap and what it wrote.
struct ProgramState {
    wasi: WasiCtx,
    table: ResourceTable,
    memory: MemoryLimit,
    log: WriteLog,
}

impl ProgramState {
    fn filesystem(&mut self) -> WatchedFilesystem<'_> {
        WatchedFilesystem {
            inner: WasiFilesystemCtxView {
                ctx: self.wasi.filesystem(),
                table: &mut self.table,
            },
            log: &mut self.log,
        }
    }
}

/// [`HasData`] marker for the watched `wasi:filesystem/types`.
struct Watched;

impl HasData for Watched {
    type Data<'a> = WatchedFilesystem<'a>;
}

impl WasiView for ProgramState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Refuses memory growth past `max_bytes`, and remembers that it did, and the largest size
/// allowed (the initial size included: creating a memory asks too).
struct MemoryLimit {
    max_bytes: usize,
    hit: bool,
    peak: usize,
}

impl ResourceLimiter for MemoryLimit {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let allowed = desired <= self.max_bytes;
        self.hit |= !allowed;
        if allowed {
            self.peak = self.peak.max(desired);
        }
        Ok(allowed)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 1 << 20)
    }
}

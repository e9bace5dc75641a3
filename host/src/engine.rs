//! The Wasmtime side: one engine, one linker, one pre-instantiated guest for the whole server.

mod cache;

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::{Component, Linker};
use wasmtime::error::Context as _;
use wasmtime::{Config, Engine, InstanceAllocationStrategy};

use self::cache::PrivateDir;
use crate::bindings::AgentWorldPre;
use crate::chat::ChatState;
use crate::interfaces;
use crate::program::{ProgramRunner, Programs};

/// How often the epoch ticker advances the engine's epoch; the granularity of CPU limits.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// A compiled guest, ready to instantiate for each chat.
pub struct AgentEngine {
    engine: Engine,
    pre: AgentWorldPre<ChatState>,
    programs: Arc<ProgramRunner>,
}

impl AgentEngine {
    /// Compiles (or loads from `cache_dir`) the guest component `wasm`, links the host
    /// interfaces and pre-instantiates it. Starts the engine's epoch ticker. `cache_dir` is
    /// created with mode 0700 if missing, and used only while it and its files belong to this
    /// user and nobody else can write them. The programs its chats run (`process.run`) are
    /// `programs`' (see [`ProgramRunner::new`]).
    ///
    /// Instances are allocated on demand, not from a pool: thousands of chats may be in flight,
    /// and a pool sized for them would reserve (and map) every slot up front; the kernel's limit
    /// on memory mappings would run out first. A guest's linear memory may grow to
    /// `max_memory_bytes`, which is also all the address space it reserves.
    pub fn new(wasm: &[u8], cache_dir: &Path, programs: &Programs, max_memory_bytes: usize) -> wasmtime::Result<Self> {
        let mut config = Config::new();
        config.allocation_strategy(InstanceAllocationStrategy::OnDemand);
        // Reserve each memory's cap, not the default 4 GiB of address space (bounds are then
        // checked explicitly rather than by guard pages), so thousands of guests fit.
        config.memory_reservation(max_memory_bytes as u64);
        config.memory_reservation_for_growth(0);
        // A fiber stack per chat: the guest's stack (512 KiB, the default) plus the host calls'.
        config.async_stack_size(1 << 20);
        // Runaway guests are stopped by epoch deadlines, checked at loop headers and calls.
        config.epoch_interruption(true);
        config.wasm_component_model(true);
        let engine = Engine::new(&config)?;
        spawn_epoch_ticker(&engine);

        let component = load_or_compile(&engine, wasm, cache_dir, "guest")?;
        let mut linker: Linker<ChatState> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        interfaces::workspace::add_to_linker(&mut linker)?;
        interfaces::git::add_to_linker(&mut linker)?;
        interfaces::llm::add_to_linker(&mut linker)?;
        interfaces::session::add_to_linker(&mut linker)?;
        interfaces::process::add_to_linker(&mut linker)?;
        let instance_pre = linker
            .instantiate_pre(&component)
            .context("the guest does not fit the pi:worker agent-world (missing or mismatched imports)")?;
        let pre = AgentWorldPre::new(instance_pre)
            .context("the guest does not export pi:worker/agent as the agent-world describes")?;
        let programs = Arc::new(ProgramRunner::new(&engine, cache_dir, programs)?);
        Ok(Self { engine, pre, programs })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The runner of the programs the agent runs (`pi:worker/process`), on this engine.
    pub fn programs(&self) -> &Arc<ProgramRunner> {
        &self.programs
    }

    /// The pre-instantiated guest.
    pub fn pre(&self) -> &AgentWorldPre<ChatState> {
        &self.pre
    }
}

/// One thread per engine advances its epoch every [`EPOCH_TICK`]; it ends with the engine.
fn spawn_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("pi-worker-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .map(drop)
        .unwrap_or_else(|e| tracing::error!("cannot start the epoch ticker: {e}"));
}

/// The cache file name for `wasm` (a `kind`: `guest`, or a built-in program's name) compiled by
/// `engine`: named by the component's hash and the engine's compatibility hash, so a different
/// component or a different Wasmtime never loads a stale file.
fn cache_file_name(engine: &Engine, wasm: &[u8], kind: &str) -> String {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let engine_hash = hasher.finish();
    let guest_id = crate::storage::objects::object_id(gix_object::Kind::Blob, wasm)
        .to_hex()
        .to_string();
    format!("{kind}-{}-{engine_hash:016x}.cwasm", &guest_id[..16])
}

/// The compiled component (a `kind`: `guest`, or a built-in program's name, `node`): loaded from
/// the cache when a trusted copy is there, else compiled (and cached when the cache directory is
/// trusted). See [`cache`] for what "trusted" means.
pub(crate) fn load_or_compile(
    engine: &Engine,
    wasm: &[u8],
    cache_dir: &Path,
    kind: &str,
) -> wasmtime::Result<Component> {
    let cached = match PrivateDir::open(cache_dir) {
        Ok(dir) => Some((dir.join(&cache_file_name(engine, wasm, kind)), dir)),
        Err(e) => {
            tracing::warn!("not using the compiled-{kind} cache, compiling in memory: {e}");
            None
        }
    };
    if let Some((path, dir)) = &cached {
        match dir.read(path) {
            Ok(Some(bytes)) => {
                // SAFETY: the bytes come from a file of this user that nobody else can write, in
                // a directory of this user that nobody else can write, checked as the very file
                // read. Only this function writes there, with `precompile_component`'s output,
                // under a name that binds the file to this guest and this engine's settings.
                #[allow(unsafe_code, reason = "loading our own precompiled guest from a private cache")]
                match unsafe { Component::deserialize(engine, &bytes) } {
                    Ok(component) => {
                        tracing::info!(path = %path.display(), "loaded the compiled {kind} from the cache");
                        return Ok(component);
                    }
                    Err(e) => tracing::warn!(path = %path.display(), "ignoring unusable cached {kind}: {e}"),
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!("not loading the cached {kind}, compiling it again: {e}"),
        }
    }
    let started = std::time::Instant::now();
    let compiled = engine
        .precompile_component(wasm)
        .with_context(|| format!("the {kind} is not a valid component"))?;
    tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "compiled the {kind}");
    if let Some((path, dir)) = &cached
        && let Err(e) = dir.write(path, &compiled)
    {
        tracing::warn!(path = %path.display(), "cannot cache the compiled {kind}: {e}");
    }
    #[allow(unsafe_code, reason = "the bytes were produced by this engine a moment ago")]
    // SAFETY: `compiled` comes straight from `precompile_component` on this engine.
    unsafe {
        Component::deserialize(engine, &compiled)
    }
}

//! The `pi-worker` command.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use pi_worker::agents::GuestSpec;
use pi_worker::chat::ChatLimits;
use pi_worker::config::{ServerConfig, default_max_chats, load_vars};
use pi_worker::import::remote::RemoteOptions;
use pi_worker::import::remote::policy::AllowList;
use pi_worker::llm::{ContextWindows, LlmConfig};
use pi_worker::program::{ProgramSpec, RunLimits};
use pi_worker::storage::StorageOptions;

mod cli;

#[derive(Parser)]
#[command(name = "pi-worker", version, about = "A coding agent that lives on a server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API.
    Serve(Box<ServeArgs>),
    /// Send a message to a session and stream the answer; without one, read stdin, or on a
    /// terminal, chat until Ctrl-D.
    Chat(cli::chat::ChatArgs),
    /// List your sessions, newest first.
    Sessions(cli::sessions::SessionsArgs),
    /// Delete a session.
    Rm(cli::rm::RmArgs),
    /// Print a session's address in the web app.
    Open(cli::open::OpenArgs),
    /// Print the WIT package agents are built against (`pi:worker`), with its version and digest.
    Wit,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PI_WORKER_ADDR", default_value = "127.0.0.1:8787")]
    addr: SocketAddr,
    /// Data directory (session databases and blobs).
    #[arg(long, env = "PI_WORKER_DATA", default_value = "./data")]
    data: PathBuf,
    /// An agent component implementing pi:worker/agent-world, as NAME=PATH (sessions pick it
    /// with `{"agent": NAME}`), or PATH alone in place of the built-in agent (`pi`, the
    /// default). Repeatable; the environment variable takes a comma-separated list.
    #[arg(long, env = "PI_WORKER_GUEST", value_delimiter = ',', value_parser = GuestSpec::parse)]
    guest: Vec<GuestSpec>,
    /// A WASI command (`wasi:cli/command` component) the `run` tool provides by name, as
    /// NAME=PATH (`python=python.wasm`), beside the built-in `node`. Repeatable; the environment
    /// variable takes a comma-separated list.
    #[arg(long, env = "PI_WORKER_PROGRAM", value_delimiter = ',', value_parser = ProgramSpec::parse)]
    program: Vec<ProgramSpec>,
    /// Where the compiled agents and built-in programs are cached [default: <data>/cache].
    #[arg(long, env = "PI_WORKER_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// Model calls allowed per chat.
    #[arg(long, env = "PI_WORKER_MAX_TURNS", default_value_t = 50)]
    max_turns: u32,
    /// Longest tool result fed back to the model, in bytes.
    #[arg(long, env = "PI_WORKER_MAX_TOOL_OUTPUT_BYTES", default_value_t = 100_000)]
    max_tool_output_bytes: u32,
    /// Most bytes of files in one workspace.
    #[arg(long, env = "PI_WORKER_MAX_WORKSPACE_BYTES", default_value_t = 1024 * 1024 * 1024)]
    max_workspace_bytes: u64,
    /// Most files in one workspace.
    #[arg(long, env = "PI_WORKER_MAX_WORKSPACE_FILES", default_value_t = 100_000)]
    max_workspace_files: u64,
    /// Guest CPU seconds allowed per chat (model latency not counted).
    #[arg(long, env = "PI_WORKER_GUEST_CPU_SECS", default_value_t = 60.0)]
    guest_cpu_secs: f64,
    /// Guest linear memory limit, in MiB.
    #[arg(long, env = "PI_WORKER_MEMORY_MIB", default_value_t = 256)]
    memory_mib: usize,
    /// Files of at least this many bytes spill to the blob directory.
    #[arg(long, env = "PI_WORKER_SPILL_BYTES", default_value_t = 1_500_000)]
    spill_bytes: u64,
    /// Largest file the agent may write, in bytes.
    #[arg(long, env = "PI_WORKER_MAX_FILE_BYTES", default_value_t = 100 * 1024 * 1024)]
    max_file_bytes: u64,
    /// Largest JSON request body, in bytes.
    #[arg(long, env = "PI_WORKER_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    max_body_bytes: usize,
    /// Largest raw upload (a file PUT, an archive, a git push), in bytes.
    #[arg(long, env = "PI_WORKER_MAX_UPLOAD_BYTES", default_value_t = 256 * 1024 * 1024)]
    max_upload_bytes: usize,
    /// The key chat-end notifications (`"notify"` on a chat) are signed with (HMAC-SHA256).
    /// Also read from `.dev.vars` / `.env`. Without it, notifications are refused.
    #[arg(long, env = "PI_WORKER_NOTIFY_SECRET", hide_env_values = true)]
    notify_secret: Option<String>,
    /// A file of tenants' tokens, one `name token` a line; re-read when it changes.
    #[arg(long, env = "PI_WORKER_TOKENS_FILE")]
    tokens_file: Option<PathBuf>,
    /// A host (`host` or `host:port`) repositories may be imported from although the policy
    /// refuses it: plain http://, or an address that is not public. Repeatable; the environment
    /// variable takes a comma-separated list.
    #[arg(long = "import-allow", env = "PI_WORKER_IMPORT_ALLOW", value_delimiter = ',')]
    import_allow: Vec<String>,
    /// Time limit of a repository import (discovery and download), in seconds.
    #[arg(long, env = "PI_WORKER_IMPORT_TIMEOUT", default_value_t = 300)]
    import_timeout: u64,
    /// Most chats in flight at once (running or waiting for the model), across all sessions
    /// [default: one per MiB of half the machine's memory, 64 to 16384].
    #[arg(long, env = "PI_WORKER_MAX_CHATS")]
    max_chats: Option<u32>,
    /// Every model's context window, in tokens, over the built-in table.
    #[arg(long, env = "PI_WORKER_CONTEXT_TOKENS", value_parser = clap::value_parser!(u64).range(1_000..))]
    context_tokens: Option<u64>,
    /// One model's context window, as MODEL=TOKENS (`openai/gpt-4o=128000`), over
    /// `--context-tokens`. Repeatable; the environment variable takes a comma-separated list.
    #[arg(long = "model-context", env = "PI_WORKER_MODEL_CONTEXT", value_delimiter = ',')]
    model_context: Vec<String>,
    /// How full a model's context window may get, in percent, before the agent summarises
    /// older turns.
    #[arg(long, env = "PI_WORKER_COMPACT_AT_PERCENT", default_value_t = 80,
          value_parser = clap::value_parser!(u8).range(10..=95))]
    compact_at_percent: u8,
    /// CPU seconds each program the agent runs (the `run` tool) may use.
    #[arg(long, env = "PI_WORKER_RUN_CPU_SECS", default_value_t = 10)]
    run_cpu_secs: u64,
    /// Wall-clock seconds each program the agent runs may take (a call may ask for less).
    #[arg(long, env = "PI_WORKER_RUN_TIMEOUT_SECS", default_value_t = 30)]
    run_timeout_secs: u64,
    /// Linear memory limit of each program the agent runs, in MiB.
    #[arg(long, env = "PI_WORKER_RUN_MEMORY_MIB", default_value_t = 256)]
    run_memory_mib: usize,
    /// Output (stdout and stderr together) kept of each program the agent runs, in KiB.
    #[arg(long, env = "PI_WORKER_RUN_OUTPUT_KIB", default_value_t = 1024)]
    run_output_kib: usize,
    /// How log lines are written to stderr: `text` for people, `json` (one object a line, with
    /// the session and chat ids of a chat's lines) for log collectors.
    #[arg(long, env = "PI_WORKER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

/// The format of the server's log lines.
#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object a line.
    Json,
}

/// Logs to stderr, filtered by `PI_WORKER_LOG` (default `pi_worker=info`).
fn init_logging(format: LogFormat) {
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("PI_WORKER_LOG").unwrap_or_else(|_| "pi_worker=info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        // Each line: timestamp, level, target, the event's fields flattened, and `spans`, the
        // fields of every span it happened in (a chat's: `session` and `chat`).
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .init(),
    }
}

/// Raises the soft limit on open files to the hard limit: each chat in flight holds a socket or
/// two, and thousands of them need more than the usual soft limit of 1024.
fn raise_open_files_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        limit.current = limit.maximum;
        if let Err(e) = setrlimit(Resource::Nofile, limit) {
            tracing::warn!("cannot raise the open-files limit: {e}");
        }
    }
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Serve(args) => match serve(*args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("Error: {e:?}");
                ExitCode::FAILURE
            }
        },
        Command::Chat(args) => cli::exit(cli::chat::run(args)),
        Command::Sessions(args) => cli::exit(cli::sessions::run(args)),
        Command::Rm(args) => cli::exit(cli::rm::run(args)),
        Command::Open(args) => cli::exit(cli::open::run(args)),
        Command::Wit => {
            println!(
                "// pi:worker@{} {}",
                pi_worker::wit::version(),
                pi_worker::wit::digest()
            );
            print!("{}", pi_worker::wit::package_text());
            ExitCode::SUCCESS
        }
    }
}

/// Runs `pi-worker serve` until it is stopped.
fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_logging(args.log_format);
    if !(args.guest_cpu_secs.is_finite() && args.guest_cpu_secs > 0.0) {
        anyhow::bail!("--guest-cpu-secs must be a positive number of seconds");
    }
    if args.max_chats == Some(0) || args.max_turns == 0 {
        anyhow::bail!("--max-chats and --max-turns must be at least 1");
    }
    raise_open_files_limit();
    let vars = load_vars(&std::env::current_dir()?);
    let config = ServerConfig {
        addr: args.addr,
        cache_dir: args.cache_dir.unwrap_or_else(|| args.data.join("cache")),
        data_dir: args.data,
        guests: args.guest,
        programs: args.program,
        storage: StorageOptions {
            spill_threshold: args.spill_bytes,
            max_file_bytes: args.max_file_bytes,
            max_workspace_bytes: args.max_workspace_bytes,
            max_workspace_files: args.max_workspace_files,
        },
        chat: ChatLimits {
            max_turns: args.max_turns,
            max_tool_output_bytes: args.max_tool_output_bytes.max(1024),
            max_guest_cpu: Duration::from_secs_f64(args.guest_cpu_secs),
            max_memory_bytes: args.memory_mib.saturating_mul(1024 * 1024),
            compact_at_percent: args.compact_at_percent,
            run: RunLimits {
                max_cpu: Duration::from_secs(args.run_cpu_secs.max(1)),
                max_wall: Duration::from_secs(args.run_timeout_secs.max(1)),
                max_memory_bytes: args.run_memory_mib.max(1).saturating_mul(1024 * 1024),
                max_output_bytes: args.run_output_kib.max(1).saturating_mul(1024),
            },
        },
        max_body_bytes: args.max_body_bytes,
        max_upload_bytes: args.max_upload_bytes,
        max_concurrent_chats: args.max_chats.unwrap_or_else(default_max_chats),
        import: RemoteOptions {
            allow: AllowList::parse(&args.import_allow).map_err(anyhow::Error::msg)?,
            timeout: Duration::from_secs(args.import_timeout),
        },
        llm: LlmConfig {
            context_windows: ContextWindows {
                all_models: args.context_tokens,
                per_model: ContextWindows::per_model(&args.model_context)
                    .map_err(|e| anyhow::anyhow!("--model-context: {e}"))?,
            },
            ..LlmConfig::from_vars(&vars)?
        },
        tokens_file: args.tokens_file,
        notify_secret: args
            .notify_secret
            .or_else(|| vars.get("PI_WORKER_NOTIFY_SECRET").cloned())
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty()),
        token: vars
            .get("PI_WORKER_TOKEN")
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty()),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(pi_worker::server::serve(config))
}

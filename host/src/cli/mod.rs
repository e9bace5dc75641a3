//! The command-line client: `pi-worker chat`, `sessions`, `rm` and `open`.
//!
//! It talks to a running server over its HTTP API only, as any other client would
//! ([`client::ServerClient`]): it never opens sessions itself. Where the server is comes from
//! `--url` or `PI_WORKER_URL`, and `PI_WORKER_TOKEN` is sent as the bearer token.

pub mod chat;
pub mod client;
pub mod error;
pub mod open;
pub mod render;
pub mod repl;
pub mod rm;
pub mod sessions;
pub mod stream;
pub mod tool_line;

use std::process::ExitCode;

pub use error::CliError;

/// Where the server is: the flag every client command takes.
#[derive(clap::Args, Debug)]
pub struct ServerArgs {
    /// The server's base URL. `PI_WORKER_TOKEN` in the environment is sent as the bearer token.
    #[arg(long, env = "PI_WORKER_URL", default_value = "http://127.0.0.1:8787")]
    pub url: String,
}

/// The runtime a client command runs its requests on: one thread is plenty for one user.
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

/// Reports a command's failure on stderr and turns its outcome into the process's exit code
/// (see [`CliError::exit_code`]).
pub fn exit(result: Result<(), CliError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pi-worker: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

//! What can go wrong in a client command, and the exit code each failure ends the process with.

use std::fmt::Write as _;

/// A client command's failure.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command line makes no sense (an empty message, a malformed URL or session id).
    #[error("{0}")]
    Usage(String),
    /// The server answered with an error, or the chat failed (its `error` event).
    #[error("the server answered {status}: {message}")]
    Server {
        /// The HTTP status the server gave.
        status: u16,
        /// The server's `{"error"}` message.
        message: String,
    },
    /// The server could not be reached, or the connection broke, or its answer made no sense.
    #[error("{0}")]
    Connection(String),
    /// The user pressed Ctrl-C.
    #[error("interrupted: the chat was aborted")]
    Interrupted,
    /// Reading stdin or writing the terminal failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl CliError {
    /// The process's exit code for this failure: 1 when the server refused or the chat failed
    /// (and for local I/O errors), 2 for a bad command line (as clap's own usage errors), 3
    /// when the server could not be reached or its answer broke off, 130 after Ctrl-C.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Server { .. } | CliError::Io(_) => 1,
            CliError::Usage(_) => 2,
            CliError::Connection(_) => 3,
            CliError::Interrupted => 130,
        }
    }

    /// A failed request, with the chain of causes that says why (`connection refused`).
    pub fn connection(context: &str, error: &(dyn std::error::Error + 'static)) -> Self {
        let mut message = format!("{context}: {error}");
        let mut source = error.source();
        while let Some(cause) = source {
            let _ = write!(message, ": {cause}");
            source = cause.source();
        }
        CliError::Connection(message)
    }
}

//! The read–send loop of `pi-worker chat` on a terminal: read a line (with line editing and
//! history, `rustyline`), send it, show the answer, repeat until Ctrl-D.
//!
//! A failed chat is reported and the loop goes on. Ctrl-C aborts a running chat and comes back
//! to the prompt; at the prompt it clears the line.

use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;

use super::CliError;
use super::chat::Target;

/// The prompt before each message.
const PROMPT: &str = "› ";

/// Runs the loop until end of input.
pub fn run(runtime: &tokio::runtime::Runtime, target: &mut Target) -> Result<(), CliError> {
    let mut editor = DefaultEditor::new().map_err(io)?;
    match target.session() {
        Some(session) => eprintln!("session {session} · Ctrl-C aborts a chat, Ctrl-D quits"),
        None => eprintln!("a new session starts with your first message · Ctrl-C aborts a chat, Ctrl-D quits"),
    }
    loop {
        match editor.readline(PROMPT) {
            Ok(line) if line.trim().is_empty() => {}
            Ok(line) => {
                editor.add_history_entry(line.as_str()).map_err(io)?;
                match runtime.block_on(target.send(&line)) {
                    Ok(_) => {}
                    Err(CliError::Interrupted) => eprintln!("interrupted"),
                    Err(e) => eprintln!("pi-worker: {e}"),
                }
            }
            Err(ReadlineError::Interrupted) => {}
            Err(ReadlineError::Eof) => return Ok(()),
            Err(e) => return Err(io(e)),
        }
    }
}

fn io(e: ReadlineError) -> CliError {
    match e {
        ReadlineError::Io(e) => CliError::Io(e),
        e => CliError::Io(std::io::Error::other(e)),
    }
}

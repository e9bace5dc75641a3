//! `pi-worker chat`: sends a message to a session and streams the answer to the terminal.
//!
//! The message is the command's arguments, or all of stdin when none are given. With neither
//! and a terminal on stdin, it is a read–send loop ([`super::repl`]).
//!
//! The session is `--session`, else `PI_WORKER_SESSION`, else a new one (also with `--new`),
//! created when the first message is sent; its id is printed on stderr to continue it later.

use std::io::{IsTerminal, Read};

use super::client::ServerClient;
use super::render::ChatView;
use super::stream::{self, ChatRequest};
use super::{CliError, ServerArgs, repl};

/// The arguments of `pi-worker chat`.
#[derive(clap::Args, Debug)]
pub struct ChatArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// The session to continue [default: `PI_WORKER_SESSION`, else a new session].
    #[arg(long, conflicts_with = "new")]
    session: Option<String>,
    /// Start a new session (its id is printed on stderr).
    #[arg(long)]
    new: bool,
    /// The agent the new session runs (see `GET /agents`) [default: the server's, `pi`];
    /// implies `--new`.
    #[arg(long, conflicts_with = "session")]
    agent: Option<String>,
    /// The model to answer instead of the server's default (`claude-opus-4-1`, `openai/gpt-4o`).
    #[arg(long)]
    model: Option<String>,
    /// Print only the final reply as JSON on stdout (`response`, `toolCalls`, `usage`,
    /// `stopReason`), for scripts.
    #[arg(long)]
    json: bool,
    /// The message (its words are joined with spaces) [default: read from stdin].
    message: Vec<String>,
}

/// The session a chat goes to: known, or made on first use.
pub struct Target {
    client: ServerClient,
    session: Option<String>,
    model: Option<String>,
    json: bool,
    /// The agent a new session runs (the server's default when `None`).
    agent: Option<String>,
}

impl Target {
    /// Sends one message and shows the answer; `Ok(true)` when the user interrupted the chat
    /// (it stopped early, and its reply is shown).
    pub async fn send(&mut self, message: &str) -> Result<bool, CliError> {
        if message.trim().is_empty() {
            return Err(CliError::Usage("the message is empty".into()));
        }
        let session = match &self.session {
            Some(session) => session.clone(),
            None => {
                let session = self.client.new_session(self.agent.as_deref()).await?;
                eprintln!("new session {session} (continue it with --session {session})");
                self.session.insert(session).clone()
            }
        };
        let mut view = ChatView::new(!self.json);
        let request = ChatRequest {
            session: &session,
            message,
            model: self.model.as_deref(),
        };
        let ended = stream::chat(&self.client, &request, &mut view).await?;
        if self.json {
            println!("{}", ended.reply);
        }
        Ok(ended.interrupted)
    }

    /// The session's id, once there is one.
    pub fn session(&self) -> Option<&str> {
        self.session.as_deref()
    }
}

/// Runs `pi-worker chat`.
pub fn run(args: ChatArgs) -> Result<(), CliError> {
    let session = match (args.session, args.new || args.agent.is_some()) {
        (Some(session), _) => Some(session),
        (None, true) => None,
        (None, false) => std::env::var("PI_WORKER_SESSION").ok().filter(|s| !s.trim().is_empty()),
    };
    let mut target = Target {
        client: ServerClient::new(&args.server)?,
        session,
        model: args.model,
        json: args.json,
        agent: args.agent,
    };
    let runtime = super::runtime()?;
    let message = if !args.message.is_empty() {
        args.message.join(" ")
    } else if std::io::stdin().is_terminal() {
        return repl::run(&runtime, &mut target);
    } else {
        let mut message = String::new();
        std::io::stdin().read_to_string(&mut message)?;
        message
    };
    match runtime.block_on(target.send(&message))? {
        true => Err(CliError::Interrupted),
        false => Ok(()),
    }
}

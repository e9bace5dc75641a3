//! One streaming chat, from the request to its `done` or `error` event, shown as it happens.
//!
//! Ctrl-C asks the server to abort the chat (`POST /session/:id/abort`) and waits for its
//! answer, which then ends with `stopReason: "aborted"`; a second Ctrl-C stops waiting. The
//! request carries `?abortOnDisconnect=true`, so a client that goes away early (Ctrl-C before
//! the chat started, a second Ctrl-C, a killed process) stops its chat too.

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use serde_json::Value;
use tokio::signal::unix::{SignalKind, signal};

use super::CliError;
use super::client::ServerClient;
use super::render::ChatView;

/// How a chat ended.
pub struct Ended {
    /// The reply: the `done` event's body, the same as the non-streaming chat's.
    pub reply: Value,
    /// The user pressed Ctrl-C and the chat stopped early.
    pub interrupted: bool,
}

/// What to send.
pub struct ChatRequest<'a> {
    /// The session to chat on.
    pub session: &'a str,
    /// The user's message.
    pub message: &'a str,
    /// The model, instead of the server's default.
    pub model: Option<&'a str>,
}

/// Runs one chat on the server and shows it in `view`; `Err` when it failed (its `error` event
/// or an error answer), the connection broke, or the user insisted on leaving (a second Ctrl-C).
pub async fn chat(client: &ServerClient, request: &ChatRequest<'_>, view: &mut ChatView) -> Result<Ended, CliError> {
    let result = run(client, request, view).await;
    view.clear_spinners();
    result
}

async fn run(client: &ServerClient, request: &ChatRequest<'_>, view: &mut ChatView) -> Result<Ended, CliError> {
    let mut interrupts = signal(SignalKind::interrupt())?;
    let response = tokio::select! {
        response = client.chat_stream(request.session, request.message, request.model) => response?,
        Some(()) = interrupts.recv() => return Err(CliError::Interrupted),
    };
    let mut events = response.bytes_stream().eventsource();
    let mut interrupted = false;
    loop {
        tokio::select! {
            event = events.next() => {
                let event = match event {
                    Some(Ok(event)) => event,
                    Some(Err(e)) => return Err(CliError::connection("the chat's stream broke off", &e)),
                    None => return Err(CliError::Connection("the chat's stream ended before the chat did".into())),
                };
                let data: Value = serde_json::from_str(&event.data).unwrap_or(Value::Null);
                match event.event.as_str() {
                    "done" => {
                        view.finish(&data)?;
                        return Ok(Ended { reply: data, interrupted });
                    }
                    "error" => return Err(failure(&data)),
                    name => view.event(name, &data)?,
                }
            }
            Some(()) = interrupts.recv() => {
                if interrupted {
                    return Err(CliError::Interrupted);
                }
                interrupted = true;
                view.note("⏹ aborting the chat (Ctrl-C again to quit at once)")?;
                if !client.abort(request.session).await? {
                    return Err(CliError::Interrupted);
                }
            }
        }
    }
}

/// The chat's `error {error, status}` event as an error.
fn failure(data: &Value) -> CliError {
    CliError::Server {
        status: data["status"]
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(500),
        message: data["error"].as_str().unwrap_or("the chat failed").to_string(),
    }
}

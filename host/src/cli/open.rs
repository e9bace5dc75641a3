//! `pi-worker open ID`: prints the web app's address of a session, `<url>/#/session/<id>`.

use pi_worker::sessions::SessionId;

use super::client::ServerClient;
use super::{CliError, ServerArgs};

/// The arguments of `pi-worker open`.
#[derive(clap::Args, Debug)]
pub struct OpenArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// The session.
    id: String,
}

/// Runs `pi-worker open`. It asks nothing of the server.
pub fn run(args: OpenArgs) -> Result<(), CliError> {
    if SessionId::parse(&args.id).is_none() {
        return Err(CliError::Usage(format!(
            "not a session id: {:?} (1 to 64 characters from A-Z, a-z, 0-9, '-' and '_')",
            args.id
        )));
    }
    println!("{}", ServerClient::new(&args.server)?.web_url(&args.id));
    Ok(())
}

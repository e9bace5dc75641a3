//! `pi-worker rm ID`: deletes a session, its files and its conversation. Silent on success.

use super::client::ServerClient;
use super::{CliError, ServerArgs};

/// The arguments of `pi-worker rm`.
#[derive(clap::Args, Debug)]
pub struct RmArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// The session to delete.
    id: String,
}

/// Runs `pi-worker rm`: `DELETE /session/:id` (404 for an unknown session, 409 while a chat
/// runs on it).
pub fn run(args: RmArgs) -> Result<(), CliError> {
    let client = ServerClient::new(&args.server)?;
    super::runtime()?.block_on(client.delete_session(&args.id))
}

//! What the tools act on: the session's workspace and its git repository, reached through one
//! `&mut dyn Host`.
//!
//! Both are views of the same session (the repository's working tree *is* the workspace), so one
//! value hands out both rather than two independent borrows: the in-memory test double
//! (`git::memory::MemoryRepo`) is a single value whose git side reads and writes the
//! files its workspace side shows. Each tool is then handed only the half it needs (see
//! [`crate::tools::Tool`]): file tools a [`Workspace`], git tools a [`Git`].

use crate::bindings::pi::worker::process::{self, Outcome, RunError, RunRequest};
use crate::fs::{HostWorkspace, Workspace};
use crate::git::{Git, HostGit};
use crate::tools::run::Runner;

/// The session's workspace and repository, as a tool call sees them.
pub trait Host {
    /// The session's files.
    fn workspace(&mut self) -> &mut dyn Workspace;
    /// The session's git repository, whose working tree is [`Host::workspace`].
    fn git(&mut self) -> &mut dyn Git;
    /// What runs programs over the workspace.
    fn runner(&mut self) -> &mut dyn Runner;
}

/// The real session, through the `workspace` and `git` imports.
#[derive(Default)]
pub struct Imports {
    workspace: HostWorkspace,
    git: HostGit,
}

impl Host for Imports {
    fn workspace(&mut self) -> &mut dyn Workspace {
        &mut self.workspace
    }
    fn git(&mut self) -> &mut dyn Git {
        &mut self.git
    }
    fn runner(&mut self) -> &mut dyn Runner {
        self
    }
}

impl Runner for Imports {
    fn run(&mut self, request: &RunRequest) -> Result<Outcome, RunError> {
        process::run(request)
    }
}

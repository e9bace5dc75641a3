//! `git_init`, `git_add`, `git_commit`, `git_restore`: changing the repository.

use schemars::JsonSchema;
use serde::Deserialize;

use super::{describe, short, subject};
use crate::bindings::pi::worker::git;
use crate::fs::Workspace;
use crate::tools::ToolOutput;

pub const INIT: &str = "git_init";
pub const INIT_DESCRIPTION: &str =
    "Initialize a git repository in the workspace (on branch main). New sessions already have one.";

#[derive(Deserialize, JsonSchema)]
pub struct InitArgs {}

pub fn init(_: &mut dyn Workspace, _: InitArgs) -> ToolOutput {
    match git::init().map_err(|e| describe(&e))? {
        true => Ok("Initialized empty git repository on branch main".into()),
        false => Ok("Reinitialized existing git repository (nothing changed)".into()),
    }
}

pub const ADD: &str = "git_add";
pub const ADD_DESCRIPTION: &str = "Stage changes for the next commit. Paths may be files or directories; \".\" stages everything, deletions included.";

#[derive(Deserialize, JsonSchema)]
pub struct AddArgs {
    /// Files or directories to stage ("." for everything)
    paths: Vec<String>,
}

pub fn add(_: &mut dyn Workspace, args: AddArgs) -> ToolOutput {
    if args.paths.is_empty() {
        return Err("Nothing specified, nothing added. Pass paths, or [\".\"] for everything.".into());
    }
    let changed = git::add(&args.paths).map_err(|e| describe(&e))?;
    Ok(format!("Staged {changed} change(s) from {}", args.paths.join(", ")))
}

pub const COMMIT: &str = "git_commit";
pub const COMMIT_DESCRIPTION: &str = "Commit the staged changes with a message.";

#[derive(Deserialize, JsonSchema)]
pub struct CommitArgs {
    /// The commit message
    message: String,
}

pub fn commit(_: &mut dyn Workspace, args: CommitArgs) -> ToolOutput {
    let info = git::commit(&args.message).map_err(|e| describe(&e))?;
    let branch = git::status()
        .ok()
        .and_then(|s| s.branch)
        .unwrap_or_else(|| "detached HEAD".into());
    let root = if info.parents.is_empty() { " (root-commit)" } else { "" };
    Ok(format!(
        "[{branch}{root} {}] {}",
        short(&info.id),
        subject(&info.message)
    ))
}

pub const RESTORE: &str = "git_restore";
pub const RESTORE_DESCRIPTION: &str =
    "Discard the unstaged changes to a file, restoring its staged (or last committed) version.";

#[derive(Deserialize, JsonSchema)]
pub struct RestoreArgs {
    /// The file to restore
    path: String,
}

pub fn restore(_: &mut dyn Workspace, args: RestoreArgs) -> ToolOutput {
    git::restore(&args.path).map_err(|e| describe(&e))?;
    Ok(format!("Restored {}", args.path))
}

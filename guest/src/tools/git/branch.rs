//! `git_branch`, `git_checkout`: branches.

use schemars::JsonSchema;
use serde::Deserialize;

use super::{describe, short};
use crate::bindings::pi::worker::git;
use crate::fs::Workspace;
use crate::tools::ToolOutput;

pub const BRANCH: &str = "git_branch";
pub const BRANCH_DESCRIPTION: &str =
    "List branches, or create a new branch at HEAD when a name is given (it does not switch to it).";

#[derive(Deserialize, JsonSchema)]
pub struct BranchArgs {
    /// Name of a branch to create
    name: Option<String>,
}

pub fn branch(_: &mut dyn Workspace, args: BranchArgs) -> ToolOutput {
    if let Some(name) = args.name {
        let created = git::create_branch(&name).map_err(|e| describe(&e))?;
        return Ok(format!("Created branch '{}' at {}", created.name, short(&created.head)));
    }
    let branches = git::branches().map_err(|e| describe(&e))?;
    if branches.is_empty() {
        return Ok("No branches yet (no commits)".into());
    }
    Ok(branches
        .iter()
        .map(|b| format!("{} {} {}", if b.current { "*" } else { " " }, b.name, short(&b.head)))
        .collect::<Vec<_>>()
        .join("\n"))
}

pub const CHECKOUT: &str = "git_checkout";
pub const CHECKOUT_DESCRIPTION: &str = "Switch to a branch (or a commit), updating the working tree: files are added, changed and removed to match. With create: true, first creates the branch at HEAD. Refused if uncommitted changes would be overwritten or lost.";

#[derive(Deserialize, JsonSchema)]
pub struct CheckoutArgs {
    /// Branch name or commit id
    #[serde(rename = "ref")]
    #[schemars(rename = "ref")]
    target: String,
    /// Create the branch at HEAD first (default: false)
    create: Option<bool>,
}

pub fn checkout(_: &mut dyn Workspace, args: CheckoutArgs) -> ToolOutput {
    let result = git::checkout(&args.target, args.create.unwrap_or(false)).map_err(|e| describe(&e))?;
    let files = format!("{} file(s) updated, {} removed", result.updated, result.removed);
    Ok(match result.branch {
        Some(b) if args.create.unwrap_or(false) => format!("Switched to a new branch '{b}' ({files})"),
        Some(b) => format!("Switched to branch '{b}' ({files})"),
        None => format!("HEAD is now at {} (detached; {files})", short(&result.head)),
    })
}

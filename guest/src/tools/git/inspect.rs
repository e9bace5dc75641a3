//! `git_status`, `git_log`, `git_diff`, `git_show`: reading the repository.

use schemars::JsonSchema;
use serde::Deserialize;

use super::{describe, format_commit, format_diffs, kind_word};
use crate::bindings::pi::worker::git::{self, RepoStatus};
use crate::fs::Workspace;
use crate::tools::ToolOutput;

pub const STATUS: &str = "git_status";
pub const STATUS_DESCRIPTION: &str =
    "Show the working tree status: staged changes, unstaged changes and untracked files.";

#[derive(Deserialize, JsonSchema)]
pub struct StatusArgs {}

pub fn status(_: &mut dyn Workspace, _: StatusArgs) -> ToolOutput {
    Ok(format_status(&git::status().map_err(|e| describe(&e))?))
}

/// Status as `git status` words it.
pub fn format_status(s: &RepoStatus) -> String {
    let mut out = match &s.branch {
        Some(b) => format!("On branch {b}\n"),
        None => format!("HEAD detached at {}\n", super::short(s.head.as_deref().unwrap_or("?"))),
    };
    if s.head.is_none() {
        out.push_str("\nNo commits yet\n");
    }
    let section = |out: &mut String, title: &str, lines: Vec<String>| {
        if !lines.is_empty() {
            out.push_str(&format!("\n{title}:\n"));
            for l in lines {
                out.push_str(&format!("  {l}\n"));
            }
        }
    };
    let changes = |v: &[git::FileChange]| v.iter().map(|c| format!("{}: {}", kind_word(c.kind), c.path)).collect();
    section(&mut out, "Changes to be committed", changes(&s.staged));
    section(&mut out, "Changes not staged for commit", changes(&s.unstaged));
    section(&mut out, "Untracked files", s.untracked.clone());
    if s.staged.is_empty() && s.unstaged.is_empty() && s.untracked.is_empty() {
        out.push_str("\nnothing to commit, working tree clean\n");
    }
    out.trim_end().to_string()
}

pub const LOG: &str = "git_log";
pub const LOG_DESCRIPTION: &str = "Show the commit history of the current branch, newest first.";

#[derive(Deserialize, JsonSchema)]
pub struct LogArgs {
    /// Maximum number of commits to show (default: 10)
    limit: Option<u32>,
}

pub fn log(_: &mut dyn Workspace, args: LogArgs) -> ToolOutput {
    let commits = git::log(args.limit.unwrap_or(10).max(1)).map_err(|e| describe(&e))?;
    if commits.is_empty() {
        return Ok("No commits yet".into());
    }
    Ok(commits
        .iter()
        .map(format_commit)
        .collect::<Vec<_>>()
        .join("\n")
        .trim_end()
        .to_string())
}

pub const DIFF: &str = "git_diff";
pub const DIFF_DESCRIPTION: &str = "Show changes as a unified diff: unstaged changes (working tree against the index), or staged changes (index against HEAD) with staged: true.";

#[derive(Deserialize, JsonSchema)]
pub struct DiffArgs {
    /// Limit the diff to this file or directory
    path: Option<String>,
    /// Show staged changes instead of unstaged ones (default: false)
    staged: Option<bool>,
}

pub fn diff(_: &mut dyn Workspace, args: DiffArgs) -> ToolOutput {
    let diffs = git::diff(args.path.as_deref(), args.staged.unwrap_or(false)).map_err(|e| describe(&e))?;
    if diffs.is_empty() {
        return Ok("No changes".into());
    }
    Ok(format_diffs(&diffs))
}

pub const SHOW: &str = "git_show";
pub const SHOW_DESCRIPTION: &str = "Show a commit (HEAD by default): its message and its changes as a unified diff.";

#[derive(Deserialize, JsonSchema)]
pub struct ShowArgs {
    /// A commit id (full or abbreviated), branch name or HEAD (default: HEAD)
    rev: Option<String>,
}

pub fn show(_: &mut dyn Workspace, args: ShowArgs) -> ToolOutput {
    let (commit, diffs) = git::show(args.rev.as_deref()).map_err(|e| describe(&e))?;
    Ok(format!("{}\n{}", format_commit(&commit), format_diffs(&diffs))
        .trim_end()
        .to_string())
}

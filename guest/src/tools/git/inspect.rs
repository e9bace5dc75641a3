//! `git_status`, `git_log`, `git_diff`, `git_show`: reading the repository.

use schemars::JsonSchema;
use serde::Deserialize;

use super::{describe, format_commit, format_diffs, kind_word};
use crate::bindings::pi::worker::git::{FileChange, RepoStatus};
use crate::git::Git;
use crate::tools::ToolOutput;

pub const STATUS: &str = "git_status";
pub const STATUS_DESCRIPTION: &str =
    "Show the working tree status: staged changes, unstaged changes and untracked files.";

#[derive(Deserialize, JsonSchema)]
pub struct StatusArgs {}

pub fn status(repo: &mut dyn Git, _: StatusArgs) -> ToolOutput {
    Ok(format_status(&repo.status().map_err(|e| describe(&e))?))
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
    let changes = |v: &[FileChange]| v.iter().map(|c| format!("{}: {}", kind_word(c.kind), c.path)).collect();
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

pub fn log(repo: &mut dyn Git, args: LogArgs) -> ToolOutput {
    let commits = repo.log(args.limit.unwrap_or(10).max(1)).map_err(|e| describe(&e))?;
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

pub fn diff(repo: &mut dyn Git, args: DiffArgs) -> ToolOutput {
    let diffs = repo
        .diff(args.path.as_deref(), args.staged.unwrap_or(false))
        .map_err(|e| describe(&e))?;
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

pub fn show(repo: &mut dyn Git, args: ShowArgs) -> ToolOutput {
    let (commit, diffs) = repo.show(args.rev.as_deref()).map_err(|e| describe(&e))?;
    Ok(format!("{}\n{}", format_commit(&commit), format_diffs(&diffs))
        .trim_end()
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::Workspace;
    use crate::git::memory::MemoryRepo;

    fn committed(files: &[(&str, &str)], message: &str) -> MemoryRepo {
        let mut repo = MemoryRepo::with(files);
        repo.add(&[".".into()]).unwrap();
        repo.commit(message).unwrap();
        repo
    }

    #[test]
    fn status_follows_writes_and_staging() {
        let mut repo = MemoryRepo::with(&[("/a.txt", "one\ntwo\n")]);
        assert_eq!(
            status(&mut repo, StatusArgs {}).unwrap(),
            "On branch main\n\nNo commits yet\n\nUntracked files:\n  a.txt"
        );
        repo.add(&[".".into()]).unwrap();
        repo.commit("First").unwrap();
        assert_eq!(
            status(&mut repo, StatusArgs {}).unwrap(),
            "On branch main\n\nnothing to commit, working tree clean"
        );
        repo.workspace.write("/a.txt", b"one\n2\n").unwrap();
        repo.workspace.write("/src/b.txt", b"b\n").unwrap();
        repo.add(&["src".into()]).unwrap();
        repo.workspace.write("/c.txt", b"").unwrap();
        assert_eq!(
            status(&mut repo, StatusArgs {}).unwrap(),
            "On branch main\n\nChanges to be committed:\n  new file: src/b.txt\n\nChanges not staged for commit:\n  modified: a.txt\n\nUntracked files:\n  c.txt"
        );
        assert_eq!(
            status(&mut MemoryRepo::default(), StatusArgs {}).unwrap_err(),
            "Not a git repository. Run git_init first."
        );
    }

    #[test]
    fn log_lists_commits_newest_first() {
        let mut repo = MemoryRepo::with(&[]);
        assert_eq!(log(&mut repo, LogArgs { limit: None }).unwrap(), "No commits yet");
        repo.workspace.write("/a.txt", b"1\n").unwrap();
        repo.add(&[".".into()]).unwrap();
        let first = repo.commit("First\n\nWith a body.").unwrap();
        repo.workspace.write("/a.txt", b"2\n").unwrap();
        repo.add(&["a.txt".into()]).unwrap();
        let second = repo.commit("Second").unwrap();
        assert_eq!(second.parents, std::slice::from_ref(&first.id));
        let expected = format!(
            "commit {}\nAuthor: pi-worker <agent@pi-worker.local>\nDate:   2026-11-25 12:10:45 +0000\n\n    Second\n\ncommit {}\nAuthor: pi-worker <agent@pi-worker.local>\nDate:   2026-11-25 12:09:45 +0000\n\n    First\n    \n    With a body.",
            second.id, first.id
        );
        assert_eq!(log(&mut repo, LogArgs { limit: None }).unwrap(), expected);
        let newest = log(&mut repo, LogArgs { limit: Some(1) }).unwrap();
        assert!(newest.starts_with(&format!("commit {}", second.id)) && newest.ends_with("    Second"));
    }

    #[test]
    fn diff_and_show_are_unified_diffs() {
        let mut repo = committed(&[("/a.txt", "one\ntwo\n")], "First");
        let diff_of = |repo: &mut MemoryRepo, json: &str| diff(repo, serde_json::from_str(json).unwrap()).unwrap();
        assert_eq!(diff_of(&mut repo, "{}"), "No changes");
        repo.workspace.write("/a.txt", b"one\n2\n").unwrap();
        let unstaged = "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+2";
        assert_eq!(diff_of(&mut repo, "{}"), unstaged);
        assert_eq!(diff_of(&mut repo, r#"{"staged":true}"#), "No changes");
        assert_eq!(diff_of(&mut repo, r#"{"path":"b.txt"}"#), "No changes");
        repo.add(&["a.txt".into()]).unwrap();
        assert_eq!(diff_of(&mut repo, r#"{"staged":true,"path":"a.txt"}"#), unstaged);
        let shown = show(&mut repo, ShowArgs { rev: None }).unwrap();
        assert!(
            shown.ends_with("    First\n\ndiff --git a/a.txt b/a.txt\nnew file mode 100644\n--- /dev/null\n+++ b/a.txt\n@@ -0,0 +1,2 @@\n+one\n+two"),
            "{shown}"
        );
        let rev = Some("nope".to_string());
        assert_eq!(
            show(&mut repo, ShowArgs { rev }).unwrap_err(),
            "Unknown revision or branch: nope"
        );
    }
}

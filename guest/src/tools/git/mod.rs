//! The git tools: thin calls to the repository ([`crate::git::Git`]), with output formatted like git's own.

pub mod branch;
pub mod change;
pub mod inspect;

use crate::bindings::pi::worker::git::{ChangeKind, CommitInfo, FileDiff, GitError, LineKind};
use crate::truncate::{MAX_BYTES, MAX_LINES, format_size, truncate_head};

/// How a git failure reads to the model.
pub fn describe(error: &GitError) -> String {
    match error {
        GitError::NotARepository => "Not a git repository. Run git_init first.".into(),
        GitError::NoCommits => "The repository has no commits yet.".into(),
        GitError::NothingToCommit => {
            "Nothing to commit: the staged files match HEAD. Stage changes with git_add first.".into()
        }
        GitError::UnknownRevision(rev) => format!("Unknown revision or branch: {rev}"),
        GitError::BranchExists(name) => format!("A branch named '{name}' already exists."),
        GitError::EmptyMessage => "Aborting commit due to empty commit message.".into(),
        GitError::InvalidName(name) => format!("Invalid branch name: {name}"),
        GitError::WouldLoseChanges(paths) => format!(
            "Checkout refused: your local changes to these files would be overwritten or lost:\n{}\nCommit them (git_add, git_commit) or discard them (git_restore) first.",
            paths.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n")
        ),
        GitError::NotTracked(path) => format!("Pathspec '{path}' did not match any file known to git."),
        GitError::InvalidPath(reason) => format!("Invalid path: {reason}"),
        GitError::Worktree(error) => {
            use crate::bindings::pi::worker::workspace::FsError;
            let shown = match error {
                FsError::NotFound(p)
                | FsError::AlreadyExists(p)
                | FsError::NotAFile(p)
                | FsError::NotADirectory(p)
                | FsError::DirectoryNotEmpty(p)
                | FsError::TooLarge(p) => crate::fs::relative(p),
                FsError::InvalidPath(_) | FsError::QuotaExceeded(_) => "a path",
            };
            format!(
                "The working tree refused the change: {}",
                crate::fs::describe(error, shown)
            )
        }
    }
}

/// A short commit id.
pub fn short(id: &str) -> &str {
    &id[..id.len().min(7)]
}

/// The first line of a commit message.
pub fn subject(message: &str) -> &str {
    message.lines().next().unwrap_or_default()
}

fn kind_word(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Added => "new file",
        ChangeKind::Modified => "modified",
        ChangeKind::Deleted => "deleted",
    }
}

/// `2026-11-25 12:00:00 +0000` for seconds since the Unix epoch (UTC).
pub fn format_time(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} +0000",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// A commit as `git log` shows it.
pub fn format_commit(c: &CommitInfo) -> String {
    let body: Vec<String> = c.message.trim_end().lines().map(|l| format!("    {l}")).collect();
    format!(
        "commit {}\nAuthor: {} <{}>\nDate:   {}\n\n{}\n",
        c.id,
        c.author_name,
        c.author_email,
        format_time(c.time),
        body.join("\n")
    )
}

/// File diffs as a unified diff, within the output limits.
pub fn format_diffs(diffs: &[FileDiff]) -> String {
    let mut out = String::new();
    for d in diffs {
        let (old, new) = match d.kind {
            ChangeKind::Added => ("/dev/null".to_string(), format!("b/{}", d.path)),
            ChangeKind::Deleted => (format!("a/{}", d.path), "/dev/null".to_string()),
            ChangeKind::Modified => (format!("a/{}", d.path), format!("b/{}", d.path)),
        };
        out.push_str(&format!("diff --git a/{p} b/{p}\n", p = d.path));
        if d.kind != ChangeKind::Modified {
            out.push_str(&format!("{} mode 100644\n", kind_word(d.kind)));
        }
        if d.binary {
            out.push_str(&format!("Binary files {old} and {new} differ\n"));
            continue;
        }
        out.push_str(&format!("--- {old}\n+++ {new}\n"));
        for h in &d.hunks {
            out.push_str(&format!(
                "@@ -{},{} +{},{} @@\n",
                h.old_start, h.old_lines, h.new_start, h.new_lines
            ));
            for l in &h.lines {
                let sign = match l.kind {
                    LineKind::Context => ' ',
                    LineKind::Added => '+',
                    LineKind::Removed => '-',
                };
                out.push(sign);
                out.push_str(&l.text);
                out.push('\n');
            }
        }
    }
    let head = truncate_head(out.trim_end(), MAX_LINES, MAX_BYTES);
    match head.truncated_by {
        None => head.content,
        Some(_) => format!(
            "{}\n\n[Diff truncated to {} lines / {}. Pass a path to see one file.]",
            head.content,
            head.output_lines,
            format_size(MAX_BYTES)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00 +0000");
        assert_eq!(format_time(1_795_608_585), "2026-11-25 12:09:45 +0000");
        assert_eq!(format_time(951_782_400), "2000-02-29 00:00:00 +0000");
    }
}

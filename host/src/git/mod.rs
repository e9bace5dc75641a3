//! Git over the session's database: refs, the index (staging area) and real git objects, with
//! gitoxide's plumbing (`gix-object` encoding and tree editing, `gix-diff` tree diffs,
//! `gix-traverse` history walks, `imara-diff` line diffs). No `.git` directory, no `git` binary.
//!
//! Git paths are relative (`src/a.ts`); the working tree's are absolute (`/src/a.ts`).

mod checkout;
mod commit;
mod diff;
mod refs;
mod status;
pub mod tree;

use std::collections::BTreeMap;

pub use self::checkout::CheckoutResult;
pub use self::commit::CommitInfo;
pub use self::diff::{DiffLine, FileDiff, Hunk, LineKind};
pub use self::refs::Branch;
pub use self::status::{ChangeKind, FileChange, Status};
use crate::storage::{ObjectError, SessionDb};

/// Why a git operation failed. Nothing was changed when it fails.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// No repository: `git init` has not run.
    #[error("not a git repository (run git_init first)")]
    NotARepository,
    /// The repository has no commits yet.
    #[error("the repository has no commits yet")]
    NoCommits,
    /// The index equals HEAD.
    #[error("nothing to commit, working tree clean")]
    NothingToCommit,
    /// No such revision.
    #[error("unknown revision '{0}'")]
    UnknownRevision(String),
    /// The branch exists already.
    #[error("a branch named '{0}' already exists")]
    BranchExists(String),
    /// Not a valid branch name or message.
    #[error("invalid name '{0}'")]
    InvalidName(String),
    /// A checkout would overwrite or lose uncommitted changes.
    #[error("your local changes would be overwritten or lost: {}", .0.join(", "))]
    WouldLoseChanges(Vec<String>),
    /// The path is not tracked.
    #[error("pathspec '{0}' did not match any tracked file")]
    NotTracked(String),
    /// The path was refused.
    #[error("invalid path: {0}")]
    InvalidPath(String),
    /// Storage failed.
    #[error("storage error: {0}")]
    Storage(String),
}

impl From<rusqlite::Error> for GitError {
    fn from(e: rusqlite::Error) -> Self {
        GitError::Storage(e.to_string())
    }
}

impl From<ObjectError> for GitError {
    fn from(e: ObjectError) -> Self {
        GitError::Storage(e.to_string())
    }
}

impl From<crate::storage::FsError> for GitError {
    fn from(e: crate::storage::FsError) -> Self {
        match e {
            crate::storage::FsError::InvalidPath(m) => GitError::InvalidPath(m),
            other => GitError::Storage(other.to_string()),
        }
    }
}

impl From<gix_error::Error> for GitError {
    fn from(e: gix_error::Error) -> Self {
        GitError::Storage(e.to_string())
    }
}

/// Tracked content: git path → (mode, blob id in hex).
pub type Snapshot = BTreeMap<String, (u32, String)>;

/// The author recorded on commits unless the session configures another.
pub const DEFAULT_AUTHOR: (&str, &str) = ("pi-worker", "agent@pi-worker.local");

/// A session's repository.
pub struct Repo<'a> {
    db: &'a mut SessionDb,
}

impl<'a> Repo<'a> {
    /// The repository in `db`.
    pub fn new(db: &'a mut SessionDb) -> Self {
        Self { db }
    }

    /// Creates the repository: HEAD on `main`, no commits. `false` when it already existed.
    pub fn init(&mut self) -> Result<bool, GitError> {
        refs::init(self.db)
    }

    fn require_repo(&self) -> Result<(), GitError> {
        if refs::head_value(self.db)?.is_none() {
            Err(GitError::NotARepository)
        } else {
            Ok(())
        }
    }
}

/// A working-tree path for a git path.
fn worktree_path(git_path: &str) -> String {
    format!("/{git_path}")
}

#[cfg(test)]
mod tests;

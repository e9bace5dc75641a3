//! Git over the session's stores: refs, the index and real git objects, with gitoxide's plumbing
//! (`gix-object` encoding and tree editing, `gix-diff` tree diffs, `gix-traverse` history walks,
//! `imara-diff` line diffs). No `.git` directory, no `git` binary, and no SQL: every table is
//! reached through [`Stores`], inside the caller's transaction.
//!
//! Git paths are relative (`src/a.ts`); the working tree's are absolute (`/src/a.ts`).

mod checkout;
mod checkpoint;
pub mod clone;
mod commit;
mod diff;
pub mod pack;
pub mod push;
mod refs;
mod status;
pub mod transport;
pub mod tree;

pub use self::checkout::CheckoutResult;
pub use self::commit::CommitInfo;
pub use self::diff::{DiffLine, FileDiff, Hunk, LineKind};
pub use self::refs::Branch;
pub use self::status::{ChangeKind, FileChange, Status};
use crate::storage::path::PathError;
use crate::storage::{FsError, StorageError, Stores};

/// Why a git operation failed. Nothing was changed when it fails (the caller's transaction
/// rolls back).
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
    /// The commit message is empty.
    #[error("aborting commit due to empty commit message")]
    EmptyMessage,
    /// No such revision.
    #[error("unknown revision '{0}'")]
    UnknownRevision(String),
    /// The branch exists already.
    #[error("a branch named '{0}' already exists")]
    BranchExists(String),
    /// Not a valid branch name.
    #[error("invalid branch name '{0}'")]
    InvalidName(String),
    /// A checkout or restore would overwrite or lose uncommitted changes to these git paths.
    #[error("your local changes would be overwritten or lost: {}", .0.join(", "))]
    WouldLoseChanges(Vec<String>),
    /// The path is not tracked.
    #[error("pathspec '{0}' did not match any tracked file")]
    NotTracked(String),
    /// The path was refused.
    #[error("invalid path: {0}")]
    InvalidPath(#[from] PathError),
    /// The working tree refused a change (for example a file where a directory must go).
    #[error("working tree: {0}")]
    Worktree(#[source] FsError),
    /// Storage failed (a host fault).
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// An object is missing or does not decode (a host fault: the database is damaged).
    #[error("object database: {0}")]
    Objects(#[from] gix_error::Error),
}

impl From<FsError> for GitError {
    /// A working-tree failure inside a git operation: a refused path stays a refused path and a
    /// storage failure stays one; anything else is the working tree's own error.
    fn from(e: FsError) -> Self {
        match e {
            FsError::InvalidPath(e) => Self::InvalidPath(e),
            FsError::Storage(e) => Self::Storage(e),
            other => Self::Worktree(other),
        }
    }
}

/// The author recorded on commits unless the session configures another.
pub const DEFAULT_AUTHOR: (&str, &str) = ("pi-worker", "agent@pi-worker.local");

/// A session's repository, over the stores of one transaction.
#[derive(Clone, Copy)]
pub struct Repo<'a> {
    stores: Stores<'a>,
}

impl<'a> Repo<'a> {
    /// The repository in `stores`.
    pub fn new(stores: Stores<'a>) -> Self {
        Self { stores }
    }

    /// Creates the repository: HEAD on `main`, no commits. `false` when it already existed.
    pub fn init(&self) -> Result<bool, GitError> {
        self.init_head()
    }

    fn require_repo(&self) -> Result<(), GitError> {
        if self.stores.refs().get(refs::HEAD)?.is_none() {
            Err(GitError::NotARepository)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests;

//! `pi:worker/git`: the session's repository, over its SQLite database. Each call is one
//! transaction: reads see one consistent state, and a failed change leaves nothing behind.

use wasmtime::component::{HasData, Linker};

use super::workspace::fs_error_to_wit;
use crate::bindings::pi::worker::git::{self as wit, Host};
use crate::git::{self, GitError, Repo};
use crate::storage::SessionDb;

/// Borrowed access to the database behind `pi:worker/git`.
pub struct GitCtxView<'a> {
    /// The session's database.
    pub db: &'a mut SessionDb,
}

/// A store type that can hand out a [`GitCtxView`].
pub trait GitView: Send {
    /// The view used by the `git` host functions.
    fn git(&mut self) -> GitCtxView<'_>;
}

/// [`HasData`] marker for `pi:worker/git`.
pub struct HasGit;

impl HasData for HasGit {
    type Data<'a> = GitCtxView<'a>;
}

/// Adds `pi:worker/git` to `linker`.
pub fn add_to_linker<T: GitView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, HasGit>(linker, T::git)
}

/// A git failure as the guest sees it, or back as `Err` when it is a host fault (a trap).
fn git_error_to_wit(e: GitError) -> Result<wit::GitError, GitError> {
    Ok(match e {
        GitError::NotARepository => wit::GitError::NotARepository,
        GitError::NoCommits => wit::GitError::NoCommits,
        GitError::NothingToCommit => wit::GitError::NothingToCommit,
        GitError::EmptyMessage => wit::GitError::EmptyMessage,
        GitError::UnknownRevision(r) => wit::GitError::UnknownRevision(r),
        GitError::BranchExists(b) => wit::GitError::BranchExists(b),
        GitError::InvalidName(n) => wit::GitError::InvalidName(n),
        GitError::WouldLoseChanges(paths) => wit::GitError::WouldLoseChanges(paths),
        GitError::NotTracked(p) => wit::GitError::NotTracked(p),
        GitError::InvalidPath(e) => wit::GitError::InvalidPath(e.to_string()),
        GitError::Worktree(e) => wit::GitError::Worktree(fs_error_to_wit(e)?),
        fault @ (GitError::Storage(_) | GitError::Objects(_)) => return Err(fault),
    })
}

fn kind(k: git::ChangeKind) -> wit::ChangeKind {
    match k {
        git::ChangeKind::Added => wit::ChangeKind::Added,
        git::ChangeKind::Modified => wit::ChangeKind::Modified,
        git::ChangeKind::Deleted => wit::ChangeKind::Deleted,
    }
}

fn changes(v: Vec<git::FileChange>) -> Vec<wit::FileChange> {
    v.into_iter()
        .map(|c| wit::FileChange {
            path: c.path,
            kind: kind(c.kind),
        })
        .collect()
}

fn commit_info(c: git::CommitInfo) -> wit::CommitInfo {
    wit::CommitInfo {
        id: c.id.to_hex().to_string(),
        parents: c.parents.iter().map(|p| p.to_hex().to_string()).collect(),
        author_name: c.author_name,
        author_email: c.author_email,
        time: c.time,
        message: c.message,
    }
}

fn file_diffs(v: Vec<git::FileDiff>) -> Vec<wit::FileDiff> {
    v.into_iter()
        .map(|d| wit::FileDiff {
            path: d.path,
            kind: kind(d.kind),
            binary: d.binary,
            hunks: d
                .hunks
                .into_iter()
                .map(|h| wit::Hunk {
                    old_start: h.old_start,
                    old_lines: h.old_lines,
                    new_start: h.new_start,
                    new_lines: h.new_lines,
                    lines: h
                        .lines
                        .into_iter()
                        .map(|l| wit::DiffLine {
                            kind: match l.kind {
                                git::LineKind::Context => wit::LineKind::Context,
                                git::LineKind::Added => wit::LineKind::Added,
                                git::LineKind::Removed => wit::LineKind::Removed,
                            },
                            text: l.text,
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect()
}

fn branch(b: git::Branch) -> wit::Branch {
    wit::Branch {
        name: b.name,
        head: b.head.to_hex().to_string(),
        current: b.current,
    }
}

impl GitCtxView<'_> {
    /// Runs a read-only git operation in a read transaction.
    fn read<T>(&self, f: impl FnOnce(Repo<'_>) -> Result<T, GitError>) -> Result<T, GitError> {
        self.db.read(|s| f(Repo::new(s)))
    }

    /// Runs a git operation that changes the repository in a write transaction.
    fn write<T>(&mut self, f: impl FnOnce(Repo<'_>) -> Result<T, GitError>) -> Result<T, GitError> {
        self.db.write(|s| f(Repo::new(s)))
    }
}

impl Host for GitCtxView<'_> {
    fn convert_git_error(&mut self, e: GitError) -> wasmtime::Result<wit::GitError> {
        Ok(git_error_to_wit(e)?)
    }

    fn init(&mut self) -> Result<bool, GitError> {
        self.write(|r| r.init())
    }

    fn status(&mut self) -> Result<wit::RepoStatus, GitError> {
        let s = self.read(|r| r.status())?;
        Ok(wit::RepoStatus {
            branch: s.branch,
            head: s.head.map(|h| h.to_hex().to_string()),
            staged: changes(s.staged),
            unstaged: changes(s.unstaged),
            untracked: s.untracked,
        })
    }

    fn add(&mut self, paths: Vec<String>) -> Result<u32, GitError> {
        self.write(|r| r.add(&paths))
    }

    fn commit(&mut self, message: String) -> Result<wit::CommitInfo, GitError> {
        self.write(|r| r.commit(&message)).map(commit_info)
    }

    fn log(&mut self, limit: u32) -> Result<Vec<wit::CommitInfo>, GitError> {
        Ok(self
            .read(|r| r.log(limit as usize))?
            .into_iter()
            .map(commit_info)
            .collect())
    }

    fn diff(&mut self, path: Option<String>, staged: bool) -> Result<Vec<wit::FileDiff>, GitError> {
        self.read(|r| r.diff(path.as_deref(), staged)).map(file_diffs)
    }

    fn branches(&mut self) -> Result<Vec<wit::Branch>, GitError> {
        Ok(self.read(|r| r.branches())?.into_iter().map(branch).collect())
    }

    fn create_branch(&mut self, name: String) -> Result<wit::Branch, GitError> {
        self.write(|r| r.create_branch(&name)).map(branch)
    }

    fn checkout(&mut self, rev: String, create: bool) -> Result<wit::CheckoutResult, GitError> {
        let c = self.write(|r| r.checkout(&rev, create))?;
        Ok(wit::CheckoutResult {
            branch: c.branch,
            head: c.head.to_hex().to_string(),
            updated: c.updated,
            removed: c.removed,
        })
    }

    fn show(&mut self, rev: Option<String>) -> Result<(wit::CommitInfo, Vec<wit::FileDiff>), GitError> {
        let (c, d) = self.read(|r| r.show(rev.as_deref()))?;
        Ok((commit_info(c), file_diffs(d)))
    }

    fn restore(&mut self, path: String) -> Result<(), GitError> {
        self.write(|r| r.restore(&path))
    }
}

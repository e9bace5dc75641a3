//! `pi:worker/git`: the session's repository, over its SQLite database.

use wasmtime::component::{HasData, Linker};

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

impl From<GitError> for wit::GitError {
    fn from(e: GitError) -> Self {
        match e {
            GitError::NotARepository => Self::NotARepository,
            GitError::NoCommits => Self::NoCommits,
            GitError::NothingToCommit => Self::NothingToCommit,
            GitError::UnknownRevision(r) => Self::UnknownRevision(r),
            GitError::BranchExists(b) => Self::BranchExists(b),
            GitError::InvalidName(n) => Self::InvalidName(n),
            GitError::WouldLoseChanges(paths) => Self::WouldLoseChanges(paths),
            GitError::NotTracked(p) => Self::NotTracked(p),
            GitError::InvalidPath(m) => Self::InvalidPath(m),
            GitError::Storage(m) => Self::Storage(m),
        }
    }
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

type GitResult<T> = wasmtime::Result<Result<T, wit::GitError>>;

fn done<T, U>(result: Result<T, GitError>, convert: impl FnOnce(T) -> U) -> GitResult<U> {
    Ok(result.map(convert).map_err(Into::into))
}

impl Host for GitCtxView<'_> {
    fn init(&mut self) -> GitResult<bool> {
        done(Repo::new(self.db).init(), |created| created)
    }

    fn status(&mut self) -> GitResult<wit::RepoStatus> {
        done(Repo::new(self.db).status(), |s| wit::RepoStatus {
            branch: s.branch,
            head: s.head.map(|h| h.to_hex().to_string()),
            staged: changes(s.staged),
            unstaged: changes(s.unstaged),
            untracked: s.untracked,
        })
    }

    fn add(&mut self, paths: Vec<String>) -> GitResult<u32> {
        done(Repo::new(self.db).add(&paths), |n| n)
    }

    fn commit(&mut self, message: String) -> GitResult<wit::CommitInfo> {
        done(Repo::new(self.db).commit(&message), commit_info)
    }

    fn log(&mut self, limit: u32) -> GitResult<Vec<wit::CommitInfo>> {
        done(Repo::new(self.db).log(limit as usize), |v| {
            v.into_iter().map(commit_info).collect()
        })
    }

    fn diff(&mut self, path: Option<String>, staged: bool) -> GitResult<Vec<wit::FileDiff>> {
        done(Repo::new(self.db).diff(path.as_deref(), staged), file_diffs)
    }

    fn branches(&mut self) -> GitResult<Vec<wit::Branch>> {
        done(Repo::new(self.db).branches(), |v| v.into_iter().map(branch).collect())
    }

    fn create_branch(&mut self, name: String) -> GitResult<wit::Branch> {
        done(Repo::new(self.db).create_branch(&name), branch)
    }

    fn checkout(&mut self, rev: String, create: bool) -> GitResult<wit::CheckoutResult> {
        done(Repo::new(self.db).checkout(&rev, create), |c| wit::CheckoutResult {
            branch: c.branch,
            head: c.head.to_hex().to_string(),
            updated: c.updated,
            removed: c.removed,
        })
    }

    fn show(&mut self, rev: Option<String>) -> GitResult<(wit::CommitInfo, Vec<wit::FileDiff>)> {
        done(Repo::new(self.db).show(rev.as_deref()), |(c, d)| {
            (commit_info(c), file_diffs(d))
        })
    }

    fn restore(&mut self, path: String) -> GitResult<()> {
        done(Repo::new(self.db).restore(&path), |()| ())
    }
}

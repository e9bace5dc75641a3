//! Status, staging (`add`) and `restore`: comparisons of recorded blob ids, never re-hashing.

use super::{GitError, Repo, tree};
use crate::storage::path::{is_beneath, normalize};
use crate::storage::worktree::worktree_path;
use crate::storage::{FsError, Snapshot, StorageError, TrackedFile};

/// How a path changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// New.
    Added,
    /// Different contents (or mode).
    Modified,
    /// Gone.
    Deleted,
}

/// A changed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// Git path.
    pub path: String,
    /// How it changed.
    pub kind: ChangeKind,
}

/// Working tree and index against HEAD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Current branch (`None` when detached).
    pub branch: Option<String>,
    /// HEAD's commit (`None` before the first commit).
    pub head: Option<gix_hash::ObjectId>,
    /// Index against HEAD.
    pub staged: Vec<FileChange>,
    /// Working tree against the index.
    pub unstaged: Vec<FileChange>,
    /// Untracked files.
    pub untracked: Vec<String>,
}

/// The paths of `old` and `new` in order, each with its file on either side: one linear walk
/// of two sorted maps, no lookups.
fn outer_join<'a>(
    old: &'a Snapshot,
    new: &'a Snapshot,
) -> impl Iterator<Item = (&'a String, Option<&'a TrackedFile>, Option<&'a TrackedFile>)> {
    let (mut old, mut new) = (old.iter().peekable(), new.iter().peekable());
    std::iter::from_fn(move || match (old.peek(), new.peek()) {
        (None, None) => None,
        (Some((a, _)), Some((b, _))) if a == b => {
            let ((path, before), (_, after)) = (old.next()?, new.next()?);
            Some((path, Some(before), Some(after)))
        }
        (Some((a, _)), Some((b, _))) if a > b => new.next().map(|(path, after)| (path, None, Some(after))),
        (Some(_), _) => old.next().map(|(path, before)| (path, Some(before), None)),
        (None, Some(_)) => new.next().map(|(path, after)| (path, None, Some(after))),
    })
}

/// How a path changed from `before` to `after` (`None`: unchanged).
fn change(before: Option<&TrackedFile>, after: Option<&TrackedFile>) -> Option<ChangeKind> {
    match (before, after) {
        (None, Some(_)) => Some(ChangeKind::Added),
        (Some(_), None) => Some(ChangeKind::Deleted),
        (Some(a), Some(b)) if a != b => Some(ChangeKind::Modified),
        _ => None,
    }
}

/// The changes from `old` to `new`, sorted by path.
pub fn compare(old: &Snapshot, new: &Snapshot) -> Vec<FileChange> {
    outer_join(old, new)
        .filter_map(|(path, before, after)| {
            change(before, after).map(|kind| FileChange {
                path: path.clone(),
                kind,
            })
        })
        .collect()
}

impl Repo<'_> {
    /// The files of the working tree, as git would see them.
    pub(super) fn worktree(&self) -> Result<Snapshot, GitError> {
        Ok(self.stores.worktree().files()?)
    }

    /// The index.
    pub(super) fn index(&self) -> Result<Snapshot, GitError> {
        Ok(self.stores.index().entries()?)
    }

    /// HEAD's files (empty before the first commit).
    pub(super) fn head_files(&self) -> Result<Snapshot, GitError> {
        match self.head_commit()? {
            None => Ok(Snapshot::new()),
            Some(commit) => {
                let odb = self.stores.objects();
                tree::flatten(&odb, &tree::commit_tree(&odb, &commit)?)
            }
        }
    }

    /// The status of the working tree and index.
    pub fn status(&self) -> Result<Status, GitError> {
        self.require_repo()?;
        let index = self.index()?;
        let worktree = self.worktree()?;
        let mut unstaged = Vec::new();
        let mut untracked = Vec::new();
        for (path, staged, local) in outer_join(&index, &worktree) {
            match change(staged, local) {
                Some(ChangeKind::Added) => untracked.push(path.clone()),
                Some(kind) => unstaged.push(FileChange {
                    path: path.clone(),
                    kind,
                }),
                None => {}
            }
        }
        Ok(Status {
            branch: self.current_branch()?,
            head: self.head_commit()?,
            staged: compare(&self.head_files()?, &index),
            unstaged,
            untracked,
        })
    }

    /// Stages the working tree's state of `paths` ("." or "/" for everything), deletions
    /// included. Returns how many index entries changed.
    pub fn add(&self, paths: &[String]) -> Result<u32, GitError> {
        self.require_repo()?;
        let specs: Vec<String> = paths.iter().map(|p| normalize(p)).collect::<Result<_, _>>()?;
        let covered = |git_path: &str| {
            let path = worktree_path(git_path);
            specs.iter().any(|s| s == "/" || *s == path || is_beneath(&path, s))
        };
        let worktree = self.worktree()?;
        let index = self.index()?;
        for spec in &specs {
            let matches = spec == "/"
                || worktree
                    .keys()
                    .chain(index.keys())
                    .any(|p| worktree_path(p) == *spec || is_beneath(&worktree_path(p), spec));
            if !matches {
                return Err(GitError::NotTracked(spec.trim_start_matches('/').to_string()));
            }
        }
        let mut next = index.clone();
        next.retain(|p, _| !covered(p) || worktree.contains_key(p));
        for (path, entry) in worktree.iter().filter(|(p, _)| covered(p)) {
            next.insert(path.clone(), *entry);
        }
        let changed = compare(&index, &next).len() as u32;
        self.stores.index().replace(&next)?;
        Ok(changed)
    }

    /// Puts a file's staged contents back into the working tree (discarding unstaged changes).
    pub fn restore(&self, path: &str) -> Result<(), GitError> {
        self.require_repo()?;
        let path = normalize(path)?;
        let git_path = path.trim_start_matches('/');
        let index = self.index()?;
        let Some(file) = index.get(git_path) else {
            return Err(GitError::NotTracked(git_path.to_string()));
        };
        let size = self.blob_size(file.id)?;
        self.stores
            .worktree()
            .place(&path, *file, size)
            .map_err(|e| obstruction(e, git_path))
    }

    /// The size of a stored blob.
    pub(super) fn blob_size(&self, id: gix_hash::ObjectId) -> Result<u64, GitError> {
        match self.stores.objects().header(&id)? {
            Some((_, size)) => Ok(size),
            None => Err(StorageError::corrupt("objects", format!("missing blob {id}")).into()),
        }
    }
}

/// A directory where a file must go, or a file where a directory must go, is a local change
/// that placing `git_path` would lose.
pub(super) fn obstruction(e: FsError, git_path: &str) -> GitError {
    match e {
        FsError::NotAFile(_) | FsError::NotADirectory(_) => GitError::WouldLoseChanges(vec![git_path.to_string()]),
        other => other.into(),
    }
}

//! Status, staging (`add`) and `restore`: comparisons of recorded blob ids, never re-hashing.

use rusqlite::params;

use super::{GitError, Repo, Snapshot, tree, worktree_path};
use crate::storage::files::{MODE_FILE, ensure_dir, set_file};
use crate::storage::path::{is_beneath, normalize, parent};
use crate::storage::{FsError, now_ms};

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

/// The changes from `old` to `new`, sorted by path.
pub fn compare(old: &Snapshot, new: &Snapshot) -> Vec<FileChange> {
    let mut out = Vec::new();
    for (path, entry) in new {
        match old.get(path) {
            None => out.push(FileChange {
                path: path.clone(),
                kind: ChangeKind::Added,
            }),
            Some(before) if before != entry => out.push(FileChange {
                path: path.clone(),
                kind: ChangeKind::Modified,
            }),
            Some(_) => {}
        }
    }
    for path in old.keys().filter(|p| !new.contains_key(*p)) {
        out.push(FileChange {
            path: path.clone(),
            kind: ChangeKind::Deleted,
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

impl Repo<'_> {
    /// The files of the working tree, as git would see them.
    pub(super) fn worktree(&self) -> Result<Snapshot, GitError> {
        let mut stmt = self
            .db
            .conn()
            .prepare_cached("SELECT path, blob_id FROM files WHERE kind = 0")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Snapshot::new();
        for row in rows {
            let (path, id) = row?;
            out.insert(path[1..].to_string(), (MODE_FILE, id));
        }
        Ok(out)
    }

    /// The index.
    pub(super) fn index(&self) -> Result<Snapshot, GitError> {
        let mut stmt = self
            .db
            .conn()
            .prepare_cached("SELECT path, mode, blob_id FROM staged")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, (r.get::<_, u32>(1)?, r.get::<_, String>(2)?)))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// HEAD's files (empty before the first commit).
    pub(super) fn head_files(&self) -> Result<Snapshot, GitError> {
        match self.head_commit()? {
            None => Ok(Snapshot::new()),
            Some(commit) => {
                let odb = self.db.objects();
                tree::flatten(&odb, &tree::commit_tree(&odb, &commit)?)
            }
        }
    }

    /// Replaces the index with `snapshot`.
    pub(super) fn write_index(tx: &rusqlite::Transaction<'_>, snapshot: &Snapshot) -> Result<(), GitError> {
        tx.execute("DELETE FROM staged", [])?;
        let mut stmt = tx.prepare_cached("INSERT INTO staged(path, mode, blob_id) VALUES (?1, ?2, ?3)")?;
        for (path, (mode, id)) in snapshot {
            stmt.execute(params![path, mode, id])?;
        }
        Ok(())
    }

    /// The status of the working tree and index.
    pub fn status(&self) -> Result<Status, GitError> {
        self.require_repo()?;
        let index = self.index()?;
        let worktree = self.worktree()?;
        let untracked = worktree.keys().filter(|p| !index.contains_key(*p)).cloned().collect();
        let tracked_worktree: Snapshot = worktree.into_iter().filter(|(p, _)| index.contains_key(p)).collect();
        Ok(Status {
            branch: self.current_branch()?,
            head: self.head_commit()?,
            staged: compare(&self.head_files()?, &index),
            unstaged: compare(&index, &tracked_worktree),
            untracked,
        })
    }

    /// Stages the working tree's state of `paths` ("." or "/" for everything), deletions
    /// included. Returns how many index entries changed.
    pub fn add(&mut self, paths: &[String]) -> Result<u32, GitError> {
        self.require_repo()?;
        let specs: Vec<String> = paths
            .iter()
            .map(|p| normalize(p).map_err(|e| GitError::InvalidPath(e.to_string())))
            .collect::<Result<_, _>>()?;
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
            next.insert(path.clone(), entry.clone());
        }
        let changed = compare(&index, &next).len() as u32;
        let tx = self.db.conn_mut().transaction()?;
        Self::write_index(&tx, &next)?;
        tx.commit()?;
        Ok(changed)
    }

    /// Puts a file's staged contents back into the working tree (discarding unstaged changes).
    pub fn restore(&mut self, path: &str) -> Result<(), GitError> {
        self.require_repo()?;
        let path = normalize(path).map_err(|e| GitError::InvalidPath(e.to_string()))?;
        let git_path = path.trim_start_matches('/');
        let index = self.index()?;
        let Some((_, id)) = index.get(git_path) else {
            return Err(GitError::NotTracked(git_path.to_string()));
        };
        let hex = gix_hash::ObjectId::from_hex(id.as_bytes()).map_err(|e| GitError::Storage(e.to_string()))?;
        let size = self.db.objects().header(&hex)?.map(|(_, s)| s).unwrap_or(0);
        let now = now_ms();
        let tx = self.db.conn_mut().transaction()?;
        ensure_dir(&tx, parent(&path), now)?;
        if crate::storage::files::kind_at(&tx, &path)? == Some(crate::storage::EntryKind::Directory) {
            return Err(GitError::from(FsError::NotAFile(path)));
        }
        set_file(&tx, &path, id, size, now)?;
        tx.commit()?;
        Ok(())
    }
}

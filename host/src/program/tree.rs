//! The workspace as a directory for a program: written out before it runs, read back after.
//!
//! A program sees a real directory (wasmtime-wasi's `wasi:filesystem` over `cap-std`, which
//! refuses any path that leaves it). Before a run every workspace file is written into a fresh
//! private directory; after it, the directory is walked and each file whose bytes differ from
//! the blob it started as (or that is new, or gone) is returned as a change for the workspace
//! store to apply in one transaction.

use std::collections::BTreeMap;
use std::path::Path;

use gix_object::Kind;

use crate::storage::objects::object_id;
use crate::storage::{FsError, Snapshot, Stores};

/// A change a program made to a file, by workspace path (`/src/a.ts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileChange {
    /// Created or rewritten with these bytes.
    Write(String, Vec<u8>),
    /// Deleted.
    Remove(String),
}

impl FileChange {
    /// The workspace path it is about.
    pub fn path(&self) -> &str {
        match self {
            Self::Write(path, _) | Self::Remove(path) => path,
        }
    }
}

/// Writes every file of the workspace under `dir`; returns what it wrote (git path → blob).
pub fn materialise(stores: Stores<'_>, dir: &Path) -> Result<Snapshot, FsError> {
    let worktree = stores.worktree();
    let snapshot = worktree.files()?;
    for path in snapshot.keys() {
        let bytes = worktree.read(&format!("/{path}"))?;
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_fault(path, &e))?;
        }
        std::fs::write(&target, bytes).map_err(|e| io_fault(path, &e))?;
    }
    Ok(snapshot)
}

/// What differs between `dir` now and `before` (as [`materialise`] returned it), in path order.
/// Only regular files count: directories follow from files, other kinds are ignored.
pub fn changes(dir: &Path, before: &Snapshot) -> std::io::Result<Vec<FileChange>> {
    let mut now = BTreeMap::new();
    collect_files(dir, "", &mut now)?;
    let mut out = Vec::new();
    for (path, bytes) in &now {
        let unchanged = before
            .get(path)
            .is_some_and(|file| file.id == object_id(Kind::Blob, bytes));
        if !unchanged {
            out.push(FileChange::Write(format!("/{path}"), bytes.clone()));
        }
    }
    for path in before.keys().filter(|p| !now.contains_key(*p)) {
        out.push(FileChange::Remove(format!("/{path}")));
    }
    Ok(out)
}

/// Applies `changes` to the working tree (quotas and path rules apply as for any write).
pub fn apply(stores: Stores<'_>, changes: &[FileChange]) -> Result<(), FsError> {
    let worktree = stores.worktree();
    for change in changes {
        match change {
            FileChange::Write(path, bytes) => drop(worktree.write(path, bytes)?),
            FileChange::Remove(path) => worktree.remove(path, false)?,
        }
    }
    Ok(())
}

fn collect_files(dir: &Path, prefix: &str, out: &mut BTreeMap<String, Vec<u8>>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let path = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let kind = entry.file_type()?;
        if kind.is_dir() {
            collect_files(&entry.path(), &path, out)?;
        } else if kind.is_file() {
            out.insert(path, std::fs::read(entry.path())?);
        }
    }
    Ok(())
}

fn io_fault(path: &str, e: &std::io::Error) -> FsError {
    FsError::Refused(format!("cannot prepare {path} for the program: {e}"))
}

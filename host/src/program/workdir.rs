//! The workspace as a directory for programs: one directory per session, kept in step with the
//! workspace by blob ids, so a run writes only the files that changed since the last one.
//!
//! A program sees a real directory (wasmtime-wasi's `wasi:filesystem` over `cap-std`, which
//! refuses any path that leaves it). Before a run, [`Workdir::sync`] compares the workspace's
//! files (path → blob id) with what the directory holds and writes or removes the difference.
//! After it, [`Workdir::changes`] reads back only the paths the program's [`WriteLog`] names,
//! and returns each file whose bytes differ from its blob (or that is new, or gone) as a change
//! for the workspace store to apply in one transaction.
//!
//! The directories live under one root (`<data>/programs` for the server), emptied when the
//! server starts; the least recently used are removed past [`MAX_WORKDIRS`], and a deleted
//! session's at once.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use gix_hash::ObjectId;
use gix_object::Kind;

use super::filesystem::WriteLog;
use crate::storage::objects::object_id;
use crate::storage::{FsError, Stores};

/// Session directories kept at once; the least recently used beyond it are removed.
pub const MAX_WORKDIRS: usize = 16;

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

/// The sessions' directories, by session (its database's path).
#[derive(Debug)]
pub struct Workdirs {
    root: PathBuf,
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    dirs: HashMap<PathBuf, (Arc<tokio::sync::Mutex<Workdir>>, u64)>,
    clock: u64,
}

impl Workdirs {
    /// An empty set under `root`, which is emptied (a previous server's directories) or made.
    pub fn new(root: &Path) -> io::Result<Self> {
        match std::fs::remove_dir_all(root) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        std::fs::create_dir_all(root)?;
        Ok(Self {
            root: root.to_path_buf(),
            open: Mutex::default(),
        })
    }

    /// The directory of the session whose database is `session` (made, empty, on first use).
    /// Lock it from [`Workdir::sync`] to the write-back: one run at a time per session.
    pub fn get(&self, session: &Path) -> Arc<tokio::sync::Mutex<Workdir>> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.clock += 1;
        let now = open.clock;
        if let Some((dir, used)) = open.dirs.get_mut(session) {
            *used = now;
            return dir.clone();
        }
        let mut evicted = None;
        if open.dirs.len() >= MAX_WORKDIRS
            && let Some(oldest) = open
                .dirs
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
        {
            // A run still holding it keeps it until it ends; its directory goes with it.
            evicted = open.dirs.remove(&oldest);
        }
        let dir = Arc::new(tokio::sync::Mutex::new(Workdir {
            dir: self.root.join(now.to_string()),
            files: BTreeMap::new(),
            stale: true,
        }));
        open.dirs.insert(session.to_path_buf(), (dir.clone(), now));
        // Removing the evicted directory's files happens after the lock is released.
        drop(open);
        drop(evicted);
        dir
    }

    /// Forgets the directory of the session whose database is `session` (deleted): it is
    /// removed now, or when a run still holding it ends.
    pub fn forget(&self, session: &Path) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let forgotten = open.dirs.remove(session);
        drop(open);
        drop(forgotten);
    }
}

/// One session's directory and what it holds.
#[derive(Debug)]
pub struct Workdir {
    dir: PathBuf,
    /// What the directory holds: git path → blob.
    files: BTreeMap<String, ObjectId>,
    /// The directory may hold something `files` does not say (never synced, or a program's
    /// changes were not stored): the next sync starts it afresh.
    stale: bool,
}

/// What a [`Workdir::sync`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Synced {
    /// Files written into the directory.
    pub written: usize,
    /// Files removed from it.
    pub removed: usize,
}

impl Workdir {
    /// The directory, to preopen as the program's `/`.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Brings the directory in step with the workspace: writes the files whose blob differs
    /// from what it holds, removes the ones the workspace no longer has.
    pub fn sync(&mut self, stores: Stores<'_>) -> Result<Synced, FsError> {
        let now = stores.worktree().files()?;
        if !self.stale {
            match self.sync_from(stores, &now) {
                Ok(synced) => return Ok(synced),
                // Something the program left in the way (a directory where a file now goes):
                // start afresh.
                Err(FsError::Refused(e)) => tracing::debug!("rebuilding a program directory: {e}"),
                Err(e) => return Err(e),
            }
        }
        self.stale = true;
        match std::fs::remove_dir_all(&self.dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io_fault("", &e)),
            _ => {}
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| io_fault("", &e))?;
        self.files.clear();
        self.sync_from(stores, &now)
    }

    fn sync_from(&mut self, stores: Stores<'_>, now: &crate::storage::Snapshot) -> Result<Synced, FsError> {
        // Until it is done, the directory is neither what `files` says nor the workspace.
        self.stale = true;
        let mut synced = Synced::default();
        // `files` follows each step, so it is rebuilt only where the workspace changed.
        let gone: Vec<String> = self.files.keys().filter(|p| !now.contains_key(*p)).cloned().collect();
        for path in gone {
            match std::fs::remove_file(self.dir.join(&path)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io_fault(&path, &e)),
                _ => synced.removed += 1,
            }
            self.files.remove(&path);
        }
        let worktree = stores.worktree();
        for (path, file) in now {
            if self.files.get(path) == Some(&file.id) {
                continue;
            }
            let bytes = worktree.read(&format!("/{path}"))?;
            let target = self.dir.join(path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io_fault(path, &e))?;
            }
            std::fs::write(&target, bytes).map_err(|e| io_fault(path, &e))?;
            self.files.insert(path.clone(), file.id);
            synced.written += 1;
        }
        self.stale = false;
        Ok(synced)
    }

    /// What differs, at the paths `log` names, between the directory now and what it held
    /// after [`Workdir::sync`], in path order. Only regular files count: directories follow
    /// from files, other kinds are ignored.
    pub fn changes(&self, log: &WriteLog) -> io::Result<Vec<FileChange>> {
        let scopes = log.touched().unwrap_or_else(|| vec![""]);
        let mut out = BTreeMap::new();
        for scope in scopes {
            let mut now = BTreeMap::new();
            let at = self.dir.join(scope);
            match std::fs::symlink_metadata(&at) {
                Ok(meta) if meta.is_dir() => collect_files(&at, scope, &mut now)?,
                Ok(meta) if meta.is_file() => drop(now.insert(scope.to_string(), std::fs::read(&at)?)),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound || e.kind() == io::ErrorKind::NotADirectory => {}
                Err(e) => return Err(e),
            }
            for path in self.files_within(scope).filter(|p| !now.contains_key(*p)) {
                out.insert(path.clone(), FileChange::Remove(format!("/{path}")));
            }
            for (path, bytes) in now {
                if self.files.get(&path) != Some(&object_id(Kind::Blob, &bytes)) {
                    out.insert(path.clone(), FileChange::Write(format!("/{path}"), bytes));
                }
            }
        }
        Ok(out.into_values().collect())
    }

    /// The paths `files` holds at `scope` or under it (all of them for `""`), by range rather
    /// than by a scan, as a run may touch many paths.
    fn files_within<'a>(&'a self, scope: &str) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        if scope.is_empty() {
            return Box::new(self.files.keys());
        }
        // '0' follows '/' in byte order: the range holds exactly the paths under `scope/`.
        let exact = self.files.get_key_value(scope).map(|(path, _)| path);
        let under = self
            .files
            .range(format!("{scope}/")..format!("{scope}0"))
            .map(|(path, _)| path);
        Box::new(exact.into_iter().chain(under))
    }

    /// Records that `changes` were stored: the directory now holds what the workspace does.
    pub fn stored(&mut self, changes: &[FileChange]) {
        for change in changes {
            let path = change.path().trim_start_matches('/').to_string();
            match change {
                FileChange::Write(_, bytes) => drop(self.files.insert(path, object_id(Kind::Blob, bytes))),
                FileChange::Remove(_) => drop(self.files.remove(&path)),
            }
        }
    }

    /// Records that a program's changes were not stored: the directory holds what the
    /// workspace does not, and the next sync starts afresh.
    pub fn discard(&mut self) {
        self.stale = true;
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        match std::fs::remove_dir_all(&self.dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                tracing::warn!(dir = %self.dir.display(), "cannot remove a program directory: {e}");
            }
            _ => {}
        }
    }
}

fn collect_files(dir: &Path, prefix: &str, out: &mut BTreeMap<String, Vec<u8>>) -> io::Result<()> {
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

fn io_fault(path: &str, e: &io::Error) -> FsError {
    FsError::Refused(format!("cannot prepare {path} for the program: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_within_a_scope_are_the_path_itself_and_what_is_under_it() {
        let id = object_id(Kind::Blob, b"");
        let workdir = Workdir {
            dir: PathBuf::new(),
            files: ["src", "src-x/a", "src.b", "src/a.ts", "src/lib/c.ts", "srcz"]
                .into_iter()
                .map(|p| (p.to_string(), id))
                .collect(),
            stale: false,
        };
        let within = |scope| workdir.files_within(scope).cloned().collect::<Vec<_>>();
        assert_eq!(within("src"), ["src", "src/a.ts", "src/lib/c.ts"]);
        assert_eq!(within("src/lib"), ["src/lib/c.ts"]);
        assert_eq!(within("nothing"), Vec::<String>::new());
        assert_eq!(within("").len(), 6);
    }

    #[test]
    fn the_least_recently_used_directory_goes_past_the_cap() {
        let tmp = tempfile::tempdir().unwrap();
        let dirs = Workdirs::new(&tmp.path().join("programs")).unwrap();
        let session = |i: usize| PathBuf::from(format!("s{i}"));
        let first: Vec<_> = (0..MAX_WORKDIRS).map(|i| dirs.get(&session(i))).collect();
        // s0 used again: s1 is now the least recently used, and one more session drops it.
        assert!(Arc::ptr_eq(&first[0], &dirs.get(&session(0))));
        dirs.get(Path::new("one more"));
        assert!(Arc::ptr_eq(&first[0], &dirs.get(&session(0))));
        assert!(Arc::ptr_eq(&first[2], &dirs.get(&session(2))));
        assert!(!Arc::ptr_eq(&first[1], &dirs.get(&session(1))), "s1 was dropped");
    }

    #[test]
    fn a_forgotten_directory_goes_when_the_run_holding_it_ends() {
        let tmp = tempfile::tempdir().unwrap();
        let dirs = Workdirs::new(&tmp.path().join("programs")).unwrap();
        let running = dirs.get(Path::new("s"));
        let path = running.try_lock().unwrap().dir.clone();
        std::fs::create_dir_all(path.join("src")).unwrap();
        dirs.forget(Path::new("s"));
        assert!(path.exists(), "the run still holds it");
        drop(running);
        assert!(!path.exists());
        assert!(!dirs.get(Path::new("s")).try_lock().unwrap().dir.exists());
    }
}

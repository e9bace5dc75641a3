//! The working tree: files and directories of a session, one row each in the `files` table, with
//! running totals in `totals` for the quotas.
//!
//! Each file's git blob id is computed when it is written, so git compares ids without
//! re-hashing. Every method runs inside the caller's transaction
//! ([`SessionDb::write`](super::SessionDb::write)): a workspace call or a git operation happens
//! entirely or not at all.

use gix_hash::ObjectId;
use gix_object::Kind;
use gix_object::tree::{EntryKind as GitEntryKind, EntryMode};
use rusqlite::{Connection, OptionalExtension, params};

use super::index::{Snapshot, TrackedFile, decode};
use super::path::{self, PathError, is_beneath, normalize};
use super::{ObjectDb, StorageError, StorageOptions, now_ms};

/// What a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
}

/// One file or directory of the working tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Normalised absolute path.
    pub path: String,
    /// File or directory.
    pub kind: EntryKind,
    /// Size in bytes (0 for directories).
    pub size: u64,
    /// Last modification, milliseconds since the Unix epoch.
    pub mtime_ms: u64,
}

/// Totals over a working tree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Number of files.
    pub file_count: u64,
    /// Number of directories (the root not counted).
    pub directory_count: u64,
    /// Sum of file sizes.
    pub total_bytes: u64,
    /// Number of files whose contents live in the blob directory.
    pub spilled_files: u64,
}

/// Why a working-tree operation failed. Path payloads are normalised paths.
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    /// Nothing exists at the path.
    #[error("not found: {0}")]
    NotFound(String),
    /// Something already exists at the path.
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// The path is a directory where a file was needed.
    #[error("not a file: {0}")]
    NotAFile(String),
    /// The path (or one of its parents) is a file where a directory was needed.
    #[error("not a directory: {0}")]
    NotADirectory(String),
    /// The directory has entries and the removal was not recursive.
    #[error("directory not empty: {0}")]
    DirectoryNotEmpty(String),
    /// The path was refused.
    #[error("invalid path: {0}")]
    InvalidPath(#[from] PathError),
    /// The operation is refused for this path (the message says why).
    #[error("invalid path: {0}")]
    Refused(String),
    /// The contents exceed the maximum file size.
    #[error("file too large: {0}")]
    TooLarge(String),
    /// The write would take the workspace over its byte or file quota.
    #[error("workspace quota exceeded: {0}")]
    QuotaExceeded(String),
    /// Storage failed (a host fault); nothing was changed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<rusqlite::Error> for FsError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Storage(e.into())
    }
}

/// Git's mode for a tree, stored on directory rows.
const MODE_DIR: u16 = GitEntryKind::Tree as u16;

const ENTRY_COLUMNS: &str = "path, kind, size, mtime_ms";

fn entry_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    let kind: i64 = row.get(1)?;
    Ok(Entry {
        path: row.get(0)?,
        kind: if kind == 1 {
            EntryKind::Directory
        } else {
            EntryKind::File
        },
        size: row.get::<_, i64>(2)? as u64,
        mtime_ms: row.get::<_, i64>(3)? as u64,
    })
}

fn root_entry() -> Entry {
    Entry {
        path: "/".into(),
        kind: EntryKind::Directory,
        size: 0,
        mtime_ms: 0,
    }
}

/// The bounds `(low, high)` such that `low < p < high` selects every path beneath `dir`.
fn subtree_bounds(dir: &str) -> (String, String) {
    if dir == "/" {
        ("/".into(), "0".into())
    } else {
        (format!("{dir}/"), format!("{dir}0"))
    }
}

/// A working-tree path for a git path (`src/a.ts` → `/src/a.ts`).
pub fn worktree_path(git_path: &str) -> String {
    format!("/{git_path}")
}

/// The `files` and `totals` tables.
#[derive(Clone, Copy)]
pub struct Worktree<'a> {
    conn: &'a Connection,
    objects: ObjectDb<'a>,
    options: &'a StorageOptions,
}

impl<'a> Worktree<'a> {
    pub(super) fn new(conn: &'a Connection, objects: ObjectDb<'a>, options: &'a StorageOptions) -> Self {
        Self { conn, objects, options }
    }

    /// The kind of the entry at a normalised path, if any.
    fn kind_at(&self, path: &str) -> Result<Option<EntryKind>, StorageError> {
        if path == "/" {
            return Ok(Some(EntryKind::Directory));
        }
        let kind: Option<i64> = self
            .conn
            .prepare_cached("SELECT kind FROM files WHERE path = ?1")?
            .query_row([path], |row| row.get(0))
            .optional()?;
        Ok(kind.map(|k| if k == 1 { EntryKind::Directory } else { EntryKind::File }))
    }

    /// Creates `dir` and its missing ancestors; fails if one of them is a file.
    fn ensure_dir(&self, dir: &str, now: u64) -> Result<(), FsError> {
        // A directory's ancestors all exist: when `dir` does, there is nothing to walk.
        if self.kind_at(dir)? == Some(EntryKind::Directory) {
            return Ok(());
        }
        let mut at = 0;
        while at < dir.len() {
            let end = dir[at + 1..].find('/').map_or(dir.len(), |i| at + 1 + i);
            let prefix = &dir[..end];
            match self.kind_at(prefix)? {
                Some(EntryKind::Directory) => {}
                Some(EntryKind::File) => return Err(FsError::NotADirectory(prefix.to_string())),
                None => {
                    self.conn
                        .prepare_cached(
                            "INSERT INTO files(path, parent, kind, mode, size, mtime_ms) VALUES (?1, ?2, 1, ?3, 0, ?4)",
                        )?
                        .execute(params![prefix, path::parent(prefix), MODE_DIR, now as i64])?;
                }
            }
            at = end;
        }
        Ok(())
    }

    /// Points the file at the normalised `path` to the blob `file.id`, creating its parents.
    /// Refuses to replace a directory. The one way a blob lands at a path: writes, `restore` and
    /// `checkout` all come here.
    pub fn place(&self, path: &str, file: TrackedFile, size: u64) -> Result<(), FsError> {
        let now = now_ms();
        self.make_room(path, now)?;
        self.set_file(path, file, size, now)
    }

    /// Creates the parents of the normalised `path`; refuses when a directory stands at it.
    /// Returns the size and mode of the file there, if there is one.
    fn make_room(&self, path: &str, now: u64) -> Result<Option<(u64, EntryMode)>, FsError> {
        self.ensure_dir(path::parent(path), now)?;
        let row: Option<(i64, i64, u32)> = self
            .conn
            .prepare_cached("SELECT kind, size, mode FROM files WHERE path = ?1")?
            .query_row([path], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        match row {
            None => Ok(None),
            Some((1, _, _)) => Err(FsError::NotAFile(path.to_string())),
            Some((_, size, mode)) => match EntryMode::try_from(mode) {
                Ok(mode) => Ok(Some((size as u64, mode))),
                Err(_) => Err(StorageError::corrupt("files", format!("{path}: mode {mode:o}")).into()),
            },
        }
    }

    /// Creates or updates the file row at the normalised `path`, whose parent exists.
    fn set_file(&self, path: &str, file: TrackedFile, size: u64, now: u64) -> Result<(), FsError> {
        self.conn
            .prepare_cached(
                "INSERT INTO files(path, parent, kind, mode, size, blob_id, mtime_ms) VALUES (?1, ?2, 0, ?3, ?4, ?5, ?6)
                 ON CONFLICT(path) DO UPDATE SET mode = excluded.mode, size = excluded.size,
                    blob_id = excluded.blob_id, mtime_ms = excluded.mtime_ms",
            )?
            .execute(params![
                path,
                path::parent(path),
                file.mode.value(),
                size as i64,
                file.id.to_hex().to_string(),
                now as i64
            ])?;
        Ok(())
    }

    /// Refuses replacing a file of `existing` bytes (`None`: a new file) with `size` bytes when
    /// that would exceed the workspace quotas.
    fn check_quota(&self, existing: Option<u64>, size: u64) -> Result<(), FsError> {
        let (files, bytes): (i64, i64) = self
            .conn
            .prepare_cached("SELECT files, bytes FROM totals WHERE id = 0")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let files = files as u64 + u64::from(existing.is_none());
        let bytes = (bytes - existing.unwrap_or(0) as i64) as u64 + size;
        if files > self.options.max_workspace_files {
            return Err(FsError::QuotaExceeded(format!(
                "the workspace may hold at most {} files",
                self.options.max_workspace_files
            )));
        }
        if bytes > self.options.max_workspace_bytes {
            return Err(FsError::QuotaExceeded(format!(
                "the workspace may hold at most {} bytes of files",
                self.options.max_workspace_bytes
            )));
        }
        Ok(())
    }

    /// Reads a file's contents.
    pub fn read(&self, path: &str) -> Result<Vec<u8>, FsError> {
        let path = normalize(path)?;
        let id = match self.blob_id(&path) {
            Err(FsError::NotFound(p)) if p == "/" => return Err(FsError::NotAFile(p)),
            other => other?,
        };
        match self.objects.get(&id)? {
            Some((_, data)) => Ok(data),
            None => Err(StorageError::corrupt("files", format!("{path} names the missing blob {id}")).into()),
        }
    }

    /// Creates or replaces a file, creating missing parent directories. Returns its blob id.
    pub fn write(&self, path: &str, contents: &[u8]) -> Result<ObjectId, FsError> {
        let path = normalize(path)?;
        if path == "/" {
            return Err(FsError::NotAFile(path));
        }
        if contents.len() as u64 > self.options.max_file_bytes {
            return Err(FsError::TooLarge(path));
        }
        let now = now_ms();
        let existing = self.make_room(&path, now)?;
        self.check_quota(existing.map(|(size, _)| size), contents.len() as u64)?;
        let mode = existing.map_or_else(|| GitEntryKind::Blob.into(), |(_, mode)| mode);
        let id = self.objects.put(Kind::Blob, contents)?;
        self.set_file(&path, TrackedFile { mode, id }, contents.len() as u64, now)?;
        Ok(id)
    }

    /// Describes one path.
    pub fn stat(&self, path: &str) -> Result<Entry, FsError> {
        let path = normalize(path)?;
        if path == "/" {
            return Ok(root_entry());
        }
        self.conn
            .prepare_cached(&format!("SELECT {ENTRY_COLUMNS} FROM files WHERE path = ?1"))?
            .query_row([&path], entry_from_row)
            .optional()?
            .ok_or(FsError::NotFound(path))
    }

    /// The git blob id recorded for a file when it was last written.
    pub fn blob_id(&self, path: &str) -> Result<ObjectId, FsError> {
        let path = normalize(path)?;
        let id: Option<Option<String>> = self
            .conn
            .prepare_cached("SELECT blob_id FROM files WHERE path = ?1")?
            .query_row([&path], |row| row.get(0))
            .optional()?;
        match id {
            Some(Some(hex)) => ObjectId::from_hex(hex.as_bytes())
                .map_err(|e| StorageError::corrupt("files", format!("{path}: {e}")).into()),
            Some(None) => Err(FsError::NotAFile(path)),
            None => Err(FsError::NotFound(path)),
        }
    }

    fn require_dir(&self, path: &str) -> Result<(), FsError> {
        match self.stat(path)?.kind {
            EntryKind::Directory => Ok(()),
            EntryKind::File => Err(FsError::NotADirectory(path.to_string())),
        }
    }

    /// The direct children of a directory, sorted by path.
    pub fn list(&self, path: &str) -> Result<Vec<Entry>, FsError> {
        let path = normalize(path)?;
        self.require_dir(&path)?;
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS} FROM files WHERE parent = ?1 ORDER BY path"
        ))?;
        let rows = stmt.query_map([&path], entry_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Everything beneath a directory (not the directory itself), sorted by path.
    pub fn walk(&self, path: &str) -> Result<Vec<Entry>, FsError> {
        let path = normalize(path)?;
        self.require_dir(&path)?;
        let (low, high) = subtree_bounds(&path);
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS} FROM files WHERE path > ?1 AND path < ?2 ORDER BY path"
        ))?;
        let rows = stmt.query_map([&low, &high], entry_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Creates a directory and its missing parents; succeeds if it already exists.
    pub fn mkdir(&self, path: &str) -> Result<(), FsError> {
        self.ensure_dir(&normalize(path)?, now_ms())
    }

    /// Removes a file, or a directory (with its contents when `recursive`).
    pub fn remove(&self, path: &str, recursive: bool) -> Result<(), FsError> {
        let path = normalize(path)?;
        if path == "/" {
            return Err(FsError::Refused("the workspace root cannot be removed".into()));
        }
        match self.kind_at(&path)? {
            None => return Err(FsError::NotFound(path)),
            Some(EntryKind::File) => {}
            Some(EntryKind::Directory) => {
                let (low, high) = subtree_bounds(&path);
                if !recursive {
                    let children: i64 = self.conn.query_row(
                        "SELECT COUNT(*) FROM (SELECT 1 FROM files WHERE path > ?1 AND path < ?2 LIMIT 1)",
                        [&low, &high],
                        |row| row.get(0),
                    )?;
                    if children > 0 {
                        return Err(FsError::DirectoryNotEmpty(path));
                    }
                }
                self.conn
                    .execute("DELETE FROM files WHERE path > ?1 AND path < ?2", [&low, &high])?;
            }
        }
        self.conn
            .prepare_cached("DELETE FROM files WHERE path = ?1")?
            .execute([&path])?;
        Ok(())
    }

    /// Moves a file or a directory (with its contents); refuses to replace an existing path.
    pub fn rename(&self, from: &str, to: &str) -> Result<(), FsError> {
        let from = normalize(from)?;
        let to = normalize(to)?;
        if from == "/" || to == "/" {
            return Err(FsError::Refused(
                "the workspace root cannot be moved or replaced".into(),
            ));
        }
        if is_beneath(&to, &from) {
            return Err(FsError::Refused(format!("cannot move '{from}' into itself ('{to}')")));
        }
        let now = now_ms();
        let Some(kind) = self.kind_at(&from)? else {
            return Err(FsError::NotFound(from));
        };
        if from == to {
            return Ok(());
        }
        if self.kind_at(&to)?.is_some() {
            return Err(FsError::AlreadyExists(to));
        }
        self.ensure_dir(path::parent(&to), now)?;
        self.conn.execute(
            "UPDATE files SET path = ?2, parent = ?3, mtime_ms = ?4 WHERE path = ?1",
            params![from, to, path::parent(&to), now as i64],
        )?;
        if kind == EntryKind::Directory {
            let (low, high) = subtree_bounds(&from);
            self.conn.execute(
                "UPDATE files SET path = ?3 || substr(path, ?4), parent = ?3 || substr(parent, ?4)
                 WHERE path > ?1 AND path < ?2",
                params![low, high, to, from.len() as i64 + 1],
            )?;
        }
        Ok(())
    }

    /// Totals over the working tree.
    pub fn stats(&self) -> Result<Stats, StorageError> {
        Ok(self.conn.query_row(
            "SELECT COALESCE(SUM(f.kind = 0), 0), COALESCE(SUM(f.kind = 1), 0), COALESCE(SUM(f.size), 0),
                    COALESCE(SUM(o.spilled), 0) FROM files f LEFT JOIN objects o ON o.id = f.blob_id",
            [],
            |row| {
                Ok(Stats {
                    file_count: row.get::<_, i64>(0)? as u64,
                    directory_count: row.get::<_, i64>(1)? as u64,
                    total_bytes: row.get::<_, i64>(2)? as u64,
                    spilled_files: row.get::<_, i64>(3)? as u64,
                })
            },
        )?)
    }

    /// The number of files, from the running totals (one row read, whatever the tree's size).
    pub fn file_count(&self) -> Result<u64, StorageError> {
        Ok(self
            .conn
            .prepare_cached("SELECT files FROM totals WHERE id = 0")?
            .query_row([], |row| row.get::<_, i64>(0))? as u64)
    }

    /// Every file, as git sees the working tree: git path → mode and blob.
    pub fn files(&self) -> Result<Snapshot, StorageError> {
        // In path order (the table's key), so the map is built in one pass, not insert by insert.
        let mut stmt = self
            .conn
            .prepare_cached("SELECT path, mode, blob_id FROM files WHERE kind = 0 ORDER BY path")?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let path = row.get_ref(0)?.as_str()?;
            let git_path = path.strip_prefix('/').unwrap_or(path).to_string();
            let id = row
                .get_ref(2)?
                .as_str_or_null()?
                .ok_or_else(|| StorageError::corrupt("files", format!("{path} has no blob")))?;
            out.push((git_path, decode("files", path, row.get(1)?, id)?));
        }
        Ok(out.into_iter().collect())
    }

    /// The mode and blob of the file at the normalised `path` (`None`: no file there).
    pub fn tracked(&self, path: &str) -> Result<Option<TrackedFile>, StorageError> {
        let row: Option<(u32, String)> = self
            .conn
            .prepare_cached("SELECT mode, blob_id FROM files WHERE path = ?1 AND kind = 0")?
            .query_row([path], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(mode, id)| decode("files", path, mode, &id)).transpose()
    }

    /// Removes the files at the normalised `paths`, then every directory the removals left empty
    /// (deepest first, as git does). Returns how many files were removed.
    pub fn remove_files_and_prune(&self, paths: &[String]) -> Result<u32, StorageError> {
        let mut removed = 0;
        let mut emptied = std::collections::BTreeSet::new();
        let mut delete = self
            .conn
            .prepare_cached("DELETE FROM files WHERE path = ?1 AND kind = 0")?;
        for path in paths {
            if delete.execute([path])? > 0 {
                removed += 1;
                emptied.insert(path::parent(path).to_string());
            }
        }
        let mut prune = self.conn.prepare_cached(
            "DELETE FROM files WHERE path = ?1 AND kind = 1 AND NOT EXISTS (SELECT 1 FROM files WHERE parent = ?1)",
        )?;
        let mut dirs: Vec<String> = emptied.into_iter().collect();
        while let Some(dir) = dirs.pop() {
            if dir == "/" {
                continue;
            }
            if prune.execute([&dir])? > 0 && !dirs.contains(&path::parent(&dir).to_string()) {
                dirs.insert(0, path::parent(&dir).to_string());
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::tests::{WorktreeCalls, db};
    use crate::storage::{OpenError, SessionDb, StorageOptions};

    #[test]
    fn write_read_creates_parents_and_records_blob_id() {
        let (_tmp, mut db) = db(StorageOptions::default());
        db.write_file("src/deep/a.ts", b"hello\n").unwrap();
        assert_eq!(db.read_file("/src/deep/a.ts").unwrap(), b"hello\n");
        assert_eq!(db.stat("/src").unwrap().kind, EntryKind::Directory);
        // `git hash-object` of "hello\n".
        assert_eq!(
            db.blob_id("/src/deep/a.ts").unwrap(),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        db.write_file("/src/deep/a.ts", b"").unwrap();
        assert_eq!(db.read_file("/src/deep/a.ts").unwrap(), b"");
        assert_eq!(
            db.blob_id("/src/deep/a.ts").unwrap(),
            "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
        );
        let stats = db.stats().unwrap();
        assert_eq!((stats.file_count, stats.directory_count, stats.total_bytes), (1, 2, 0));
    }

    #[test]
    fn refuses_files_under_files_dirs_as_files_and_escapes() {
        let (_tmp, mut db) = db(StorageOptions::default());
        db.write_file("/a", b"x").unwrap();
        assert!(matches!(db.write_file("/a/b", b"x"), Err(FsError::NotADirectory(p)) if p == "/a"));
        db.mkdir("/d/e").unwrap();
        assert!(matches!(db.write_file("/d", b"x"), Err(FsError::NotAFile(_))));
        assert!(matches!(db.read_file("/d"), Err(FsError::NotAFile(_))));
        assert!(matches!(db.read_file("/nope"), Err(FsError::NotFound(_))));
        assert!(matches!(db.read_file("../x"), Err(FsError::InvalidPath(_))));
        assert!(matches!(db.write_file("/x\0y", b""), Err(FsError::InvalidPath(_))));
        assert!(matches!(db.list_dir("/a"), Err(FsError::NotADirectory(_))));
    }

    #[test]
    fn list_walk_are_scoped_and_sorted() {
        let (_tmp, mut db) = db(StorageOptions::default());
        for p in ["/a/x", "/a/y/z", "/a.txt", "/ab", "/b"] {
            db.write_file(p, p.as_bytes()).unwrap();
        }
        let names = |v: Vec<Entry>| v.into_iter().map(|e| e.path).collect::<Vec<_>>();
        assert_eq!(names(db.list_dir("/").unwrap()), ["/a", "/a.txt", "/ab", "/b"]);
        assert_eq!(names(db.list_dir("/a").unwrap()), ["/a/x", "/a/y"]);
        assert_eq!(names(db.walk("/a").unwrap()), ["/a/x", "/a/y", "/a/y/z"]);
        assert_eq!(db.walk("/").unwrap().len(), 7);
    }

    #[test]
    fn remove_and_rename_subtrees() {
        let (_tmp, mut db) = db(StorageOptions::default());
        db.write_file("/d/a", b"1").unwrap();
        db.write_file("/d/e/b", b"2").unwrap();
        assert!(matches!(db.remove("/d", false), Err(FsError::DirectoryNotEmpty(_))));
        assert!(matches!(db.rename("/d", "/d/e/f"), Err(FsError::Refused(_))));
        db.write_file("/taken", b"").unwrap();
        assert!(matches!(db.rename("/d", "/taken"), Err(FsError::AlreadyExists(_))));
        db.rename("/d", "/n/m").unwrap();
        assert_eq!(db.read_file("/n/m/e/b").unwrap(), b"2");
        assert_eq!(db.list_dir("/n/m/e").unwrap().len(), 1);
        assert!(matches!(db.stat("/d/a"), Err(FsError::NotFound(_))));
        db.remove("/n", true).unwrap();
        assert_eq!(db.stats().unwrap().file_count, 1);
        assert!(matches!(db.remove("/", true), Err(FsError::Refused(_))));
    }

    #[test]
    fn large_files_spill_and_oversized_are_refused() {
        let (tmp, mut db) = db(StorageOptions {
            spill_threshold: 10,
            max_file_bytes: 20,
            ..StorageOptions::default()
        });
        db.write_file("/big", b"0123456789abc").unwrap();
        db.write_file("/small", b"012").unwrap();
        assert_eq!(db.read_file("/big").unwrap(), b"0123456789abc");
        assert_eq!(db.stats().unwrap().spilled_files, 1);
        let id = db.blob_id("/big").unwrap();
        assert!(tmp.path().join("blobs").join(&id[..2]).join(&id[2..]).exists());
        assert!(matches!(db.write_file("/huge", &[0; 21]), Err(FsError::TooLarge(_))));
    }

    #[test]
    fn a_50_mb_file_and_10_000_files_in_one_directory() {
        let (_tmp, mut db) = db(StorageOptions::default());
        let big: Vec<u8> = (0..50 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
        db.write_file("/big.bin", &big).unwrap();
        assert_eq!(db.read_file("/big.bin").unwrap(), big);
        assert_eq!(db.stats().unwrap().spilled_files, 1);
        for i in 0..10_000 {
            db.write_file(&format!("/many/f{i:05}"), b"x").unwrap();
        }
        let listed = db.list_dir("/many").unwrap();
        assert_eq!(listed.len(), 10_000);
        assert_eq!(
            (listed[0].path.as_str(), listed[9_999].path.as_str()),
            ("/many/f00000", "/many/f09999")
        );
    }

    #[test]
    fn workspace_quotas_count_files_and_bytes() {
        let options = StorageOptions {
            max_workspace_bytes: 10,
            max_workspace_files: 2,
            ..StorageOptions::default()
        };
        let (_tmp, mut db) = db(options);
        db.write_file("/a", b"12345").unwrap();
        db.write_file("/a", b"1234567890").unwrap();
        assert!(matches!(db.write_file("/b", b"x"), Err(FsError::QuotaExceeded(_))));
        db.write_file("/a", b"1").unwrap();
        db.write_file("/b", b"x").unwrap();
        assert!(matches!(db.write_file("/c", b""), Err(FsError::QuotaExceeded(m)) if m.contains("2 files")));
        assert_eq!(db.read_file("/a").unwrap(), b"1");
    }

    #[test]
    fn running_totals_follow_every_change() {
        let (_tmp, mut db) = db(StorageOptions::default());
        db.write_file("/a", b"12345").unwrap();
        db.write_file("/d/b", b"12").unwrap();
        db.write_file("/a", b"1").unwrap();
        db.rename("/d", "/e").unwrap();
        db.remove("/e", true).unwrap();
        db.write_file("/c", b"abc").unwrap();
        let totals: (i64, i64) = db
            .read(|s| {
                s.conn
                    .query_row("SELECT files, bytes FROM totals", [], |r| Ok((r.get(0)?, r.get(1)?)))
                    .map_err(StorageError::from)
            })
            .unwrap();
        let stats = db.stats().unwrap();
        assert_eq!(totals, (stats.file_count as i64, stats.total_bytes as i64));
        assert_eq!(totals, (2, 4));
    }

    #[test]
    fn data_survives_reopen() {
        let tmp = tempfile::tempdir().unwrap();
        let (dbp, blobs) = (tmp.path().join("s.sqlite"), tmp.path().join("blobs"));
        let mut db = SessionDb::create(&dbp, &blobs, StorageOptions::default()).unwrap();
        db.write_file("/keep", b"kept").unwrap();
        drop(db);
        assert!(matches!(
            SessionDb::create(&dbp, &blobs, StorageOptions::default()),
            Err(OpenError::AlreadyExists)
        ));
        let db = SessionDb::open(&dbp, &blobs, StorageOptions::default()).unwrap();
        assert_eq!(db.read_file("/keep").unwrap(), b"kept");
        assert!(matches!(
            SessionDb::open(&tmp.path().join("none.sqlite"), &blobs, StorageOptions::default()),
            Err(OpenError::NotFound)
        ));
    }
}

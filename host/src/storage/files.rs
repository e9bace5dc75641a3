//! The working tree: files and directories of a session, one SQLite row each.
//!
//! Every public operation is one SQLite transaction: it happens entirely or not at all. Each
//! file's git blob id is computed when it is written, so git can compare ids without re-hashing.

use gix_object::Kind;
use rusqlite::{OptionalExtension, Transaction, params};

use super::objects::{ObjectDb, object_id};
use super::path::{self, PathError, is_beneath, normalize};
use super::{SessionDb, StorageOptions, now_ms};

/// Git's file mode for a regular, non-executable file.
pub const MODE_FILE: u32 = 0o100644;
/// Git's mode for a tree (directory).
pub const MODE_DIR: u32 = 0o040000;

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
    /// The path was refused (the message says why).
    #[error("invalid path: {0}")]
    InvalidPath(String),
    /// The contents exceed the maximum file size.
    #[error("file too large: {0}")]
    TooLarge(String),
    /// The write would take the workspace over its byte or file quota.
    #[error("workspace quota exceeded: {0}")]
    QuotaExceeded(String),
    /// Storage failed; nothing was changed.
    #[error("storage error: {0}")]
    Io(String),
}

impl From<PathError> for FsError {
    fn from(e: PathError) -> Self {
        FsError::InvalidPath(e.to_string())
    }
}

impl From<rusqlite::Error> for FsError {
    fn from(e: rusqlite::Error) -> Self {
        FsError::Io(e.to_string())
    }
}

impl From<std::io::Error> for FsError {
    fn from(e: std::io::Error) -> Self {
        FsError::Io(e.to_string())
    }
}

/// The git blob id (SHA-1 of `blob <len>\0<contents>`) of some contents, in hex.
pub fn git_blob_id(contents: &[u8]) -> String {
    object_id(Kind::Blob, contents).to_hex().to_string()
}

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

/// The kind of the entry at a normalised path, if any.
pub(crate) fn kind_at(tx: &Transaction<'_>, path: &str) -> rusqlite::Result<Option<EntryKind>> {
    if path == "/" {
        return Ok(Some(EntryKind::Directory));
    }
    let kind: Option<i64> = tx
        .query_row("SELECT kind FROM files WHERE path = ?1", [path], |row| row.get(0))
        .optional()?;
    Ok(kind.map(|k| if k == 1 { EntryKind::Directory } else { EntryKind::File }))
}

/// Creates `dir` and its missing ancestors; fails if one of them is a file.
pub(crate) fn ensure_dir(tx: &Transaction<'_>, dir: &str, now: u64) -> Result<(), FsError> {
    if dir == "/" {
        return Ok(());
    }
    let mut at = 0;
    while at < dir.len() {
        let end = dir[at + 1..].find('/').map_or(dir.len(), |i| at + 1 + i);
        let prefix = &dir[..end];
        match kind_at(tx, prefix)? {
            Some(EntryKind::Directory) => {}
            Some(EntryKind::File) => return Err(FsError::NotADirectory(prefix.to_string())),
            None => {
                tx.execute(
                    "INSERT INTO files(path, parent, kind, mode, size, mtime_ms) VALUES (?1, ?2, 1, ?3, 0, ?4)",
                    params![prefix, path::parent(prefix), MODE_DIR, now as i64],
                )?;
            }
        }
        at = end;
    }
    Ok(())
}

/// Points the file at `path` (whose parent directory exists) to the blob `id`.
pub(crate) fn set_file(tx: &Transaction<'_>, path: &str, id: &str, size: u64, now: u64) -> Result<(), FsError> {
    tx.execute(
        "INSERT INTO files(path, parent, kind, mode, size, blob_id, mtime_ms) VALUES (?1, ?2, 0, ?3, ?4, ?5, ?6)
         ON CONFLICT(path) DO UPDATE SET size = excluded.size, blob_id = excluded.blob_id, mtime_ms = excluded.mtime_ms",
        params![path, path::parent(path), MODE_FILE, size as i64, id, now as i64],
    )?;
    Ok(())
}

/// Refuses a write of `size` bytes to `path` that would exceed the workspace quotas.
fn check_quota(tx: &Transaction<'_>, options: &StorageOptions, path: &str, size: u64) -> Result<(), FsError> {
    let (files, bytes): (i64, i64) = tx.query_row("SELECT files, bytes FROM totals WHERE id = 0", [], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    let existing: Option<i64> = tx
        .query_row("SELECT size FROM files WHERE path = ?1 AND kind = 0", [path], |r| {
            r.get(0)
        })
        .optional()?;
    let files = files as u64 + u64::from(existing.is_none());
    let bytes = (bytes - existing.unwrap_or(0)) as u64 + size;
    if files > options.max_workspace_files {
        return Err(FsError::QuotaExceeded(format!(
            "the workspace may hold at most {} files",
            options.max_workspace_files
        )));
    }
    if bytes > options.max_workspace_bytes {
        return Err(FsError::QuotaExceeded(format!(
            "the workspace may hold at most {} bytes of files",
            options.max_workspace_bytes
        )));
    }
    Ok(())
}

/// The bounds `(low, high)` such that `low < p < high` selects every path beneath `dir`.
pub(crate) fn subtree_bounds(dir: &str) -> (String, String) {
    if dir == "/" {
        ("/".into(), "0".into())
    } else {
        (format!("{dir}/"), format!("{dir}0"))
    }
}

impl SessionDb {
    /// Reads a file's contents.
    pub fn read_file(&self, path: &str) -> Result<Vec<u8>, FsError> {
        let path = normalize(path)?;
        let id = match self.blob_id(&path) {
            Err(FsError::NotFound(p)) if p == "/" => return Err(FsError::NotAFile(p)),
            other => other?,
        };
        let id = gix_hash::ObjectId::from_hex(id.as_bytes()).map_err(|e| FsError::Io(e.to_string()))?;
        match self.objects().get(&id) {
            Ok(Some((_, data))) => Ok(data),
            Ok(None) => Err(FsError::Io(format!("missing blob {id} for {path}"))),
            Err(e) => Err(FsError::Io(e.to_string())),
        }
    }

    /// Creates or replaces a file, creating missing parent directories.
    pub fn write_file(&mut self, path: &str, contents: &[u8]) -> Result<(), FsError> {
        let path = normalize(path)?;
        if path == "/" {
            return Err(FsError::NotAFile(path));
        }
        if contents.len() as u64 > self.options.max_file_bytes {
            return Err(FsError::TooLarge(path));
        }
        let now = now_ms();
        let tx = self.conn.transaction()?;
        ensure_dir(&tx, path::parent(&path), now)?;
        if kind_at(&tx, &path)? == Some(EntryKind::Directory) {
            return Err(FsError::NotAFile(path));
        }
        check_quota(&tx, &self.options, &path, contents.len() as u64)?;
        let id = ObjectDb::new(&tx, &self.blobs, self.options.spill_threshold)
            .put(Kind::Blob, contents)
            .map_err(|e| FsError::Io(e.to_string()))?;
        set_file(&tx, &path, &id.to_hex().to_string(), contents.len() as u64, now)?;
        tx.commit()?;
        Ok(())
    }

    /// Describes one path.
    pub fn stat(&self, path: &str) -> Result<Entry, FsError> {
        let path = normalize(path)?;
        if path == "/" {
            return Ok(root_entry());
        }
        self.conn
            .query_row(
                &format!("SELECT {ENTRY_COLUMNS} FROM files WHERE path = ?1"),
                [&path],
                entry_from_row,
            )
            .optional()?
            .ok_or(FsError::NotFound(path))
    }

    /// The git blob id recorded for a file when it was last written.
    pub fn blob_id(&self, path: &str) -> Result<String, FsError> {
        let path = normalize(path)?;
        let id: Option<Option<String>> = self
            .conn
            .query_row("SELECT blob_id FROM files WHERE path = ?1", [&path], |row| row.get(0))
            .optional()?;
        match id {
            Some(Some(id)) => Ok(id),
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
    pub fn list_dir(&self, path: &str) -> Result<Vec<Entry>, FsError> {
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
    pub fn mkdir(&mut self, path: &str) -> Result<(), FsError> {
        let path = normalize(path)?;
        let tx = self.conn.transaction()?;
        ensure_dir(&tx, &path, now_ms())?;
        tx.commit()?;
        Ok(())
    }

    /// Removes a file, or a directory (with its contents when `recursive`).
    pub fn remove(&mut self, path: &str, recursive: bool) -> Result<(), FsError> {
        let path = normalize(path)?;
        if path == "/" {
            return Err(FsError::InvalidPath("the workspace root cannot be removed".into()));
        }
        let tx = self.conn.transaction()?;
        match kind_at(&tx, &path)? {
            None => return Err(FsError::NotFound(path)),
            Some(EntryKind::File) => {}
            Some(EntryKind::Directory) => {
                let (low, high) = subtree_bounds(&path);
                if !recursive {
                    let children: i64 = tx.query_row(
                        "SELECT COUNT(*) FROM (SELECT 1 FROM files WHERE path > ?1 AND path < ?2 LIMIT 1)",
                        [&low, &high],
                        |row| row.get(0),
                    )?;
                    if children > 0 {
                        return Err(FsError::DirectoryNotEmpty(path));
                    }
                }
                tx.execute("DELETE FROM files WHERE path > ?1 AND path < ?2", [&low, &high])?;
            }
        }
        tx.execute("DELETE FROM files WHERE path = ?1", [&path])?;
        tx.commit()?;
        Ok(())
    }

    /// Moves a file or a directory (with its contents); refuses to replace an existing path.
    pub fn rename(&mut self, from: &str, to: &str) -> Result<(), FsError> {
        let from = normalize(from)?;
        let to = normalize(to)?;
        if from == "/" || to == "/" {
            return Err(FsError::InvalidPath(
                "the workspace root cannot be moved or replaced".into(),
            ));
        }
        if is_beneath(&to, &from) {
            return Err(FsError::InvalidPath(format!(
                "cannot move '{from}' into itself ('{to}')"
            )));
        }
        let now = now_ms();
        let tx = self.conn.transaction()?;
        let Some(kind) = kind_at(&tx, &from)? else {
            return Err(FsError::NotFound(from));
        };
        if from == to {
            return Ok(());
        }
        if kind_at(&tx, &to)?.is_some() {
            return Err(FsError::AlreadyExists(to));
        }
        ensure_dir(&tx, path::parent(&to), now)?;
        tx.execute(
            "UPDATE files SET path = ?2, parent = ?3, mtime_ms = ?4 WHERE path = ?1",
            params![from, to, path::parent(&to), now as i64],
        )?;
        if kind == EntryKind::Directory {
            let (low, high) = subtree_bounds(&from);
            tx.execute(
                "UPDATE files SET path = ?3 || substr(path, ?4), parent = ?3 || substr(parent, ?4)
                 WHERE path > ?1 AND path < ?2",
                params![low, high, to, from.len() as i64 + 1],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Totals over the working tree.
    pub fn stats(&self) -> Result<Stats, FsError> {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::StorageOptions;

    fn db(options: StorageOptions) -> (tempfile::TempDir, SessionDb) {
        let tmp = tempfile::tempdir().unwrap();
        let db = SessionDb::create(&tmp.path().join("s.sqlite"), &tmp.path().join("blobs"), options).unwrap();
        (tmp, db)
    }

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
        assert!(matches!(db.rename("/d", "/d/e/f"), Err(FsError::InvalidPath(_))));
        db.write_file("/taken", b"").unwrap();
        assert!(matches!(db.rename("/d", "/taken"), Err(FsError::AlreadyExists(_))));
        db.rename("/d", "/n/m").unwrap();
        assert_eq!(db.read_file("/n/m/e/b").unwrap(), b"2");
        assert_eq!(db.list_dir("/n/m/e").unwrap().len(), 1);
        assert!(matches!(db.stat("/d/a"), Err(FsError::NotFound(_))));
        db.remove("/n", true).unwrap();
        assert_eq!(db.stats().unwrap().file_count, 1);
        assert!(matches!(db.remove("/", true), Err(FsError::InvalidPath(_))));
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
            .conn
            .query_row("SELECT files, bytes FROM totals", [], |r| Ok((r.get(0)?, r.get(1)?)))
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
            Err(super::super::OpenError::AlreadyExists)
        ));
        let db = SessionDb::open(&dbp, &blobs, StorageOptions::default()).unwrap();
        assert_eq!(db.read_file("/keep").unwrap(), b"kept");
        assert!(matches!(
            SessionDb::open(&tmp.path().join("none.sqlite"), &blobs, StorageOptions::default()),
            Err(super::super::OpenError::NotFound)
        ));
    }
}

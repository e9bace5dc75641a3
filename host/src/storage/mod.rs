//! Session storage: one SQLite database per session (working tree, conversation, metadata) plus a
//! content-addressed spill directory for large files.

pub mod blobs;
pub mod conversation;
pub mod files;
pub mod objects;
pub mod path;

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OpenFlags, OptionalExtension};

pub use self::blobs::BlobDir;
pub use self::files::{Entry, EntryKind, FsError, Stats};
pub use self::objects::{ObjectDb, ObjectError};

/// Limits and thresholds of a session's storage.
#[derive(Debug, Clone, Copy)]
pub struct StorageOptions {
    /// Files of at least this many bytes are stored in the blob directory, not the database.
    pub spill_threshold: u64,
    /// Largest file a write accepts.
    pub max_file_bytes: u64,
    /// Most bytes of files in the working tree.
    pub max_workspace_bytes: u64,
    /// Most files in the working tree.
    pub max_workspace_files: u64,
}

impl Default for StorageOptions {
    fn default() -> Self {
        Self {
            spill_threshold: 1_500_000,
            max_file_bytes: 100 * 1024 * 1024,
            max_workspace_bytes: 1024 * 1024 * 1024,
            max_workspace_files: 100_000,
        }
    }
}

/// Why a session database could not be opened or created.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// No database exists at that path.
    #[error("session does not exist")]
    NotFound,
    /// A database already exists at that path.
    #[error("session already exists")]
    AlreadyExists,
    /// SQLite failed.
    #[error("session database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The blob directory could not be opened.
    #[error("blob directory: {0}")]
    Io(#[from] std::io::Error),
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS files (
    path     TEXT PRIMARY KEY,   -- normalised absolute path; the root '/' is implicit
    parent   TEXT NOT NULL,      -- normalised path of the containing directory
    kind     INTEGER NOT NULL,   -- 0 file, 1 directory
    mode     INTEGER NOT NULL,   -- git file mode
    size     INTEGER NOT NULL,
    blob_id  TEXT,               -- the blob object holding a file's contents, set at write time
    mtime_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS files_by_parent ON files(parent, path);
CREATE TABLE IF NOT EXISTS objects (
    id      TEXT PRIMARY KEY,    -- git object id (SHA-1, hex)
    kind    INTEGER NOT NULL,    -- 1 commit, 2 tree, 3 blob, 4 tag
    size    INTEGER NOT NULL,
    data    BLOB,                -- canonical git encoding (no header), NULL when spilled
    spilled INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS refs (
    name  TEXT PRIMARY KEY,      -- 'HEAD' or 'refs/heads/<branch>'
    value TEXT NOT NULL          -- an object id, or 'ref: <name>' for a symbolic ref
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS staged (
    path    TEXT PRIMARY KEY,    -- the index (staging area): tracked files and their staged blobs
    mode    INTEGER NOT NULL,
    blob_id TEXT NOT NULL
) WITHOUT ROWID;
-- Running totals of the working tree's files, kept by triggers so quota checks read one row.
CREATE TABLE IF NOT EXISTS totals (
    id    INTEGER PRIMARY KEY CHECK (id = 0),
    files INTEGER NOT NULL,
    bytes INTEGER NOT NULL
);
INSERT OR IGNORE INTO totals SELECT 0, COUNT(*), COALESCE(SUM(size), 0) FROM files
    WHERE kind = 0 AND NOT EXISTS (SELECT 1 FROM totals);
CREATE TRIGGER IF NOT EXISTS totals_on_insert AFTER INSERT ON files WHEN NEW.kind = 0
BEGIN UPDATE totals SET files = files + 1, bytes = bytes + NEW.size; END;
CREATE TRIGGER IF NOT EXISTS totals_on_delete AFTER DELETE ON files WHEN OLD.kind = 0
BEGIN UPDATE totals SET files = files - 1, bytes = bytes - OLD.size; END;
CREATE TRIGGER IF NOT EXISTS totals_on_update AFTER UPDATE OF size ON files WHEN NEW.kind = 0
BEGIN UPDATE totals SET bytes = bytes - OLD.size + NEW.size; END;
CREATE TABLE IF NOT EXISTS messages (
    seq        INTEGER PRIMARY KEY,
    role       TEXT NOT NULL,
    content    TEXT NOT NULL,    -- JSON array of content blocks
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
";

/// One session's database, open for the duration of a request.
#[derive(Debug)]
pub struct SessionDb {
    conn: Connection,
    blobs: BlobDir,
    options: StorageOptions,
}

impl SessionDb {
    /// Creates a new session database at `db_path`, with its blob directory at `blob_path`.
    pub fn create(db_path: &Path, blob_path: &Path, options: StorageOptions) -> Result<Self, OpenError> {
        if db_path.exists() {
            return Err(OpenError::AlreadyExists);
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(db_path, flags)?;
        let mut db = Self::configure(conn, blob_path, options)?;
        db.conn.execute_batch(SCHEMA)?;
        db.set_meta("created_ms", &now_ms().to_string())?;
        Ok(db)
    }

    /// Opens an existing session database.
    pub fn open(db_path: &Path, blob_path: &Path, options: StorageOptions) -> Result<Self, OpenError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = match Connection::open_with_flags(db_path, flags) {
            Ok(conn) => conn,
            Err(_) if !db_path.exists() => return Err(OpenError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let db = Self::configure(conn, blob_path, options)?;
        db.conn.execute_batch(SCHEMA)?;
        Ok(db)
    }

    fn configure(conn: Connection, blob_path: &Path, options: StorageOptions) -> Result<Self, OpenError> {
        // WAL: readers never block the writer. synchronous=NORMAL in WAL mode survives a process
        // crash (SIGKILL) without losing a committed transaction; only power loss can drop the
        // last commits.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(Self {
            conn,
            blobs: BlobDir::open(blob_path)?,
            options,
        })
    }

    /// Reads a metadata value.
    pub fn meta(&self, key: &str) -> rusqlite::Result<Option<String>> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| row.get(0))
            .optional()
    }

    /// Writes a metadata value.
    pub fn set_meta(&mut self, key: &str, value: &str) -> rusqlite::Result<()> {
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }

    /// The session's git object database.
    pub fn objects(&self) -> ObjectDb<'_> {
        ObjectDb::new(&self.conn, &self.blobs, self.options.spill_threshold)
    }

    /// The underlying connection, for the git layer's own tables.
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The underlying connection, mutably (to open transactions).
    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The storage options this database was opened with.
    pub fn options(&self) -> StorageOptions {
        self.options
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

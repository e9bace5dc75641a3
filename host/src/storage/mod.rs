//! Session storage, and the only place with SQL: one SQLite database per session plus a
//! content-addressed spill directory for large files.
//!
//! [`SessionDb`] opens a session's database and runs transactions. Each transaction hands out
//! typed stores over the same connection ([`Stores`]), one per job:
//!
//! | store | table(s) | holds |
//! |---|---|---|
//! | [`Worktree`] | `files`, `totals` | the working tree: paths → blob ids, quotas |
//! | [`Index`] | `staged` | git's index (the staging area) |
//! | [`Refs`] | `refs` | HEAD and branches |
//! | [`ObjectDb`] | `objects` + [`BlobDir`] | git objects |
//! | [`Conversation`] | `messages` | the persisted conversation |
//! | [`Meta`] | `meta` | session settings (author, template, creation time) |
//!
//! Keys are typed: object ids are [`gix_hash::ObjectId`], modes [`EntryMode`]. The schema is
//! versioned ([`schema`]).

pub mod blobs;
pub mod catalogue;
pub mod checkpoints;
pub mod conversation;
pub mod error;
pub mod index;
pub mod meta;
pub mod objects;
pub mod path;
pub mod refs;
pub mod schema;
pub mod worktree;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

pub use self::blobs::BlobDir;
pub use self::catalogue::{Catalogue, Cursor, SessionSummary};
pub use self::checkpoints::{Checkpoint, Checkpoints, FileChangeKind};
pub use self::conversation::Conversation;
pub use self::error::StorageError;
pub use self::index::{Index, Snapshot, TrackedFile};
pub use self::meta::Meta;
pub use self::objects::ObjectDb;
pub use self::refs::{RefValue, Refs};
pub use self::worktree::{Entry, EntryKind, FsError, Stats, Worktree};
pub use gix_object::tree::EntryMode;

/// WAL pages (4 KiB each) after which a commit checkpoints: about 40 MB.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 10_000;

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
    /// The database or the blob directory failed, or the schema could not be brought up to date.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<rusqlite::Error> for OpenError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Storage(e.into())
    }
}

impl From<std::io::Error> for OpenError {
    fn from(e: std::io::Error) -> Self {
        Self::Storage(e.into())
    }
}

/// One session's database, open for the duration of a request or a chat.
///
/// [`SessionDb::suspend`] closes its files while it is not needed (a chat waiting for the model
/// holds none); the next transaction reopens them.
#[derive(Debug)]
pub struct SessionDb {
    open: RefCell<Option<OpenFiles>>,
    db_path: PathBuf,
    blob_path: PathBuf,
    options: StorageOptions,
}

/// The open connection and blob directory of a [`SessionDb`].
#[derive(Debug)]
struct OpenFiles {
    conn: Connection,
    blobs: BlobDir,
}

impl SessionDb {
    /// Creates a new session database at `db_path`, with its blob directory at `blob_path`.
    pub fn create(db_path: &Path, blob_path: &Path, options: StorageOptions) -> Result<Self, OpenError> {
        if db_path.exists() {
            return Err(OpenError::AlreadyExists);
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut db = Self::configure(
            Connection::open_with_flags(db_path, flags)?,
            db_path,
            blob_path,
            options,
        )?;
        db.write(|s| s.meta().set(meta::CREATED_MS, &now_ms().to_string()))?;
        Ok(db)
    }

    /// Opens an existing session database, migrating its schema if it is older than this build.
    pub fn open(db_path: &Path, blob_path: &Path, options: StorageOptions) -> Result<Self, OpenError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = match Connection::open_with_flags(db_path, flags) {
            Ok(conn) => conn,
            Err(_) if !db_path.exists() => return Err(OpenError::NotFound),
            Err(e) => return Err(e.into()),
        };
        Self::configure(conn, db_path, blob_path, options)
    }

    fn configure(
        conn: Connection,
        db_path: &Path,
        blob_path: &Path,
        options: StorageOptions,
    ) -> Result<Self, OpenError> {
        // WAL: readers never block the writer.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        Self::configure_connection(&conn)?;
        schema::migrate(&conn)?;
        Ok(Self {
            open: RefCell::new(Some(OpenFiles {
                conn,
                blobs: BlobDir::open(blob_path)?,
            })),
            db_path: db_path.to_path_buf(),
            blob_path: blob_path.to_path_buf(),
            options,
        })
    }

    /// The per-connection settings.
    fn configure_connection(conn: &Connection) -> Result<(), StorageError> {
        // synchronous=NORMAL in WAL mode survives a process crash (SIGKILL) without losing a
        // committed transaction: a commit is in the WAL file (the OS's page cache) when it returns,
        // and the next open replays it. Only power loss can drop the commits since the last
        // checkpoint (never corrupting the database); FULL would close that window with an fsync
        // per commit, which costs more than the whole write it follows.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Checkpoint (copy the WAL into the database, with its two fsyncs) every ~40 MB of WAL
        // rather than SQLite's 4 MB: a burst of writes pays ten times fewer fsyncs, and pages
        // written again and again (indexes, totals) are copied once. Against a crash nothing
        // changes (a commit in the WAL is as safe as one in the database); against power loss
        // the window above grows from ~4 MB of recent writes to ~40 MB.
        conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        persist_wal(conn, true)?;
        // A WAL kept between connections is cut back to this size after each checkpoint.
        conn.pragma_update(None, "journal_size_limit", 1 << 20)?;
        Ok(())
    }

    /// Closes the database's files until the next transaction reopens them, so an idle holder
    /// (a chat waiting for the model) costs no file descriptors and no page cache. Closing does
    /// not checkpoint the WAL: committed transactions stay in it, as durable as before, and the
    /// next commits checkpoint as usual.
    pub fn suspend(&mut self) {
        let Some(open) = self.open.get_mut().take() else {
            return;
        };
        if let Err(e) = open
            .conn
            .set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
        {
            tracing::debug!("closing with a checkpoint: {e}");
        }
        if let Err((_, e)) = open.conn.close() {
            tracing::warn!(path = %self.db_path.display(), "closing a suspended session database: {e}");
        }
    }

    /// Runs `f` over the open files, reopening them after [`SessionDb::suspend`].
    fn with_open<T, E: From<StorageError>>(&self, f: impl FnOnce(&OpenFiles) -> Result<T, E>) -> Result<T, E> {
        let mut open = self.open.borrow_mut();
        if open.is_none() {
            *open = Some(self.reopen()?);
        }
        f(open.as_ref().expect("opened above"))
    }

    /// Opens the files again after [`SessionDb::suspend`].
    fn reopen(&self) -> Result<OpenFiles, StorageError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.db_path, flags)?;
        Self::configure_connection(&conn)?;
        Ok(OpenFiles {
            conn,
            blobs: BlobDir::open(&self.blob_path)?,
        })
    }

    /// Runs `f` in a read transaction: every store it reads sees one consistent state.
    pub fn read<T, E: From<StorageError>>(&self, f: impl FnOnce(Stores<'_>) -> Result<T, E>) -> Result<T, E> {
        self.transaction(TransactionBehavior::Deferred, f)
    }

    /// Runs `f` in a write transaction: everything it changes is committed together when it
    /// returns `Ok`, and nothing is when it returns `Err` (or panics).
    pub fn write<T, E: From<StorageError>>(&mut self, f: impl FnOnce(Stores<'_>) -> Result<T, E>) -> Result<T, E> {
        // `&mut self`: one write at a time per connection, checked by the compiler. IMMEDIATE takes
        // the write lock up front, so a concurrent writer waits instead of failing half-way.
        self.transaction(TransactionBehavior::Immediate, f)
    }

    /// The one place a transaction is opened.
    fn transaction<T, E: From<StorageError>>(
        &self,
        behavior: TransactionBehavior,
        f: impl FnOnce(Stores<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        self.with_open(|open| {
            let tx = Transaction::new_unchecked(&open.conn, behavior).map_err(StorageError::from)?;
            let out = f(Stores {
                conn: &tx,
                blobs: &open.blobs,
                options: &self.options,
            })?;
            tx.commit().map_err(StorageError::from)?;
            Ok(out)
        })
    }

    /// Closes the database leaving it one self-contained file (rollback journal, no WAL beside
    /// it), so it can be renamed into place atomically. It reopens in WAL mode as usual.
    pub fn close_to_single_file(self) -> Result<(), StorageError> {
        let conn = match self.open.into_inner() {
            Some(open) => open.conn,
            // Suspended: reopen just to switch the journal mode.
            None => Connection::open_with_flags(&self.db_path, OpenFlags::SQLITE_OPEN_READ_WRITE)?,
        };
        // The WAL and shared memory go with WAL mode; nothing is left beside the file.
        persist_wal(&conn, false)?;
        conn.pragma_update(None, "journal_mode", "DELETE")?;
        conn.close().map_err(|(_, e)| e)?;
        Ok(())
    }

    /// Writes a consistent copy of the database to `path` (a new file) with SQLite's
    /// `VACUUM INTO`: it reads one snapshot, so writers may carry on meanwhile. Spilled blobs are
    /// not copied: they live beside the database.
    pub fn copy_to(&self, path: &Path) -> Result<(), StorageError> {
        let path = path
            .to_str()
            .ok_or_else(|| StorageError::Io(std::io::Error::other("the data directory's path is not UTF-8")))?;
        self.with_open(|open| Ok::<_, StorageError>(open.conn.execute("VACUUM INTO ?1", [path])?))?;
        Ok(())
    }

    /// The storage options this database was opened with.
    pub fn options(&self) -> StorageOptions {
        self.options
    }

    /// The database file's path: the session's identity on this server.
    pub fn path(&self) -> &Path {
        &self.db_path
    }
}

/// Whether the WAL and shared-memory files stay when the last connection closes (SQLite's
/// `SQLITE_FCNTL_PERSIST_WAL`). A session's database is opened and closed for every request and
/// chat; creating and unlinking two files each time is, under load, most of the cost (ext4 inode
/// allocation in one directory). Closing still checkpoints the WAL into the database.
fn persist_wal(conn: &Connection, persist: bool) -> Result<(), StorageError> {
    use rusqlite::ffi;
    let mut on = std::ffi::c_int::from(persist);
    // SAFETY: `conn.handle()` is this open connection's handle, used on this thread only (a
    // `Connection` is not `Sync` and is borrowed for the call); the file control reads and
    // writes the one `c_int` passed, which outlives the call; "main" is a NUL-terminated name.
    #[allow(unsafe_code, reason = "rusqlite has no safe wrapper for sqlite3_file_control")]
    let rc = unsafe {
        ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            ffi::SQLITE_FCNTL_PERSIST_WAL,
            (&raw mut on).cast(),
        )
    };
    if rc != ffi::SQLITE_OK {
        return Err(rusqlite::Error::SqliteFailure(ffi::Error::new(rc), None).into());
    }
    Ok(())
}

/// The typed stores of one session, over one open transaction (see [`SessionDb::read`] and
/// [`SessionDb::write`]).
#[derive(Clone, Copy)]
pub struct Stores<'a> {
    conn: &'a Connection,
    blobs: &'a BlobDir,
    options: &'a StorageOptions,
}

impl<'a> Stores<'a> {
    /// The limits and thresholds the session was opened with.
    pub fn options(&self) -> StorageOptions {
        *self.options
    }

    /// The working tree.
    pub fn worktree(&self) -> Worktree<'a> {
        Worktree::new(self.conn, self.objects(), self.options)
    }

    /// Git's index.
    pub fn index(&self) -> Index<'a> {
        Index::new(self.conn)
    }

    /// HEAD and branches.
    pub fn refs(&self) -> Refs<'a> {
        Refs::new(self.conn)
    }

    /// Git objects.
    pub fn objects(&self) -> ObjectDb<'a> {
        ObjectDb::new(self.conn, self.blobs, self.options.spill_threshold)
    }

    /// The conversation.
    pub fn conversation(&self) -> Conversation<'a> {
        Conversation::new(self.conn)
    }

    /// Checkpoints of the working tree.
    pub fn checkpoints(&self) -> Checkpoints<'a> {
        Checkpoints::new(self.conn)
    }

    /// Session settings.
    pub fn meta(&self) -> Meta<'a> {
        Meta::new(self.conn)
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
pub(crate) mod tests;

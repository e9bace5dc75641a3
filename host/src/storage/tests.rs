//! Test helpers for the storage layer (one-call-per-transaction shorthands, as the workspace
//! import uses them), and the schema migration tests.

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use super::*;

/// A fresh session database in a temporary directory.
pub(crate) fn db(options: StorageOptions) -> (tempfile::TempDir, SessionDb) {
    let tmp = tempfile::tempdir().unwrap();
    let db = SessionDb::create(&tmp.path().join("s.sqlite"), &tmp.path().join("blobs"), options).unwrap();
    (tmp, db)
}

/// Each working-tree call in its own transaction, as one workspace import call runs.
pub(crate) trait WorktreeCalls {
    fn write_file(&mut self, path: &str, contents: &[u8]) -> Result<(), FsError>;
    fn read_file(&self, path: &str) -> Result<Vec<u8>, FsError>;
    fn stat(&self, path: &str) -> Result<Entry, FsError>;
    fn blob_id(&self, path: &str) -> Result<String, FsError>;
    fn list_dir(&self, path: &str) -> Result<Vec<Entry>, FsError>;
    fn walk(&self, path: &str) -> Result<Vec<Entry>, FsError>;
    fn mkdir(&mut self, path: &str) -> Result<(), FsError>;
    fn remove(&mut self, path: &str, recursive: bool) -> Result<(), FsError>;
    fn rename(&mut self, from: &str, to: &str) -> Result<(), FsError>;
    fn stats(&self) -> Result<Stats, StorageError>;
}

impl WorktreeCalls for SessionDb {
    fn write_file(&mut self, path: &str, contents: &[u8]) -> Result<(), FsError> {
        self.write(|s| s.worktree().write(path, contents).map(drop))
    }
    fn read_file(&self, path: &str) -> Result<Vec<u8>, FsError> {
        self.read(|s| s.worktree().read(path))
    }
    fn stat(&self, path: &str) -> Result<Entry, FsError> {
        self.read(|s| s.worktree().stat(path))
    }
    fn blob_id(&self, path: &str) -> Result<String, FsError> {
        self.read(|s| s.worktree().blob_id(path))
            .map(|id| id.to_hex().to_string())
    }
    fn list_dir(&self, path: &str) -> Result<Vec<Entry>, FsError> {
        self.read(|s| s.worktree().list(path))
    }
    fn walk(&self, path: &str) -> Result<Vec<Entry>, FsError> {
        self.read(|s| s.worktree().walk(path))
    }
    fn mkdir(&mut self, path: &str) -> Result<(), FsError> {
        self.write(|s| s.worktree().mkdir(path))
    }
    fn remove(&mut self, path: &str, recursive: bool) -> Result<(), FsError> {
        self.write(|s| s.worktree().remove(path, recursive))
    }
    fn rename(&mut self, from: &str, to: &str) -> Result<(), FsError> {
        self.write(|s| s.worktree().rename(from, to))
    }
    fn stats(&self) -> Result<Stats, StorageError> {
        self.read(|s| s.worktree().stats())
    }
}

/// The schema the first releases ran on every open, without recording a version, as of the
/// commit that added the running totals; and the one before it, without them.
const UNVERSIONED_SCHEMA: &str = include_str!("testdata/unversioned_schema.sql");

fn unversioned_db(dir: &Path, with_totals: bool) -> PathBuf {
    let path = dir.join("old.sqlite");
    let conn = Connection::open(&path).unwrap();
    let schema = if with_totals {
        UNVERSIONED_SCHEMA.to_string()
    } else {
        let cut = UNVERSIONED_SCHEMA.find("-- Running totals").unwrap();
        let rest = UNVERSIONED_SCHEMA.find("CREATE TABLE IF NOT EXISTS messages").unwrap();
        format!("{}{}", &UNVERSIONED_SCHEMA[..cut], &UNVERSIONED_SCHEMA[rest..])
    };
    conn.execute_batch(&schema).unwrap();
    // What those releases wrote for a session with one file, one commit's worth of refs and a
    // message; the blob is inline.
    conn.execute_batch(
        "INSERT INTO objects VALUES ('ce013625030ba8dba906f756967f9e9ca394464a', 3, 6, X'68656C6C6F0A', 0);
         INSERT INTO files VALUES ('/src', '/', 1, 16384, 0, NULL, 1);
         INSERT INTO files VALUES ('/src/a.txt', '/src', 0, 33188, 6, 'ce013625030ba8dba906f756967f9e9ca394464a', 1);
         INSERT INTO refs VALUES ('HEAD', 'ref: refs/heads/main');
         INSERT INTO staged VALUES ('src/a.txt', 33188, 'ce013625030ba8dba906f756967f9e9ca394464a');
         INSERT INTO messages(role, content, created_ms) VALUES ('user', '[{\"type\":\"text\",\"text\":\"hi\"}]', 1);
         INSERT INTO meta VALUES ('created_ms', '1');",
    )
    .unwrap();
    assert_eq!(schema::version(&conn).unwrap(), 0);
    path
}

#[test]
fn a_new_database_is_at_the_current_version() {
    let (tmp, db) = db(StorageOptions::default());
    drop(db);
    let conn = Connection::open(tmp.path().join("s.sqlite")).unwrap();
    assert_eq!(schema::version(&conn).unwrap(), schema::CURRENT_VERSION);
}

#[test]
fn unversioned_databases_open_migrate_and_keep_their_data() {
    for with_totals in [true, false] {
        let tmp = tempfile::tempdir().unwrap();
        let path = unversioned_db(tmp.path(), with_totals);
        let mut db = SessionDb::open(&path, &tmp.path().join("blobs"), StorageOptions::default()).unwrap();
        assert_eq!(db.read_file("/src/a.txt").unwrap(), b"hello\n");
        assert_eq!(db.read(|s| s.conversation().count()).unwrap(), 1);
        assert_eq!(db.read(|s| s.index().entries()).unwrap().len(), 1);
        assert_eq!(
            db.read(|s| s.refs().get("HEAD")).unwrap(),
            Some(RefValue::Symbolic("refs/heads/main".into()))
        );
        // The running totals are there and right, whether or not the old schema had them.
        db.write_file("/b.txt", b"12").unwrap();
        let totals: (i64, i64) = db
            .read(|s| {
                s.conn
                    .query_row("SELECT files, bytes FROM totals", [], |r| Ok((r.get(0)?, r.get(1)?)))
                    .map_err(StorageError::from)
            })
            .unwrap();
        assert_eq!(totals, (2, 8), "with_totals: {with_totals}");
        drop(db);
        let conn = Connection::open(&path).unwrap();
        assert_eq!(schema::version(&conn).unwrap(), schema::CURRENT_VERSION);
        assert_eq!(
            conn.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))
                .unwrap(),
            "ok"
        );
        // Objects live in a rowid table (migration 4), their blob kept.
        let blob: (i64, Vec<u8>) = conn
            .query_row(
                "SELECT rowid, data FROM objects WHERE id = 'ce013625030ba8dba906f756967f9e9ca394464a'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(blob.1, b"hello\n");
    }
}

#[test]
fn a_database_from_a_newer_build_is_refused() {
    let (tmp, db) = db(StorageOptions::default());
    drop(db);
    let path = tmp.path().join("s.sqlite");
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", schema::CURRENT_VERSION + 1)
        .unwrap();
    let err = SessionDb::open(&path, &tmp.path().join("blobs"), StorageOptions::default()).unwrap_err();
    assert!(err.to_string().contains("newer than this build"), "{err}");
}

#[test]
fn a_failed_write_transaction_changes_nothing() {
    let (_tmp, mut db) = db(StorageOptions::default());
    let result: Result<(), FsError> = db.write(|s| {
        s.worktree().write("/a", b"1")?;
        s.worktree().write("/", b"2").map(drop)
    });
    assert!(matches!(result, Err(FsError::NotAFile(_))));
    assert!(matches!(db.read_file("/a"), Err(FsError::NotFound(_))));
}

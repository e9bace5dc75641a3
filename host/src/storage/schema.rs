//! The session database's schema, versioned with `PRAGMA user_version` and numbered migrations.
//!
//! A database records the number of migrations applied to it. Opening one applies the missing
//! migrations in order, each in its own transaction together with the version bump, so a crash
//! leaves a database at some whole version. A database newer than this build is refused rather
//! than misread.
//!
//! Migration 1 is the schema the first releases created without recording a version (they ran it
//! with `IF NOT EXISTS` on every open). It is written to be applied over any of those databases:
//! one that predates the `totals` table gets it, filled from its files.

use rusqlite::{Connection, TransactionBehavior};

use super::StorageError;

/// The migrations, in order: after applying `MIGRATIONS[..n]` a database is at version `n`.
const MIGRATIONS: &[&str] = &[
    // 1: working tree, objects, refs, index, totals, conversation, meta.
    "
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
",
    // 2: the model's view of the conversation (a chain through `parent`, moved by revert
    // markers), and checkpoints of the working tree.
    "
ALTER TABLE messages ADD COLUMN parent INTEGER;    -- the message before this one in the model's view
ALTER TABLE messages ADD COLUMN view_tip INTEGER;  -- the last message of the model's view after this row
UPDATE messages SET parent = (SELECT MAX(p.seq) FROM messages p WHERE p.seq < messages.seq), view_tip = seq;
CREATE TABLE checkpoints (
    seq        INTEGER PRIMARY KEY,  -- the working tree as it stood after message `seq` (0: before any)
    created_ms INTEGER NOT NULL,
    tree       TEXT NOT NULL,        -- a git tree object of the files; no commit, no ref
    changes    TEXT NOT NULL         -- JSON [[\"A\"|\"M\"|\"D\", path], …] since the previous checkpoint
);
-- Files changed since the latest checkpoint (meta 'checkpoint_base' names its tree), kept by
-- triggers, so the next checkpoint edits only those paths of that tree. (`WHERE NOT EXISTS`, not
-- `OR IGNORE`: an upsert firing the trigger would impose its own conflict policy on it.)
CREATE TABLE checkpoint_dirty (path TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TRIGGER checkpoint_dirty_on_insert AFTER INSERT ON files WHEN NEW.kind = 0
BEGIN
    INSERT INTO checkpoint_dirty SELECT NEW.path
        WHERE NOT EXISTS (SELECT 1 FROM checkpoint_dirty WHERE path = NEW.path);
END;
CREATE TRIGGER checkpoint_dirty_on_delete AFTER DELETE ON files WHEN OLD.kind = 0
BEGIN
    INSERT INTO checkpoint_dirty SELECT OLD.path
        WHERE NOT EXISTS (SELECT 1 FROM checkpoint_dirty WHERE path = OLD.path);
END;
CREATE TRIGGER checkpoint_dirty_on_update AFTER UPDATE ON files WHEN OLD.kind = 0 OR NEW.kind = 0
BEGIN
    INSERT INTO checkpoint_dirty SELECT OLD.path
        WHERE NOT EXISTS (SELECT 1 FROM checkpoint_dirty WHERE path = OLD.path);
    INSERT INTO checkpoint_dirty SELECT NEW.path
        WHERE NOT EXISTS (SELECT 1 FROM checkpoint_dirty WHERE path = NEW.path);
END;
",
    // 3: the prompt size behind each model answer (what compaction estimates from).
    "
ALTER TABLE messages ADD COLUMN prompt_tokens INTEGER NOT NULL DEFAULT 0;
",
    // 4: objects in a rowid table, their ids in its own small index, the data last. A WITHOUT
    // ROWID table keeps whole rows in its b-tree, interior cells included, so every lookup by id
    // compared against rows carrying their contents and read each one's overflow pages: tens of
    // pages a step (10,000 lookups of 10 KB blobs took 250 ms; now 50 ms). With `data` last,
    // reading the other columns never reads its overflow pages. The same columns: every
    // statement reads as before. (The old table's pages stay in the file as free pages, which
    // later writes reuse.)
    "
CREATE TABLE objects_v4 (
    id      TEXT PRIMARY KEY NOT NULL,   -- git object id (SHA-1, hex)
    kind    INTEGER NOT NULL,            -- 1 commit, 2 tree, 3 blob, 4 tag
    size    INTEGER NOT NULL,
    spilled INTEGER NOT NULL DEFAULT 0,
    data    BLOB                         -- canonical git encoding (no header), NULL when spilled
);
INSERT INTO objects_v4(id, kind, size, spilled, data) SELECT id, kind, size, spilled, data FROM objects;
DROP TABLE objects;
ALTER TABLE objects_v4 RENAME TO objects;
",
];

/// The schema version this build creates and understands.
pub const CURRENT_VERSION: u32 = MIGRATIONS.len() as u32;

/// The version recorded in a database (0: none recorded).
pub fn version(conn: &Connection) -> Result<u32, StorageError> {
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

/// Brings a session database to [`CURRENT_VERSION`]. Refuses a database from a newer build.
pub fn migrate(conn: &Connection) -> Result<(), StorageError> {
    apply(conn, MIGRATIONS)
}

/// Brings a database to version `migrations.len()` by applying the missing `migrations` in
/// order, each in its own transaction with its version bump. Refuses a newer database.
pub(super) fn apply(conn: &Connection, migrations: &[&str]) -> Result<(), StorageError> {
    let latest = migrations.len() as u32;
    let mut at = version(conn)?;
    if at > latest {
        return Err(StorageError::corrupt(
            "schema",
            format!("the database is at schema version {at}, newer than this build's {latest}"),
        ));
    }
    while at < latest {
        let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
        // Re-read under the write lock: another process may have migrated meanwhile.
        at = version(&tx)?;
        if at < latest {
            tx.execute_batch(migrations[at as usize])?;
            at += 1;
            tx.pragma_update(None, "user_version", at)?;
        }
        tx.commit()?;
    }
    Ok(())
}

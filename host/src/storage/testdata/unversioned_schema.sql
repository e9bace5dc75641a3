-- The schema of pi-worker before schema versioning (as of commit 4685cb4), run by every open.
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

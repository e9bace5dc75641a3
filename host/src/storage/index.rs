//! Git's index (the staging area), in the `staged` table, and the [`Snapshot`] type shared by
//! the index, the working tree and the git layer.

use std::collections::BTreeMap;

use gix_hash::ObjectId;
use gix_object::tree::EntryMode;
use rusqlite::{Connection, params};

use super::StorageError;

/// A tracked file: its git mode and blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackedFile {
    /// Its git mode.
    pub mode: EntryMode,
    /// Its blob.
    pub id: ObjectId,
}

/// Tracked content: git path (`src/a.ts`) → file.
pub type Snapshot = BTreeMap<String, TrackedFile>;

/// Decodes a stored mode and hex blob id.
pub(super) fn decode(table: &'static str, path: &str, mode: u32, id: &str) -> Result<TrackedFile, StorageError> {
    let mode = EntryMode::try_from(mode).map_err(|_| StorageError::corrupt(table, format!("{path}: mode {mode:o}")))?;
    let id = ObjectId::from_hex(id.as_bytes()).map_err(|e| StorageError::corrupt(table, format!("{path}: {e}")))?;
    Ok(TrackedFile { mode, id })
}

/// The `staged` table.
#[derive(Clone, Copy)]
pub struct Index<'a> {
    conn: &'a Connection,
}

impl<'a> Index<'a> {
    pub(super) fn new(conn: &'a Connection) -> Self {
        Self { conn }
    }

    /// Every entry.
    pub fn entries(&self) -> Result<Snapshot, StorageError> {
        // In path order (the table's key), so the map is built in one pass, not insert by insert.
        let mut stmt = self
            .conn
            .prepare_cached("SELECT path, mode, blob_id FROM staged ORDER BY path")?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let path: String = row.get(0)?;
            let file = decode("staged", &path, row.get(1)?, row.get_ref(2)?.as_str()?)?;
            out.push((path, file));
        }
        Ok(out.into_iter().collect())
    }

    /// Replaces every entry with `snapshot`.
    pub fn replace(&self, snapshot: &Snapshot) -> Result<(), StorageError> {
        self.conn.prepare_cached("DELETE FROM staged")?.execute([])?;
        let mut stmt = self
            .conn
            .prepare_cached("INSERT INTO staged(path, mode, blob_id) VALUES (?1, ?2, ?3)")?;
        for (path, file) in snapshot {
            stmt.execute(params![path, file.mode.value(), file.id.to_hex().to_string()])?;
        }
        Ok(())
    }
}

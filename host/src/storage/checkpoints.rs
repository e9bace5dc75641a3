//! Checkpoints: the working tree as it stood after a message, as a git tree id (no bytes copied,
//! no commit, no ref), with the files changed since the checkpoint before it.

use gix_hash::ObjectId;
use rusqlite::{Connection, params};

use super::{StorageError, now_ms};

/// How a file changed between two checkpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FileChangeKind {
    /// It appeared.
    #[serde(rename = "A")]
    Added,
    /// Its contents or mode changed.
    #[serde(rename = "M")]
    Modified,
    /// It went away.
    #[serde(rename = "D")]
    Deleted,
}

impl FileChangeKind {
    /// `A`, `M` or `D`, as `git status --short` writes them.
    pub fn letter(self) -> &'static str {
        match self {
            Self::Added => "A",
            Self::Modified => "M",
            Self::Deleted => "D",
        }
    }
}

/// One checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The message after which the working tree stood so (0: before any message).
    pub seq: u64,
    /// When it was recorded, milliseconds since the Unix epoch.
    pub created_ms: u64,
    /// The git tree of the working tree's files.
    pub tree: ObjectId,
    /// Files changed since the previous checkpoint, sorted by path.
    pub changes: Vec<(FileChangeKind, String)>,
}

/// The `checkpoints` table.
#[derive(Clone, Copy)]
pub struct Checkpoints<'a> {
    conn: &'a Connection,
}

fn from_row(row: &rusqlite::Row<'_>) -> Result<Checkpoint, StorageError> {
    let tree: String = row.get(2)?;
    let changes: String = row.get(3)?;
    Ok(Checkpoint {
        seq: row.get::<_, i64>(0)? as u64,
        created_ms: row.get::<_, i64>(1)? as u64,
        tree: ObjectId::from_hex(tree.as_bytes())
            .map_err(|e| StorageError::corrupt("checkpoints", format!("tree {tree}: {e}")))?,
        changes: serde_json::from_str(&changes)?,
    })
}

impl<'a> Checkpoints<'a> {
    pub(super) fn new(conn: &'a Connection) -> Self {
        Self { conn }
    }

    /// Records (or replaces) the checkpoint after message `seq`.
    pub fn record(&self, seq: u64, tree: &ObjectId, changes: &[(FileChangeKind, String)]) -> Result<(), StorageError> {
        self.conn
            .prepare_cached(
                "INSERT INTO checkpoints(seq, created_ms, tree, changes) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(seq) DO UPDATE SET created_ms = excluded.created_ms, tree = excluded.tree,
                    changes = excluded.changes",
            )?
            .execute(params![
                seq as i64,
                now_ms() as i64,
                tree.to_hex().to_string(),
                serde_json::to_string(changes)?
            ])?;
        Ok(())
    }

    /// The latest checkpoint at or before message `seq`.
    pub fn at_or_before(&self, seq: u64) -> Result<Option<Checkpoint>, StorageError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, created_ms, tree, changes FROM checkpoints WHERE seq <= ?1 ORDER BY seq DESC LIMIT 1",
        )?;
        let mut rows = stmt.query([seq as i64])?;
        rows.next()?.map(from_row).transpose()
    }

    /// The latest checkpoint.
    pub fn latest(&self) -> Result<Option<Checkpoint>, StorageError> {
        self.at_or_before(i64::MAX as u64)
    }

    /// The working-tree paths of files written, moved or removed since the dirty set was last
    /// cleared (by recording a checkpoint).
    pub fn dirty_paths(&self) -> Result<Vec<String>, StorageError> {
        let mut stmt = self.conn.prepare_cached("SELECT path FROM checkpoint_dirty")?;
        let rows = stmt.query_map([], |row| row.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Empties the dirty set: the working tree is the tree just recorded.
    pub fn clear_dirty(&self) -> Result<(), StorageError> {
        self.conn.prepare_cached("DELETE FROM checkpoint_dirty")?.execute([])?;
        Ok(())
    }

    /// Every checkpoint, oldest first.
    pub fn list(&self) -> Result<Vec<Checkpoint>, StorageError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT seq, created_ms, tree, changes FROM checkpoints ORDER BY seq")?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(from_row(row)?);
        }
        Ok(out)
    }

    /// Removes the checkpoints after message `seq` (for a fork cut there).
    pub fn cut_after(&self, seq: u64) -> Result<(), StorageError> {
        self.conn
            .prepare_cached("DELETE FROM checkpoints WHERE seq > ?1")?
            .execute([seq as i64])?;
        Ok(())
    }
}

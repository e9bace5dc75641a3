//! Session settings: a small key → text table.

use rusqlite::{Connection, OptionalExtension};

use super::StorageError;

/// When the session was created, milliseconds since the Unix epoch.
pub const CREATED_MS: &str = "created_ms";
/// The template the session started from (`sample` or `empty`).
pub const TEMPLATE: &str = "template";
/// The tenant that owns the session (absent or empty: the default tenant).
pub const OWNER: &str = "owner";
/// The tree the checkpoints' dirty set is relative to (the latest checkpoint's, when recorded).
pub const CHECKPOINT_BASE: &str = "checkpoint_base";
/// The session this one was forked from.
pub const FORKED_FROM: &str = "forked_from";
/// The shallow boundary of a shallow import: the ids (hex, space-separated) of the commits whose
/// parents the repository does not hold.
pub const GIT_SHALLOW: &str = "git_shallow";
/// The name commits are authored with.
pub const GIT_AUTHOR_NAME: &str = "git_author_name";
/// The email commits are authored with.
pub const GIT_AUTHOR_EMAIL: &str = "git_author_email";

/// The agent the session runs (absent: the default agent).
pub const AGENT: &str = "agent";
/// `sha256:<hex>` of the agent component the session was created with.
pub const AGENT_HASH: &str = "agent_hash";

/// The `meta` table.
#[derive(Clone, Copy)]
pub struct Meta<'a> {
    conn: &'a Connection,
}

impl<'a> Meta<'a> {
    pub(super) fn new(conn: &'a Connection) -> Self {
        Self { conn }
    }

    /// Reads a value.
    pub fn get(&self, key: &str) -> Result<Option<String>, StorageError> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row([key], |row| row.get(0))
            .optional()?)
    }

    /// Writes a value.
    pub fn set(&self, key: &str, value: &str) -> Result<(), StorageError> {
        self.conn
            .prepare_cached(
                "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            )?
            .execute([key, value])?;
        Ok(())
    }
}

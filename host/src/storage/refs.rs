//! The `refs` table: HEAD and branches, as stored. What they mean is the git layer's business.

use gix_hash::ObjectId;
use rusqlite::{Connection, OptionalExtension, params};

use super::StorageError;

/// What a ref holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefValue {
    /// Another ref, by full name (`refs/heads/main`).
    Symbolic(String),
    /// A commit.
    Direct(ObjectId),
}

const SYMBOLIC_PREFIX: &str = "ref: ";

impl RefValue {
    fn decode(name: &str, stored: &str) -> Result<Self, StorageError> {
        match stored.strip_prefix(SYMBOLIC_PREFIX) {
            Some(target) => Ok(Self::Symbolic(target.to_string())),
            None => ObjectId::from_hex(stored.as_bytes())
                .map(Self::Direct)
                .map_err(|e| StorageError::corrupt("refs", format!("{name} = '{stored}': {e}"))),
        }
    }

    fn encode(&self) -> String {
        match self {
            Self::Symbolic(target) => format!("{SYMBOLIC_PREFIX}{target}"),
            Self::Direct(id) => id.to_hex().to_string(),
        }
    }
}

/// The `refs` table.
#[derive(Clone, Copy)]
pub struct Refs<'a> {
    conn: &'a Connection,
}

impl<'a> Refs<'a> {
    pub(super) fn new(conn: &'a Connection) -> Self {
        Self { conn }
    }

    /// The value of the ref `name`, if it exists.
    pub fn get(&self, name: &str) -> Result<Option<RefValue>, StorageError> {
        let stored: Option<String> = self
            .conn
            .prepare_cached("SELECT value FROM refs WHERE name = ?1")?
            .query_row([name], |r| r.get(0))
            .optional()?;
        stored.map(|v| RefValue::decode(name, &v)).transpose()
    }

    /// Creates or moves the ref `name`.
    pub fn set(&self, name: &str, value: &RefValue) -> Result<(), StorageError> {
        self.conn
            .prepare_cached(
                "INSERT INTO refs(name, value) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![name, value.encode()])?;
        Ok(())
    }

    /// Removes the ref `name`; `false` when it did not exist.
    pub fn delete(&self, name: &str) -> Result<bool, StorageError> {
        Ok(self
            .conn
            .prepare_cached("DELETE FROM refs WHERE name = ?1")?
            .execute([name])?
            > 0)
    }

    /// Every ref whose name starts with `prefix`, with the commit it points at, sorted by name.
    pub fn direct_with_prefix(&self, prefix: &str) -> Result<Vec<(String, ObjectId)>, StorageError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT name, value FROM refs WHERE substr(name, 1, length(?1)) = ?1 ORDER BY name")?;
        let rows = stmt.query_map([prefix], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (name, value) = row?;
            match RefValue::decode(&name, &value)? {
                RefValue::Direct(id) => out.push((name, id)),
                RefValue::Symbolic(_) => {
                    return Err(StorageError::corrupt("refs", format!("{name} is symbolic")));
                }
            }
        }
        Ok(out)
    }
}

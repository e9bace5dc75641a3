//! The session's git object database: real git objects (SHA-1 ids, canonical encoding) in the
//! session's SQLite database, with large blobs in the spill directory. It implements gitoxide's
//! [`gix_object::Find`], [`FindHeader`](gix_object::FindHeader), [`Exists`](gix_object::Exists) and
//! [`Write`](gix_object::Write), so gix's plumbing (tree editing, diffs, traversal) works on it.
//!
//! File contents are blob objects: the working tree maps paths to blob ids, so staging and
//! checkout move ids, never bytes.

use std::borrow::Cow;

use gix_hash::{ObjectId, oid};
use gix_object::Kind;
use rusqlite::{Connection, OptionalExtension, params};

use super::{BlobDir, StorageError};

/// The object database of one session, over one of its transactions ([`Stores`](super::Stores)).
#[derive(Clone, Copy)]
pub struct ObjectDb<'a> {
    conn: &'a Connection,
    blobs: &'a BlobDir,
    spill_threshold: u64,
}

fn kind_code(kind: Kind) -> i64 {
    match kind {
        Kind::Commit => 1,
        Kind::Tree => 2,
        Kind::Blob => 3,
        Kind::Tag => 4,
    }
}

fn kind_of(id: &str, code: i64) -> Result<Kind, StorageError> {
    Ok(match code {
        1 => Kind::Commit,
        2 => Kind::Tree,
        3 => Kind::Blob,
        4 => Kind::Tag,
        _ => return Err(StorageError::corrupt("objects", format!("{id} has kind {code}"))),
    })
}

/// The id git gives `data` as an object of `kind`.
pub fn object_id(kind: Kind, data: &[u8]) -> ObjectId {
    gix_object::compute_hash(gix_hash::Kind::Sha1, kind, data).expect("SHA-1 hashing of in-memory data cannot fail")
}

impl<'a> ObjectDb<'a> {
    pub(super) fn new(conn: &'a Connection, blobs: &'a BlobDir, spill_threshold: u64) -> Self {
        Self {
            conn,
            blobs,
            spill_threshold,
        }
    }

    /// Stores an object (a no-op when it is already there) and returns its id.
    pub fn put(&self, kind: Kind, data: &[u8]) -> Result<ObjectId, StorageError> {
        let id = object_id(kind, data);
        self.put_with_id(kind, data, id)?;
        Ok(id)
    }

    fn put_with_id(&self, kind: Kind, data: &[u8], id: ObjectId) -> Result<(), StorageError> {
        let spilled = kind == Kind::Blob && data.len() as u64 >= self.spill_threshold;
        if spilled {
            if self.contains(&id)? {
                return Ok(());
            }
            // The blob lands first: a crash before the row commits leaves only an unreferenced file.
            self.blobs.put(&id, data)?;
        }
        // An object already stored is left as it is (same id, same contents).
        let hex = id.to_hex().to_string();
        self.conn
            .prepare_cached("INSERT OR IGNORE INTO objects(id, kind, size, data, spilled) VALUES (?1, ?2, ?3, ?4, ?5)")?
            .execute(params![
                hex,
                kind_code(kind),
                data.len() as i64,
                if spilled { None } else { Some(data) },
                spilled
            ])?;
        Ok(())
    }

    /// Whether the object is stored.
    pub fn contains(&self, id: &oid) -> Result<bool, StorageError> {
        let hex = id.to_hex().to_string();
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM objects WHERE id = ?1")?
            .query_row([hex], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// The kind and size of an object.
    pub fn header(&self, id: &oid) -> Result<Option<(Kind, u64)>, StorageError> {
        let hex = id.to_hex().to_string();
        let row: Option<(i64, i64)> = self
            .conn
            .prepare_cached("SELECT kind, size FROM objects WHERE id = ?1")?
            .query_row([&hex], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match row {
            None => Ok(None),
            Some((kind, size)) => Ok(Some((kind_of(&hex, kind)?, size as u64))),
        }
    }

    /// An object's kind and contents.
    pub fn get(&self, id: &oid) -> Result<Option<(Kind, Vec<u8>)>, StorageError> {
        self.read_with(id, |kind, data| (kind, data.into_owned()))
    }

    /// Calls `f` with an object's kind and contents: borrowed from the database row (not copied),
    /// or read from the spill directory.
    pub fn read_with<T>(&self, id: &oid, f: impl FnOnce(Kind, Cow<'_, [u8]>) -> T) -> Result<Option<T>, StorageError> {
        let hex = id.to_hex().to_string();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT kind, data, spilled FROM objects WHERE id = ?1")?;
        let mut rows = stmt.query([&hex])?;
        let Some(row) = rows.next()? else {
            return Ok(None);
        };
        let kind = kind_of(&hex, row.get(0)?)?;
        if row.get(2)? {
            return Ok(Some(f(kind, Cow::Owned(self.blobs.get(id)?))));
        }
        match row.get_ref(1)?.as_blob_or_null()? {
            Some(data) => Ok(Some(f(kind, Cow::Borrowed(data)))),
            None => Err(StorageError::corrupt("objects", format!("{hex} has no data"))),
        }
    }
}

impl ObjectDb<'_> {
    /// Up to `limit` commits whose hex id starts with `prefix` (lowercase hex digits).
    pub fn commits_with_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<ObjectId>, StorageError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM objects WHERE id >= ?1 AND id < ?2 AND kind = 1 LIMIT ?3")?;
        let upper = format!("{prefix}g");
        let mut rows = stmt.query(params![prefix, upper, limit as i64])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let hex = row.get_ref(0)?.as_str()?;
            out.push(
                ObjectId::from_hex(hex.as_bytes())
                    .map_err(|e| StorageError::corrupt("objects", format!("{hex}: {e}")))?,
            );
        }
        Ok(out)
    }
}

fn erased(e: impl std::error::Error + Send + Sync + 'static) -> gix_error::Error {
    gix_error::Error::from_error(e)
}

impl gix_object::Find for ObjectDb<'_> {
    fn try_find<'b>(&self, id: &oid, buffer: &'b mut Vec<u8>) -> gix_error::Result<Option<gix_object::Data<'b>>> {
        match self.get(id).map_err(erased)? {
            None => Ok(None),
            Some((kind, data)) => {
                *buffer = data;
                Ok(Some(gix_object::Data {
                    kind,
                    object_hash: gix_hash::Kind::Sha1,
                    data: buffer.as_slice(),
                }))
            }
        }
    }
}

impl gix_object::FindHeader for ObjectDb<'_> {
    fn try_header(&self, id: &oid) -> gix_error::Result<Option<gix_object::Header>> {
        Ok(self
            .header(id)
            .map_err(erased)?
            .map(|(kind, size)| gix_object::Header { kind, size }))
    }
}

impl gix_object::Exists for ObjectDb<'_> {
    fn exists(&self, id: &oid) -> bool {
        self.contains(id).unwrap_or(false)
    }
}

impl gix_object::Write for ObjectDb<'_> {
    fn write_buf_with_known_id(&self, kind: Kind, from: &[u8], id: ObjectId) -> gix_error::Result<ObjectId> {
        self.put_with_id(kind, from, id).map_err(erased)?;
        Ok(id)
    }

    fn write_stream(&self, kind: Kind, size: u64, from: &mut dyn std::io::Read) -> gix_error::Result<ObjectId> {
        let mut data = Vec::with_capacity(size as usize);
        from.read_to_end(&mut data).map_err(erased)?;
        self.put(kind, &data).map_err(erased)
    }

    fn write_stream_with_known_id(
        &self,
        kind: Kind,
        size: u64,
        from: &mut dyn std::io::Read,
        id: ObjectId,
    ) -> gix_error::Result<ObjectId> {
        let mut data = Vec::with_capacity(size as usize);
        from.read_to_end(&mut data).map_err(erased)?;
        self.put_with_id(kind, &data, id).map_err(erased)?;
        Ok(id)
    }
}

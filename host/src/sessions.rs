//! Session ids and where each session lives on disk.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::storage::{Catalogue, OpenError, SessionDb, StorageOptions};

/// A validated session id: 1 to 64 characters from `[A-Za-z0-9_-]`. Only a validated id is ever
/// used to build a path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionId(String);

impl SessionId {
    /// A new unguessable id: 128 random bits, hex-encoded.
    pub fn random() -> std::io::Result<Self> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
        Ok(Self(bytes.iter().map(|b| format!("{b:02x}")).collect()))
    }

    /// Validates a client-supplied id.
    pub fn parse(s: &str) -> Option<Self> {
        let ok =
            !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self(s.to_string()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The scratch directory's name in the data directory.
const SCRATCH: &str = "tmp";

/// All sessions under one data directory, and the catalogue that lists them.
///
/// A session is created under a temporary name (`sessions/<id>.creating`), filled, closed as a
/// single file, and renamed into place (`sessions/<id>.sqlite`): a crash mid-creation leaves only
/// a temporary file, which [`SessionStore::clean_unfinished`] removes, never a half-made session.
#[derive(Debug)]
pub struct SessionStore {
    data_dir: PathBuf,
    options: StorageOptions,
    catalogue: Catalogue,
}

/// Removes `path`; what is already gone counts as removed.
fn remove_file(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// `path` with `suffix` appended to its file name (SQLite's `-wal`, `-shm`, `-journal`).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut path = path.as_os_str().to_owned();
    path.push(suffix);
    PathBuf::from(path)
}

/// Removes a database and its SQLite sidecar files.
fn remove_database(path: &Path) -> std::io::Result<()> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        remove_file(&with_suffix(path, suffix))?;
    }
    Ok(())
}

/// Recreates the directory tree `from` at `to`, its files hard-linked (a missing `from` is an
/// empty tree).
fn link_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(from) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        other => other?,
    };
    std::fs::create_dir_all(to)?;
    for entry in entries {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            link_tree(&entry.path(), &target)?;
        } else {
            std::fs::hard_link(entry.path(), &target)?;
        }
    }
    Ok(())
}

impl SessionStore {
    /// Sessions under `data_dir` (`sessions/<id>.sqlite`, `blobs/<id>/`, `catalogue.sqlite`),
    /// created if missing. Scratch files a previous run left behind (it was killed mid-push)
    /// are removed.
    pub fn new(data_dir: PathBuf, options: StorageOptions) -> Result<Self, OpenError> {
        std::fs::create_dir_all(data_dir.join("sessions"))?;
        std::fs::create_dir_all(data_dir.join("blobs"))?;
        match std::fs::remove_dir_all(data_dir.join(SCRATCH)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
        let catalogue = Catalogue::open(&data_dir.join("catalogue.sqlite"))?;
        Ok(Self {
            data_dir,
            options,
            catalogue,
        })
    }

    /// The catalogue of sessions.
    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// Where temporary files go (a pushed pack while it is indexed): `tmp/` in the data
    /// directory, on the same disk as the sessions. Each user removes its own files.
    pub fn scratch_dir(&self) -> PathBuf {
        self.data_dir.join(SCRATCH)
    }

    /// The session's database file (whether or not it exists).
    pub fn db_path(&self, id: &SessionId) -> PathBuf {
        self.data_dir.join("sessions").join(format!("{id}.sqlite"))
    }

    fn creating_path(&self, id: &SessionId) -> PathBuf {
        self.data_dir.join("sessions").join(format!("{id}.creating"))
    }

    fn blob_path(&self, id: &SessionId) -> PathBuf {
        self.data_dir.join("blobs").join(id.as_str())
    }

    /// The storage options every session is opened with.
    pub fn options(&self) -> StorageOptions {
        self.options
    }

    /// Whether the session exists.
    pub fn exists(&self, id: &SessionId) -> bool {
        self.db_path(id).exists()
    }

    /// Starts creating a session: its database under the temporary name, to be filled and then
    /// [published](Self::publish) or [discarded](Self::discard). Blocking.
    pub fn create(&self, id: &SessionId) -> Result<SessionDb, OpenError> {
        if self.exists(id) {
            return Err(OpenError::AlreadyExists);
        }
        SessionDb::create(&self.creating_path(id), &self.blob_path(id), self.options)
    }

    /// Starts creating the session `to` as a copy of `from` (open as `source`): its database
    /// copied from one snapshot, and its spilled blobs shared as hard links (no bytes copied;
    /// removing either session leaves the other's links intact). To be filled and then
    /// [published](Self::publish) or [discarded](Self::discard). Blocking.
    pub fn fork(&self, source: &SessionDb, from: &SessionId, to: &SessionId) -> Result<SessionDb, OpenError> {
        if self.exists(to) || self.creating_path(to).exists() {
            return Err(OpenError::AlreadyExists);
        }
        source.copy_to(&self.creating_path(to))?;
        link_tree(&self.blob_path(from), &self.blob_path(to))?;
        SessionDb::open(&self.creating_path(to), &self.blob_path(to), self.options)
    }

    /// Finishes creating a session: closes its filled database and renames it into place.
    pub fn publish(&self, id: &SessionId, db: SessionDb) -> Result<(), OpenError> {
        db.close_to_single_file()?;
        std::fs::rename(self.creating_path(id), self.db_path(id))?;
        Ok(())
    }

    /// Abandons a session being created: removes its temporary database and its blobs.
    pub fn discard(&self, id: &SessionId) -> std::io::Result<()> {
        remove_database(&self.creating_path(id))?;
        self.remove_blobs(id)
    }

    fn remove_blobs(&self, id: &SessionId) -> std::io::Result<()> {
        match std::fs::remove_dir_all(self.blob_path(id)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Removes a session's database and its spilled blobs. Blocking; the session must not be
    /// open. Removing what is already gone succeeds.
    pub fn remove(&self, id: &SessionId) -> std::io::Result<()> {
        remove_database(&self.db_path(id))?;
        self.remove_blobs(id)
    }

    /// The ids of every (finished) session on disk.
    pub fn ids(&self) -> std::io::Result<Vec<SessionId>> {
        let mut ids = Vec::new();
        for entry in std::fs::read_dir(self.data_dir.join("sessions"))? {
            let name = entry?.file_name();
            if let Some(id) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".sqlite"))
                .and_then(SessionId::parse)
            {
                ids.push(id);
            }
        }
        Ok(ids)
    }

    /// Removes what crashed creations left behind: temporary databases, and blob directories of
    /// sessions that do not exist. Returns how many sessions' leftovers were removed. Blocking;
    /// run before serving.
    pub fn clean_unfinished(&self) -> std::io::Result<usize> {
        let mut removed = 0;
        for entry in std::fs::read_dir(self.data_dir.join("sessions"))? {
            let name = entry?.file_name();
            if let Some(id) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".creating"))
                .and_then(SessionId::parse)
            {
                self.discard(&id)?;
                removed += 1;
            }
        }
        for entry in std::fs::read_dir(self.data_dir.join("blobs"))? {
            let name = entry?.file_name();
            if let Some(id) = name.to_str().and_then(SessionId::parse)
                && !self.exists(&id)
                && !self.creating_path(&id).exists()
            {
                self.remove_blobs(&id)?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Opens an existing session's database. Blocking.
    pub fn open(&self, id: &SessionId) -> Result<SessionDb, OpenError> {
        SessionDb::open(&self.db_path(id), &self.blob_path(id), self.options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_validated_and_random_ids_are_unique() {
        assert!(SessionId::parse("abc-DEF_123").is_some());
        for bad in ["", "../x", "a/b", "a.b", "a\0", &"x".repeat(65), "ü"] {
            assert!(SessionId::parse(bad).is_none(), "{bad:?}");
        }
        let a = SessionId::random().unwrap();
        assert_eq!(a.as_str().len(), 32);
        assert_ne!(a, SessionId::random().unwrap());
        assert!(SessionId::parse(a.as_str()).is_some());
    }
}

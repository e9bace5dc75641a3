//! Session ids and where each session lives on disk.

use std::fmt;
use std::path::PathBuf;

use crate::storage::{OpenError, SessionDb, StorageOptions};

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

/// All sessions under one data directory.
#[derive(Debug)]
pub struct SessionStore {
    data_dir: PathBuf,
    options: StorageOptions,
}

impl SessionStore {
    /// Sessions under `data_dir` (`sessions/<id>.sqlite`, `blobs/<id>/`), created if missing.
    /// Scratch files a previous run left behind (it was killed mid-push) are removed.
    pub fn new(data_dir: PathBuf, options: StorageOptions) -> std::io::Result<Self> {
        std::fs::create_dir_all(data_dir.join("sessions"))?;
        std::fs::create_dir_all(data_dir.join("blobs"))?;
        match std::fs::remove_dir_all(data_dir.join(SCRATCH)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        Ok(Self { data_dir, options })
    }

    /// Where temporary files go (a pushed pack while it is indexed): `tmp/` in the data
    /// directory, on the same disk as the sessions. Each user removes its own files.
    pub fn scratch_dir(&self) -> PathBuf {
        self.data_dir.join(SCRATCH)
    }

    fn db_path(&self, id: &SessionId) -> PathBuf {
        self.data_dir.join("sessions").join(format!("{id}.sqlite"))
    }

    fn blob_path(&self, id: &SessionId) -> PathBuf {
        self.data_dir.join("blobs").join(id.as_str())
    }

    /// Whether the session exists.
    pub fn exists(&self, id: &SessionId) -> bool {
        self.db_path(id).exists()
    }

    /// Creates a session's database. Blocking.
    pub fn create(&self, id: &SessionId) -> Result<SessionDb, OpenError> {
        SessionDb::create(&self.db_path(id), &self.blob_path(id), self.options)
    }

    /// Removes a session's database and its spilled blobs. Blocking; the session must not be
    /// open. Removing what is already gone succeeds.
    pub fn remove(&self, id: &SessionId) -> std::io::Result<()> {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut path = self.db_path(id).into_os_string();
            path.push(suffix);
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        match std::fs::remove_dir_all(self.blob_path(id)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
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

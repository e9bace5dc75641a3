//! The spill directory: file contents at or above the spill threshold live here, named by their
//! git blob id, instead of inside the session database (the analogue of the seed's R2 bucket).

use std::io;

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use gix_hash::oid;

/// A content-addressed directory of blobs, opened as a capability: nothing can be read or
/// written outside it, whatever name is asked for.
#[derive(Debug)]
pub struct BlobDir {
    dir: Dir,
}

impl BlobDir {
    /// Opens (creating if needed) the blob directory at `path`.
    pub fn open(path: &std::path::Path) -> io::Result<Self> {
        std::fs::create_dir_all(path)?;
        Ok(Self {
            dir: Dir::open_ambient_dir(path, ambient_authority())?,
        })
    }

    /// Stores `contents` under the git blob id `id`. Writing an id that is already present is a
    /// no-op: the contents are equal by construction.
    pub fn put(&self, id: &oid, contents: &[u8]) -> io::Result<()> {
        let (fanout, name) = split(id);
        if self.dir.exists(format!("{fanout}/{name}")) {
            return Ok(());
        }
        self.dir.create_dir_all(&fanout)?;
        // Write to a temporary name and rename, so a crash never leaves a partial blob under its id.
        let tmp = format!("{fanout}/{name}.tmp-{}", std::process::id());
        {
            let mut file = self.dir.create(&tmp)?;
            io::Write::write_all(&mut file, contents)?;
            file.sync_all()?;
        }
        self.dir.rename(&tmp, &self.dir, format!("{fanout}/{name}"))
    }

    /// Reads the blob stored under `id`.
    pub fn get(&self, id: &oid) -> io::Result<Vec<u8>> {
        let (fanout, name) = split(id);
        self.dir.read(format!("{fanout}/{name}"))
    }
}

/// The fan-out directory and file name of a blob id, as git names loose objects.
fn split(id: &oid) -> (String, String) {
    let hex = id.to_hex().to_string();
    let (fanout, name) = hex.split_at(2);
    (fanout.to_string(), name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_round_trip_is_idempotent_and_fanned_out() {
        let tmp = tempfile::tempdir().unwrap();
        let blobs = BlobDir::open(tmp.path()).unwrap();
        let id = gix_hash::ObjectId::from_hex(b"0123456789abcdef0123456789abcdef01234567").unwrap();
        blobs.put(&id, b"hello").unwrap();
        blobs.put(&id, b"hello").unwrap();
        assert_eq!(blobs.get(&id).unwrap(), b"hello");
        assert!(
            tmp.path()
                .join("01")
                .join("23456789abcdef0123456789abcdef01234567")
                .exists()
        );
        let missing = gix_hash::ObjectId::from_hex(b"ffffffffffffffffffffffffffffffffffffffff").unwrap();
        assert!(blobs.get(&missing).is_err());
    }
}

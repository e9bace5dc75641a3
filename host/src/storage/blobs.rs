//! The spill directory: file contents at or above the spill threshold live here, named by their
//! git blob id, instead of inside the session database (the analogue of the seed's R2 bucket).

use std::io;

use cap_std::ambient_authority;
use cap_std::fs::Dir;

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

    /// Stores `contents` under `id` (a 40-hex-digit git blob id). Writing an id that is already
    /// present is a no-op: the contents are equal by construction.
    pub fn put(&self, id: &str, contents: &[u8]) -> io::Result<()> {
        let (fanout, name) = split(id)?;
        if self.dir.exists(format!("{fanout}/{name}")) {
            return Ok(());
        }
        self.dir.create_dir_all(fanout)?;
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
    pub fn get(&self, id: &str) -> io::Result<Vec<u8>> {
        let (fanout, name) = split(id)?;
        self.dir.read(format!("{fanout}/{name}"))
    }
}

/// Splits a blob id into its fan-out directory and file name, refusing anything but 40 hex digits.
fn split(id: &str) -> io::Result<(&str, &str)> {
    if id.len() != 40 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("bad blob id '{id}'"),
        ));
    }
    Ok(id.split_at(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_round_trip_and_refuses_bad_ids() {
        let tmp = tempfile::tempdir().unwrap();
        let blobs = BlobDir::open(tmp.path()).unwrap();
        let id = "0123456789abcdef0123456789abcdef01234567";
        blobs.put(id, b"hello").unwrap();
        blobs.put(id, b"hello").unwrap();
        assert_eq!(blobs.get(id).unwrap(), b"hello");
        assert!(tmp.path().join("01").join(&id[2..]).exists());
        assert!(blobs.get("../../etc/passwd").is_err());
        assert!(blobs.put("zz", b"x").is_err());
    }
}

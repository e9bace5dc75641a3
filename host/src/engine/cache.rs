//! The compiled-guest cache: a directory only the server's user can write.
//!
//! Loading a compiled guest runs its machine code without validation, so a cached file is loaded
//! only from a directory and a file that belong to the user running the server and that neither
//! group nor others can write. When that does not hold, the guest is compiled in memory, the cache
//! is neither read nor written, and a warning says why: the server still starts.

use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

/// Why a cache directory or file is not trusted.
#[derive(Debug, thiserror::Error)]
pub enum UntrustedCache {
    /// The directory could not be created, inspected or written.
    #[error("cannot use {path}: {source}")]
    Io {
        /// The directory or file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: io::Error,
    },
    /// The directory or file belongs to another user.
    #[error("{path} belongs to uid {owner}, not to the server's uid {uid}")]
    Owner {
        /// The directory or file.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// The server's user.
        uid: u32,
    },
    /// Group or others can write the directory or file.
    #[error("{path} is writable by group or others (mode {mode:o})")]
    Writable {
        /// The directory or file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The cache path is not a directory, or the cached guest is not a regular file.
    #[error("{path} is not a {expected}")]
    Kind {
        /// The directory or file.
        path: PathBuf,
        /// What it should be.
        expected: &'static str,
    },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> UntrustedCache + '_ {
    move |source| UntrustedCache::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A cache directory checked to be private to the server's user.
#[derive(Debug)]
pub struct PrivateDir {
    path: PathBuf,
    uid: u32,
}

impl PrivateDir {
    /// Creates `path` with mode 0700 if it is missing (its parents with the usual mode), then
    /// checks that it is a directory of the server's user that group and others cannot write.
    pub fn open(path: &Path) -> Result<Self, UntrustedCache> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(io_error(parent))?;
        }
        match fs::DirBuilder::new().mode(0o700).create(path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_error(path)(e)),
        }
        let metadata = fs::metadata(path).map_err(io_error(path))?;
        if !metadata.is_dir() {
            return Err(UntrustedCache::Kind {
                path: path.to_path_buf(),
                expected: "directory",
            });
        }
        // Nothing is written into a directory others can write, not even the probe.
        if metadata.mode() & 0o022 != 0 {
            return Err(UntrustedCache::Writable {
                path: path.to_path_buf(),
                mode: metadata.mode() & 0o7777,
            });
        }
        let uid = current_uid(path)?;
        check_private(path, &metadata, uid)?;
        Ok(Self {
            path: path.to_path_buf(),
            uid,
        })
    }

    /// `name` inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// The bytes of the cached file `path` if it exists, after checking the opened file itself
    /// (so the file checked is the file read); `Ok(None)` if there is none.
    pub fn read(&self, path: &Path) -> Result<Option<Vec<u8>>, UntrustedCache> {
        let mut file = match File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(path)(e)),
        };
        let metadata = file.metadata().map_err(io_error(path))?;
        if !metadata.is_file() {
            return Err(UntrustedCache::Kind {
                path: path.to_path_buf(),
                expected: "regular file",
            });
        }
        check_private(path, &metadata, self.uid)?;
        let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
        file.read_to_end(&mut bytes).map_err(io_error(path))?;
        Ok(Some(bytes))
    }

    /// Writes `bytes` to `path` atomically, readable and writable by the owner only.
    pub fn write(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        let written = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .and_then(|mut file| file.write_all(bytes).and_then(|()| file.sync_all()));
        match written.and_then(|()| fs::rename(&tmp, path)) {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                Err(e)
            }
        }
    }
}

/// The uid the server runs as: the owner of a file it creates in `dir` (and removes again).
fn current_uid(dir: &Path) -> Result<u32, UntrustedCache> {
    let probe = dir.join(format!(".owner-probe-{}", std::process::id()));
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&probe)
        .map_err(io_error(&probe))?;
    let uid = file.metadata().map(|m| m.uid());
    drop(file);
    let _ = fs::remove_file(&probe);
    uid.map_err(io_error(&probe))
}

/// Checks that `metadata` (of `path`) belongs to `uid` and that group and others cannot write it.
pub fn check_private(path: &Path, metadata: &Metadata, uid: u32) -> Result<(), UntrustedCache> {
    if metadata.uid() != uid {
        return Err(UntrustedCache::Owner {
            path: path.to_path_buf(),
            owner: metadata.uid(),
            uid,
        });
    }
    let mode = metadata.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(UntrustedCache::Writable {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn chmod(path: &Path, mode: u32) {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn a_missing_directory_is_created_private() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("data").join("cache");
        let dir = PrivateDir::open(&path).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o700);
        let file = dir.join("guest.cwasm");
        assert_eq!(dir.read(&file).unwrap(), None);
        dir.write(&file, b"compiled").unwrap();
        assert_eq!(fs::metadata(&file).unwrap().mode() & 0o777, 0o600);
        assert_eq!(dir.read(&file).unwrap().as_deref(), Some(&b"compiled"[..]));
        // Only the cached file is left behind: no probe, no temporary file.
        assert_eq!(fs::read_dir(&path).unwrap().count(), 1);
    }

    #[test]
    fn a_directory_others_can_write_is_refused_and_a_0700_one_accepted() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("cache");
        fs::create_dir(&path).unwrap();
        chmod(&path, 0o777);
        assert!(matches!(
            PrivateDir::open(&path),
            Err(UntrustedCache::Writable { mode: 0o777, .. })
        ));
        chmod(&path, 0o770);
        assert!(matches!(PrivateDir::open(&path), Err(UntrustedCache::Writable { .. })));
        chmod(&path, 0o700);
        PrivateDir::open(&path).unwrap();
        chmod(&path, 0o755);
        PrivateDir::open(&path).unwrap();
    }

    #[test]
    fn a_file_others_can_write_or_of_another_user_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = PrivateDir::open(&tmp.path().join("cache")).unwrap();
        let file = dir.join("guest.cwasm");
        dir.write(&file, b"compiled").unwrap();
        chmod(&file, 0o666);
        let error = dir.read(&file).unwrap_err();
        assert!(matches!(error, UntrustedCache::Writable { mode: 0o666, .. }), "{error}");
        chmod(&file, 0o644);
        assert!(dir.read(&file).unwrap().is_some());
        let metadata = fs::metadata(&file).unwrap();
        let other = metadata.uid().wrapping_add(1);
        assert!(matches!(
            check_private(&file, &metadata, other),
            Err(UntrustedCache::Owner { .. })
        ));
        // A directory in place of the file is refused too.
        fs::remove_file(&file).unwrap();
        fs::create_dir(&file).unwrap();
        assert!(matches!(dir.read(&file), Err(UntrustedCache::Kind { .. })));
    }

    #[test]
    fn a_file_in_place_of_the_directory_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("cache");
        fs::write(&path, b"").unwrap();
        assert!(PrivateDir::open(&path).is_err());
    }
}

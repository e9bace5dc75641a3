//! Reading a `.tar` or `.tar.gz` archive into a working tree: paths checked, links judged, modes
//! kept as git modes, limits applied before anything is stored.
//!
//! - Paths keep the archive's layout; only a leading `./` is dropped.
//! - Absolute paths, `..` segments, and symbolic or hard links that would lead outside the
//!   archive's root are refused. So are devices, FIFOs and sparse files.
//! - A symbolic link becomes a git link (mode `120000`, the blob holds its target); a hard link
//!   becomes a copy of the earlier file it names. A file with any executable bit becomes `100755`.
//! - Entries inside a `.git` directory are skipped: a working tree does not hold a repository.
//! - A later entry for the same path replaces an earlier one, as `tar -x` does.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use gix_object::tree::{EntryKind, EntryMode};
use tar::EntryType;

use super::limits::{ImportLimits, LimitError};
use crate::storage::path::{self, PathError};

/// How the archive is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// A plain `.tar`.
    None,
    /// A `.tar.gz`.
    Gzip,
}

impl Compression {
    /// Gzip when `body` starts with gzip's magic bytes, whatever the client declared.
    pub fn detect(body: &[u8]) -> Self {
        if body.starts_with(&[0x1f, 0x8b]) {
            Self::Gzip
        } else {
            Self::None
        }
    }
}

/// One file of an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveFile {
    /// Its git mode: `100644`, `100755` or `120000`.
    pub mode: EntryMode,
    /// Its contents (a link's target for a symbolic link).
    pub contents: Vec<u8>,
}

/// An archive's working tree: files and (possibly empty) directories by normalised path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArchiveTree {
    /// Files, by normalised absolute path (`/src/a.ts`).
    pub files: BTreeMap<String, ArchiveFile>,
    /// Directories the archive lists, by normalised absolute path.
    pub directories: BTreeSet<String>,
}

/// Why an archive was refused.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The bytes are not a readable (gzipped) tar archive.
    #[error("not a readable tar archive: {0}")]
    Unreadable(#[source] std::io::Error),
    /// An entry's path or link target is not UTF-8.
    #[error("entry path is not UTF-8: {0}")]
    NotUtf8(String),
    /// An entry's path is absolute.
    #[error("entry '{0}' has an absolute path")]
    Absolute(String),
    /// An entry's path has a `..` segment.
    #[error("entry '{0}' has a '..' segment")]
    DotDot(String),
    /// A link leads outside the archive's root (or, for a hard link, to no earlier file).
    #[error("link '{path}' points outside the archive: '{target}'")]
    LinkEscapes {
        /// The link's path.
        path: String,
        /// Where it points.
        target: String,
    },
    /// A device, FIFO, sparse file or other entry a working tree cannot hold.
    #[error("entry '{path}' is of a type a working tree cannot hold ({kind})")]
    Unsupported {
        /// The entry's path.
        path: String,
        /// Its tar entry type.
        kind: String,
    },
    /// A path the working tree refuses.
    #[error("invalid path: {0}")]
    InvalidPath(#[from] PathError),
    /// A file or the whole tree is over the workspace's limits.
    #[error(transparent)]
    Limit(#[from] LimitError),
}

/// Reads `body` (a tar archive, gzipped or not) into a working tree within `limits`.
pub fn read(body: &[u8], compression: Compression, limits: &ImportLimits) -> Result<ArchiveTree, ArchiveError> {
    match compression {
        Compression::None => read_tar(body, limits),
        Compression::Gzip => read_tar(flate2::read::MultiGzDecoder::new(body), limits),
    }
}

fn read_tar(reader: impl Read, limits: &ImportLimits) -> Result<ArchiveTree, ArchiveError> {
    let mut tree = ArchiveTree::default();
    let mut archive = tar::Archive::new(reader);
    let mut budget = limits.budget();
    for entry in archive.entries().map_err(ArchiveError::Unreadable)? {
        let mut entry = entry.map_err(ArchiveError::Unreadable)?;
        let kind = entry.header().entry_type();
        if kind == EntryType::XGlobalHeader {
            continue;
        }
        let raw = utf8(&entry.path_bytes())?;
        let Some(relative) = archive_path(&raw)? else {
            continue;
        };
        let at = path::normalize(&relative)?;
        if at == "/" || is_in_dot_git(&at) {
            continue;
        }
        let file = match kind {
            EntryType::Directory => {
                budget.directory()?;
                tree.directories.insert(at);
                continue;
            }
            EntryType::Regular | EntryType::Continuous => {
                budget.file(&at, entry.size(), tree.files.get(&at).map(|f| f.contents.len() as u64))?;
                let mut contents = Vec::with_capacity(entry.size() as usize);
                entry.read_to_end(&mut contents).map_err(ArchiveError::Unreadable)?;
                let executable = entry.header().mode().map_err(ArchiveError::Unreadable)? & 0o111 != 0;
                let kind = if executable {
                    EntryKind::BlobExecutable
                } else {
                    EntryKind::Blob
                };
                ArchiveFile {
                    mode: kind.into(),
                    contents,
                }
            }
            EntryType::Symlink => {
                let target = link_target(&entry)?;
                if escapes(&at, &target) {
                    return Err(ArchiveError::LinkEscapes { path: raw, target });
                }
                let size = target.len() as u64;
                budget.file(&at, size, tree.files.get(&at).map(|f| f.contents.len() as u64))?;
                ArchiveFile {
                    mode: EntryKind::Link.into(),
                    contents: target.into_bytes(),
                }
            }
            EntryType::Link => {
                let target = link_target(&entry)?;
                let source = archive_path(&target)
                    .ok()
                    .flatten()
                    .and_then(|p| path::normalize(&p).ok())
                    .and_then(|p| tree.files.get(&p))
                    .ok_or_else(|| ArchiveError::LinkEscapes {
                        path: raw.clone(),
                        target: target.clone(),
                    })?
                    .clone();
                budget.file(
                    &at,
                    source.contents.len() as u64,
                    tree.files.get(&at).map(|f| f.contents.len() as u64),
                )?;
                source
            }
            other => {
                return Err(ArchiveError::Unsupported {
                    path: raw,
                    kind: format!("{other:?}"),
                });
            }
        };
        tree.files.insert(at, file);
    }
    Ok(tree)
}

fn utf8(bytes: &[u8]) -> Result<String, ArchiveError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| ArchiveError::NotUtf8(String::from_utf8_lossy(bytes).into_owned()))
}

fn link_target<R: Read>(entry: &tar::Entry<'_, R>) -> Result<String, ArchiveError> {
    let target = entry
        .link_name_bytes()
        .ok_or_else(|| ArchiveError::Unreadable(std::io::Error::other("a link entry without a target")))?;
    utf8(&target)
}

/// The archive path without its leading `./`, refused when absolute or with a `..` segment;
/// `None` for the root itself (`.` or `./`).
fn archive_path(raw: &str) -> Result<Option<String>, ArchiveError> {
    if raw.starts_with('/') {
        return Err(ArchiveError::Absolute(raw.to_string()));
    }
    if raw.split('/').any(|segment| segment == "..") {
        return Err(ArchiveError::DotDot(raw.to_string()));
    }
    let mut rest = raw;
    while let Some(stripped) = rest.strip_prefix("./") {
        rest = stripped.trim_start_matches('/');
    }
    Ok((!rest.is_empty() && rest != ".").then(|| rest.to_string()))
}

/// Whether a normalised path lies in a `.git` directory (or is one).
fn is_in_dot_git(at: &str) -> bool {
    at.split('/').any(|segment| segment.eq_ignore_ascii_case(".git"))
}

/// Whether a symbolic link at the normalised `link` pointing to `target` leads outside the root
/// (absolute targets always do).
fn escapes(link: &str, target: &str) -> bool {
    if target.starts_with('/') || target.is_empty() {
        return true;
    }
    let mut depth = path::parent(link).split('/').filter(|s| !s.is_empty()).count();
    for segment in target.split('/') {
        match segment {
            "" | "." => {}
            ".." if depth == 0 => return true,
            ".." => depth -= 1,
            _ => depth += 1,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_lose_a_leading_dot_slash_and_refuse_escapes() {
        assert_eq!(archive_path("./src/a.rs").unwrap().as_deref(), Some("src/a.rs"));
        assert_eq!(archive_path("./").unwrap(), None);
        assert_eq!(archive_path(".").unwrap(), None);
        assert!(matches!(archive_path("/etc/passwd"), Err(ArchiveError::Absolute(_))));
        assert!(matches!(archive_path("a/../../b"), Err(ArchiveError::DotDot(_))));
        assert!(is_in_dot_git("/.git/config"));
        assert!(is_in_dot_git("/sub/.GIT"));
        assert!(!is_in_dot_git("/.github/x"));
    }

    #[test]
    fn symlinks_may_not_climb_above_the_root() {
        assert!(!escapes("/a/link", "../b"));
        assert!(!escapes("/link", "a/b/../c"));
        assert!(escapes("/link", "../b"));
        assert!(escapes("/a/link", "../../b"));
        assert!(escapes("/a/link", "/etc/passwd"));
        assert!(escapes("/a/link", "x/../../../b"));
    }
}

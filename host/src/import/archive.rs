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

use std::collections::HashMap;
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

/// One entry of an archive, as [`read`] hands it over (paths normalised and absolute).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item<'a> {
    /// A directory.
    Directory(&'a str),
    /// A file, executable file or symbolic link (whose contents are its target).
    File {
        /// Its path.
        path: &'a str,
        /// Its git mode: `100644`, `100755` or `120000`.
        mode: EntryMode,
        /// Its contents.
        contents: &'a [u8],
    },
    /// A hard link: a copy of the earlier file at `source`.
    Copy {
        /// Its path.
        path: &'a str,
        /// The file it copies, handed over earlier.
        source: &'a str,
    },
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

/// Reads `body` (a tar archive, gzipped or not), checking every entry and the limits, and hands
/// each one to `visit` in archive order (a later entry for a path replaces an earlier one). Only
/// one file's contents are held at a time. Returns how many files the tree holds.
pub fn read<E: From<ArchiveError>>(
    body: &[u8],
    compression: Compression,
    limits: &ImportLimits,
    visit: impl FnMut(Item<'_>) -> Result<(), E>,
) -> Result<usize, E> {
    match compression {
        Compression::None => read_tar(body, limits, visit),
        Compression::Gzip => read_tar(flate2::read::MultiGzDecoder::new(body), limits, visit),
    }
}

fn read_tar<E: From<ArchiveError>>(
    reader: impl Read,
    limits: &ImportLimits,
    mut visit: impl FnMut(Item<'_>) -> Result<(), E>,
) -> Result<usize, E> {
    // Each file's size so far, for the budget and for hard links to earlier files.
    let mut sizes: HashMap<String, u64> = HashMap::new();
    let mut budget = limits.budget();
    let mut contents = Vec::new();
    let mut archive = tar::Archive::new(reader);
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
        let at = path::normalize(&relative).map_err(ArchiveError::from)?;
        if at == "/" || is_in_dot_git(&at) {
            continue;
        }
        let replaced = sizes.get(&at).copied();
        match kind {
            EntryType::Directory => {
                budget.directory().map_err(ArchiveError::from)?;
                visit(Item::Directory(&at))?;
                continue;
            }
            EntryType::Regular | EntryType::Continuous => {
                budget.file(&at, entry.size(), replaced).map_err(ArchiveError::from)?;
                contents.clear();
                entry.read_to_end(&mut contents).map_err(ArchiveError::Unreadable)?;
                let executable = entry.header().mode().map_err(ArchiveError::Unreadable)? & 0o111 != 0;
                let kind = if executable {
                    EntryKind::BlobExecutable
                } else {
                    EntryKind::Blob
                };
                visit(Item::File {
                    path: &at,
                    mode: kind.into(),
                    contents: &contents,
                })?;
                sizes.insert(at, contents.len() as u64);
            }
            EntryType::Symlink => {
                let target = link_target(&entry)?;
                if escapes(&at, &target) {
                    return Err(ArchiveError::LinkEscapes { path: raw, target }.into());
                }
                budget
                    .file(&at, target.len() as u64, replaced)
                    .map_err(ArchiveError::from)?;
                visit(Item::File {
                    path: &at,
                    mode: EntryKind::Link.into(),
                    contents: target.as_bytes(),
                })?;
                sizes.insert(at, target.len() as u64);
            }
            EntryType::Link => {
                let target = link_target(&entry)?;
                let source = archive_path(&target)
                    .ok()
                    .flatten()
                    .and_then(|p| path::normalize(&p).ok())
                    .filter(|p| sizes.contains_key(p))
                    .ok_or_else(|| ArchiveError::LinkEscapes {
                        path: raw.clone(),
                        target: target.clone(),
                    })?;
                let size = sizes[&source];
                budget.file(&at, size, replaced).map_err(ArchiveError::from)?;
                visit(Item::Copy {
                    path: &at,
                    source: &source,
                })?;
                sizes.insert(at, size);
            }
            other => {
                return Err(ArchiveError::Unsupported {
                    path: raw,
                    kind: format!("{other:?}"),
                }
                .into());
            }
        }
    }
    Ok(sizes.len())
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

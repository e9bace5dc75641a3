//! The file API's semantics: read a file or list a directory, write a file under a condition,
//! remove a path. Each call is one transaction; writes and removals hold the session's lock, so
//! they never interleave with a chat, and they go through the same [`Worktree`] calls as the
//! agent's tools (quotas, path rules, and `git_status` see them alike).
//!
//! [`Worktree`]: crate::storage::Worktree

use std::sync::Arc;

use gix_hash::ObjectId;

use super::{ChatService, ServiceError};
use crate::sessions::SessionId;
use crate::storage::path::normalize;
use crate::storage::{Entry, EntryKind, FsError, StorageError};

/// What a path holds, as the file API returns it.
#[derive(Debug)]
pub enum PathView {
    /// A file's contents.
    File {
        /// The bytes.
        contents: Vec<u8>,
        /// Its git blob id: the file's entity tag.
        blob_id: ObjectId,
        /// Last modification, milliseconds since the Unix epoch.
        mtime_ms: u64,
    },
    /// A directory's direct children, sorted by path.
    Directory {
        /// The directory's normalised path.
        path: String,
        /// Its children.
        entries: Vec<Entry>,
    },
}

/// When a write may happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteCondition {
    /// Always (create or replace).
    Always,
    /// Only when the file exists and its blob id is one of these (`If-Match`).
    Matches(Vec<ObjectId>),
    /// Only when the file exists (`If-Match: *`).
    Exists,
    /// Only when nothing exists at the path (`If-None-Match: *`).
    Absent,
}

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Whether the file was created (rather than replaced).
    pub created: bool,
    /// The file's new blob id.
    pub blob_id: ObjectId,
}

impl ChatService {
    /// A file's contents, or a directory's listing.
    pub async fn read_path(self: &Arc<Self>, id: &SessionId, path: &str) -> Result<PathView, ServiceError> {
        let path = normalize(path).map_err(FsError::from)?;
        self.read(id, move |s| {
            let worktree = s.worktree();
            let entry = worktree.stat(&path)?;
            Ok::<_, ServiceError>(match entry.kind {
                EntryKind::Directory => PathView::Directory {
                    entries: worktree.list(&path)?,
                    path,
                },
                EntryKind::File => {
                    let blob_id = worktree.blob_id(&path)?;
                    let (_, contents) = s.objects().get(&blob_id)?.ok_or_else(|| {
                        StorageError::corrupt("files", format!("{path} names the missing blob {blob_id}"))
                    })?;
                    PathView::File {
                        contents,
                        blob_id,
                        mtime_ms: entry.mtime_ms,
                    }
                }
            })
        })
        .await
    }

    /// Creates or replaces the file at `path` (creating its parents) when `condition` holds.
    pub async fn write_file(
        self: &Arc<Self>,
        id: &SessionId,
        path: &str,
        contents: impl AsRef<[u8]> + Send + 'static,
        condition: WriteCondition,
    ) -> Result<Written, ServiceError> {
        let path = normalize(path).map_err(FsError::from)?;
        self.write(id, move |s| {
            let worktree = s.worktree();
            let current = match worktree.blob_id(&path) {
                Ok(blob_id) => Some(blob_id),
                Err(FsError::NotFound(_)) => None,
                Err(e) => return Err(e.into()),
            };
            let holds = match (&condition, current) {
                (WriteCondition::Always, _) => true,
                (WriteCondition::Matches(tags), Some(current)) => tags.contains(&current),
                (WriteCondition::Exists, current) => current.is_some(),
                (WriteCondition::Absent, current) => current.is_none(),
                (WriteCondition::Matches(_), None) => false,
            };
            if !holds {
                return Err(ServiceError::PreconditionFailed(match current {
                    Some(blob_id) => format!("{path} is at {blob_id}"),
                    None => format!("{path} does not exist"),
                }));
            }
            let blob_id = worktree.write(&path, contents.as_ref())?;
            Ok(Written {
                created: current.is_none(),
                blob_id,
            })
        })
        .await
    }

    /// Removes a file, or a directory (with its contents when `recursive`).
    pub async fn remove_path(
        self: &Arc<Self>,
        id: &SessionId,
        path: &str,
        recursive: bool,
    ) -> Result<(), ServiceError> {
        let path = path.to_string();
        self.write(id, move |s| {
            Ok::<_, ServiceError>(s.worktree().remove(&path, recursive)?)
        })
        .await
    }
}

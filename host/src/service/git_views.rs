//! Read-only views of a session's git state and checkpoints for people (the web app and the
//! routes behind it): the working tree's diff against HEAD, the history with each commit's diff,
//! and the files as they stood at a checkpoint. Each call is one read transaction over the same
//! git code the agent's `git_diff`, `git_log` and `git_show` tools use.

use std::sync::Arc;

use gix_hash::ObjectId;

use super::{ChatService, ServiceError};
use crate::git::{CommitInfo, FileDiff, GitError, Repo, tree};
use crate::sessions::SessionId;
use crate::storage::path::normalize;
use crate::storage::{FsError, Snapshot, StorageError};

/// The working tree's changes against HEAD.
#[derive(Debug)]
pub struct WorktreeDiff {
    /// The checked-out branch (`None`: HEAD is detached).
    pub branch: Option<String>,
    /// HEAD's commit (`None`: no commits yet).
    pub head: Option<ObjectId>,
    /// The changed files, sorted by path; untracked files count as added.
    pub files: Vec<FileDiff>,
}

/// The files of one checkpoint.
#[derive(Debug)]
pub struct CheckpointFiles {
    /// The checkpoint's message number (the latest at or before the one asked for).
    pub seq: u64,
    /// When it was recorded, milliseconds since the Unix epoch.
    pub created_ms: u64,
    /// Its files, by git path.
    pub files: Snapshot,
}

/// The error when no checkpoint is at or before message `at`.
fn no_checkpoint(at: u64) -> ServiceError {
    ServiceError::NoSuchMessage(format!("no checkpoint at or before message {at}"))
}

impl ChatService {
    /// The working tree against HEAD, untracked files included.
    pub async fn worktree_diff(self: &Arc<Self>, id: &SessionId) -> Result<WorktreeDiff, ServiceError> {
        self.read(id, |s| {
            let repo = Repo::new(s);
            Ok::<_, GitError>(WorktreeDiff {
                files: repo.worktree_diff()?,
                branch: repo.current_branch()?,
                head: repo.head_commit()?,
            })
        })
        .await
    }

    /// Up to `limit` commits reachable from HEAD, newest first.
    pub async fn log(self: &Arc<Self>, id: &SessionId, limit: usize) -> Result<Vec<CommitInfo>, ServiceError> {
        self.read(id, move |s| Repo::new(s).log(limit)).await
    }

    /// A commit (a branch name, `HEAD` or a commit id) and its changes against its first parent.
    pub async fn show_commit(
        self: &Arc<Self>,
        id: &SessionId,
        rev: String,
    ) -> Result<(CommitInfo, Vec<FileDiff>), ServiceError> {
        self.read(id, move |s| Repo::new(s).show(Some(&rev))).await
    }

    /// The files of the latest checkpoint at or before message `at`.
    pub async fn checkpoint_files(self: &Arc<Self>, id: &SessionId, at: u64) -> Result<CheckpointFiles, ServiceError> {
        self.read(id, move |s| {
            let checkpoint = s.checkpoints().at_or_before(at)?.ok_or_else(|| no_checkpoint(at))?;
            let files = tree::flatten(&s.objects(), &checkpoint.tree)?;
            Ok::<_, ServiceError>(CheckpointFiles {
                seq: checkpoint.seq,
                created_ms: checkpoint.created_ms,
                files,
            })
        })
        .await
    }

    /// One file's blob id and bytes as it stood at the latest checkpoint at or before message
    /// `at`, and when that checkpoint was recorded (milliseconds since the Unix epoch).
    pub async fn checkpoint_file(
        self: &Arc<Self>,
        id: &SessionId,
        at: u64,
        path: &str,
    ) -> Result<(ObjectId, Vec<u8>, u64), ServiceError> {
        let path = normalize(path).map_err(FsError::from)?;
        self.read(id, move |s| {
            let checkpoint = s.checkpoints().at_or_before(at)?.ok_or_else(|| no_checkpoint(at))?;
            let files = tree::flatten(&s.objects(), &checkpoint.tree)?;
            let git_path = path.trim_start_matches('/');
            let file = files.get(git_path).ok_or_else(|| FsError::NotFound(path.clone()))?;
            let (_, contents) = s.objects().get(&file.id)?.ok_or_else(|| {
                StorageError::corrupt("objects", format!("{path} names the missing blob {}", file.id))
            })?;
            Ok::<_, ServiceError>((file.id, contents, checkpoint.created_ms))
        })
        .await
    }
}

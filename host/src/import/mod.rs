//! Starting a session from your code: a `.tar`/`.tar.gz` archive becomes the working tree and its
//! first commit ([`archive`], [`fill_from_archive`]), or a public git repository is cloned over
//! smart HTTP ([`remote`]). Either obeys the workspace quotas ([`limits`]).
//!
//! Nothing here runs SQL: the session is filled through the typed stores and the git layer, in
//! one transaction, so an import lands completely or not at all.

pub mod archive;
pub mod limits;
pub mod remote;

use std::collections::HashMap;

use gix_hash::ObjectId;
use gix_object::Kind;

use self::archive::{ArchiveError, Compression, Item};
use self::limits::{ImportLimits, LimitError};
use crate::git::pack::PackError;
use crate::git::{GitError, Repo};
use crate::seed::GitAuthor;
use crate::storage::{FsError, SessionDb, StorageError, Stores, TrackedFile, meta};

/// The message of the commit an archive import makes.
pub const INITIAL_COMMIT_MESSAGE: &str = "Initial commit";

/// What an import produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    /// HEAD's commit (`None`: an empty archive, nothing committed).
    pub head: Option<ObjectId>,
    /// Files in the working tree.
    pub file_count: u64,
}

/// Why an import failed; nothing was created.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The archive was refused.
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// The import does not fit the workspace's quotas.
    #[error(transparent)]
    Limit(#[from] LimitError),
    /// The repository could not be fetched, or was refused.
    #[error(transparent)]
    Remote(#[from] remote::RemoteError),
    /// The fetched pack was refused.
    #[error("bad pack from the remote: {0}")]
    Pack(#[source] PackError),
    /// The working tree refused an entry (a file where a directory must go).
    #[error("the archive does not fit in a working tree: {0}")]
    Worktree(#[source] FsError),
    /// A git operation failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// Storage failed (a host fault).
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<PackError> for ImportError {
    fn from(e: PackError) -> Self {
        match e {
            PackError::Storage(e) => Self::Storage(e),
            other => Self::Pack(other),
        }
    }
}

impl From<FsError> for ImportError {
    fn from(e: FsError) -> Self {
        match e {
            FsError::Storage(e) => Self::Storage(e),
            other => Self::Worktree(other),
        }
    }
}

/// Makes the session a repository on `main` with `author` (if given) recorded: the start of every
/// import.
pub(crate) fn init(s: Stores<'_>, author: Option<&GitAuthor>, template: &str) -> Result<(), ImportError> {
    Repo::new(s).init()?;
    if let Some(author) = author {
        s.meta().set(meta::GIT_AUTHOR_NAME, &author.name)?;
        s.meta().set(meta::GIT_AUTHOR_EMAIL, &author.email)?;
    }
    s.meta().set(meta::TEMPLATE, template)?;
    Ok(())
}

/// Fills a new session from a tar archive (checked before by [`archive::read`]): its files become
/// the working tree (modes kept) and, unless there are none, the `Initial commit` on `main`,
/// authored as a seeded session's commits are. One transaction; one file in memory at a time.
pub fn fill_from_archive(
    db: &mut SessionDb,
    body: &[u8],
    compression: Compression,
    limits: &ImportLimits,
    author: Option<&GitAuthor>,
) -> Result<Imported, ImportError> {
    db.write(|s| {
        init(s, author, "archive")?;
        let worktree = s.worktree();
        let mut placed: HashMap<String, (TrackedFile, u64)> = HashMap::new();
        let files = archive::read(body, compression, limits, |item| {
            let (path, file, size) = match item {
                Item::Directory(path) => return Ok::<_, ImportError>(worktree.mkdir(path)?),
                Item::File { path, mode, contents } => {
                    let id = s.objects().put(Kind::Blob, contents)?;
                    (path, TrackedFile { mode, id }, contents.len() as u64)
                }
                Item::Copy { path, source } => {
                    let (file, size) = placed.get(source).copied().ok_or_else(|| ArchiveError::LinkEscapes {
                        path: path.to_string(),
                        target: source.to_string(),
                    })?;
                    (path, file, size)
                }
            };
            worktree.place(path, file, size)?;
            placed.insert(path.to_string(), (file, size));
            Ok(())
        })?;
        let repo = Repo::new(s);
        let head = if files == 0 {
            None
        } else {
            repo.add(&[".".to_string()])?;
            Some(repo.commit(INITIAL_COMMIT_MESSAGE)?.id)
        };
        Ok(Imported {
            head,
            file_count: worktree.stats()?.file_count,
        })
    })
}

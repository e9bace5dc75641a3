//! What a push may do to refs, as stock git's `receive-pack` decides with its default settings:
//! branches are created, moved (fast-forward or forced: the client refuses non-fast-forward
//! pushes itself unless told to force) and deleted, except the checked-out branch, which is
//! never deleted and moves like `receive.denyCurrentBranch=updateInstead`: only over a clean
//! working tree and index, which are then checked out to the new commit.

use gix_hash::ObjectId;
use gix_object::Kind;

use super::pack::StoredPack;
use super::refs::{BRANCH_PREFIX, valid_branch_name};
use super::{GitError, Repo};
use crate::storage::RefValue;

/// One ref update a client asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefUpdate {
    /// The full ref name (`refs/heads/main`).
    pub name: String,
    /// What the client believes the ref holds (the null id: that it does not exist).
    pub old: ObjectId,
    /// What it should hold (the null id: delete it).
    pub new: ObjectId,
}

impl RefUpdate {
    /// Whether the update deletes the ref.
    pub fn is_delete(&self) -> bool {
        self.new.is_null()
    }
}

/// Why one ref update was refused; its text is what `git push` shows in parentheses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// Not a valid branch name.
    #[error("funny refname")]
    InvalidName,
    /// Only branches are accepted.
    #[error("only branches (refs/heads/*) can be pushed here")]
    NotABranch,
    /// The ref moved since the client read it.
    #[error("stale info: the ref changed since it was advertised")]
    Stale,
    /// The checked-out branch cannot be deleted.
    #[error("deletion of the current branch prohibited")]
    DeleteCurrent,
    /// The new tip, or something it reaches, is not here.
    #[error("missing necessary objects")]
    MissingObjects,
    /// The new tip is not a commit.
    #[error("not a commit")]
    NotACommit,
    /// The branch is checked out and has uncommitted changes.
    #[error("branch is checked out and its working tree has uncommitted changes: {}", .0.join(", "))]
    DirtyWorktree(Vec<String>),
    /// Checking out the new commit would overwrite files that are not committed.
    #[error("branch is checked out and the new commit would overwrite uncommitted files: {}", .0.join(", "))]
    WouldOverwrite(Vec<String>),
    /// Refused because another update of an atomic push was.
    #[error("atomic transaction failed")]
    Atomic,
}

/// A refusal, or a host fault that ends the whole push.
pub type UpdateResult = Result<Result<(), Rejection>, GitError>;

impl Repo<'_> {
    /// Whether `update` may apply, reading only: the name, the expected old value, the new tip
    /// (a commit, with everything it reaches here or in `pack`), and for the checked-out branch
    /// a clean working tree and index.
    pub fn check_ref_update(&self, update: &RefUpdate, pack: &StoredPack) -> UpdateResult {
        let Some(branch) = update.name.strip_prefix(BRANCH_PREFIX) else {
            return Ok(Err(Rejection::NotABranch));
        };
        if !valid_branch_name(branch) {
            return Ok(Err(Rejection::InvalidName));
        }
        let current = match self.stores.refs().get(&update.name)? {
            Some(RefValue::Direct(id)) => id,
            Some(RefValue::Symbolic(_)) => return Ok(Err(Rejection::InvalidName)),
            None => ObjectId::null(gix_hash::Kind::Sha1),
        };
        if current != update.old {
            return Ok(Err(Rejection::Stale));
        }
        let checked_out = self.current_branch()?.as_deref() == Some(branch);
        if update.is_delete() {
            return Ok(if checked_out {
                Err(Rejection::DeleteCurrent)
            } else {
                Ok(())
            });
        }
        let kind = match pack.kind(&update.new) {
            Some(kind) => Some(kind),
            None => self.stores.objects().header(&update.new)?.map(|(kind, _)| kind),
        };
        match kind {
            None => return Ok(Err(Rejection::MissingObjects)),
            Some(Kind::Commit) => {}
            Some(_) => return Ok(Err(Rejection::NotACommit)),
        }
        match pack.check_connected(&self.stores.objects(), update.new, &Default::default()) {
            Ok(()) => {}
            Err(super::pack::PackError::Missing(_)) => return Ok(Err(Rejection::MissingObjects)),
            Err(super::pack::PackError::Storage(e)) => return Err(e.into()),
            Err(e) => return Err(GitError::Objects(gix_error::Error::from_error(e))),
        }
        if checked_out {
            let status = self.status()?;
            let dirty: Vec<String> = status
                .staged
                .into_iter()
                .chain(status.unstaged)
                .map(|c| c.path)
                .collect();
            if !dirty.is_empty() {
                return Ok(Err(Rejection::DirtyWorktree(dirty)));
            }
        }
        Ok(Ok(()))
    }

    /// Applies an update [`check_ref_update`](Self::check_ref_update) accepted. The checked-out
    /// branch takes its working tree and index along; refused, with nothing changed, when that
    /// would overwrite untracked files.
    pub fn apply_ref_update(&self, update: &RefUpdate) -> UpdateResult {
        let refs = self.stores.refs();
        if update.is_delete() {
            refs.delete(&update.name)?;
            return Ok(Ok(()));
        }
        let branch = update.name.strip_prefix(BRANCH_PREFIX).map(str::to_string);
        if branch.is_some() && self.current_branch()? == branch {
            match self.switch_to(update.new, branch) {
                Ok(_) => {}
                Err(GitError::WouldLoseChanges(paths)) => return Ok(Err(Rejection::WouldOverwrite(paths))),
                Err(e) => return Err(e),
            }
        }
        refs.set(&update.name, &RefValue::Direct(update.new))?;
        Ok(Ok(()))
    }
}

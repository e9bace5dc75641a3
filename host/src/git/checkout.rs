//! Checkout that really syncs the working tree: files only on the target appear, files tracked
//! only on the current commit disappear, changed files take the target's version — or nothing
//! happens at all when that would overwrite or lose uncommitted work.

use std::collections::BTreeSet;

use gix_hash::ObjectId;

use super::status::obstruction;
use super::{GitError, Repo, tree};
use crate::storage::TrackedFile;
use crate::storage::worktree::worktree_path;

/// What a checkout did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutResult {
    /// The branch checked out (`None`: detached HEAD).
    pub branch: Option<String>,
    /// The commit checked out.
    pub head: ObjectId,
    /// Files written.
    pub updated: u32,
    /// Files removed.
    pub removed: u32,
}

impl Repo<'_> {
    /// Removes the working-tree paths `remove`, then places the files `place` (git paths);
    /// returns how many were placed and removed. Removals go first: a file leaving may be in the
    /// way of a directory arriving, and a directory emptied by removals may be where a file
    /// arrives.
    pub(super) fn update_worktree(
        &self,
        remove: &[String],
        place: &[(&String, TrackedFile)],
    ) -> Result<(u32, u32), GitError> {
        let worktree = self.stores.worktree();
        let removed = worktree.remove_files_and_prune(remove)?;
        for (path, file) in place {
            let size = self.blob_size(file.id)?;
            worktree
                .place(&worktree_path(path), *file, size)
                .map_err(|e| obstruction(e, path))?;
        }
        Ok((place.len() as u32, removed))
    }

    /// Switches to `rev` (a branch, or a commit: detached), creating the branch at HEAD first
    /// when `create`.
    pub fn checkout(&self, rev: &str, create: bool) -> Result<CheckoutResult, GitError> {
        self.require_repo()?;
        let (target, branch) = if create {
            let created = self.create_branch(rev)?;
            (created.head, Some(created.name))
        } else {
            self.resolve(rev)?
        };
        self.switch_to(target, branch)
    }

    /// Moves the working tree and index from HEAD's commit to `target` and points HEAD at
    /// `branch` (or, detached, at `target`). Refused, with nothing changed, when that would
    /// overwrite or lose uncommitted work.
    pub(super) fn switch_to(&self, target: ObjectId, branch: Option<String>) -> Result<CheckoutResult, GitError> {
        let odb = self.stores.objects();
        let target_files = tree::flatten(&odb, &tree::commit_tree(&odb, &target)?)?;
        let head_files = self.head_files()?;
        let index = self.index()?;
        let worktree = self.worktree()?;

        let touched: BTreeSet<&String> = head_files
            .keys()
            .chain(target_files.keys())
            .filter(|p| head_files.get(*p) != target_files.get(*p))
            .collect();
        let wanted = |p: &str| target_files.get(p).map(|f| f.id);
        let conflicts: Vec<String> = touched
            .iter()
            .filter(|p| {
                let staged = index.get(**p) != head_files.get(**p);
                let local = worktree.get(**p).map(|f| f.id);
                let unstaged = index.contains_key(**p) && local != index.get(**p).map(|f| f.id);
                let untracked_in_the_way = !index.contains_key(**p) && local.is_some();
                (staged || unstaged || untracked_in_the_way) && local != wanted(p)
            })
            .map(|p| p.to_string())
            .collect();
        if !conflicts.is_empty() {
            return Err(GitError::WouldLoseChanges(conflicts));
        }

        let mut next_index = index.clone();
        let mut to_remove = Vec::new();
        let mut to_place = Vec::new();
        for path in &touched {
            match target_files.get(*path) {
                Some(file) => {
                    if worktree.get(*path).map(|w| w.id) != Some(file.id) {
                        to_place.push((*path, *file));
                    }
                    next_index.insert(path.to_string(), *file);
                }
                None => {
                    if worktree.contains_key(*path) {
                        to_remove.push(worktree_path(path));
                    }
                    next_index.remove(*path);
                }
            }
        }
        let (updated, removed) = self.update_worktree(&to_remove, &to_place)?;
        self.stores.index().replace(&next_index)?;
        self.set_head(branch.as_deref(), target)?;
        Ok(CheckoutResult {
            branch,
            head: target,
            updated,
            removed,
        })
    }
}

//! Starting a repository from fetched history (an import): a branch at a fetched commit checked
//! out into the empty working tree, and the shallow boundary a shallow fetch leaves, which
//! history walks stop at as git does (a shallow commit has no parents).

use std::collections::{BTreeSet, HashSet};

use gix_hash::ObjectId;

use super::checkout::CheckoutResult;
use super::refs::{BRANCH_PREFIX, valid_branch_name};
use super::status::obstruction;
use super::{GitError, Repo, tree};
use crate::storage::worktree::worktree_path;
use crate::storage::{RefValue, meta};

impl Repo<'_> {
    /// Creates the branch `name` at `commit` and checks it out: HEAD on the branch, the commit's
    /// files in the index and the working tree. Meant for a repository without commits and an
    /// empty working tree (an import); files already at the commit's paths are replaced.
    /// Submodules (gitlinks) stay in the tree but are not checked out.
    pub fn start_branch_at(&self, name: &str, commit: ObjectId) -> Result<CheckoutResult, GitError> {
        self.require_repo()?;
        if !valid_branch_name(name) {
            return Err(GitError::InvalidName(name.to_string()));
        }
        let odb = self.stores.objects();
        let files = tree::flatten(&odb, &tree::commit_tree(&odb, &commit)?)?;
        let worktree = self.stores.worktree();
        for (path, file) in &files {
            let size = self.blob_size(file.id)?;
            worktree
                .place(&worktree_path(path), *file, size)
                .map_err(|e| obstruction(e, path))?;
        }
        self.stores.index().replace(&files)?;
        self.stores
            .refs()
            .set(&format!("{BRANCH_PREFIX}{name}"), &RefValue::Direct(commit))?;
        self.set_head(Some(name), commit)?;
        Ok(CheckoutResult {
            branch: Some(name.to_string()),
            head: commit,
            updated: files.len() as u32,
            removed: 0,
        })
    }

    /// Records the shallow boundary: commits whose parents the repository does not hold.
    pub fn set_shallow(&self, commits: &BTreeSet<ObjectId>) -> Result<(), GitError> {
        let value: Vec<String> = commits.iter().map(|id| id.to_hex().to_string()).collect();
        Ok(self.stores.meta().set(meta::GIT_SHALLOW, &value.join(" "))?)
    }

    /// The shallow boundary (empty for a complete history).
    pub fn shallow(&self) -> Result<BTreeSet<ObjectId>, GitError> {
        let Some(value) = self.stores.meta().get(meta::GIT_SHALLOW)? else {
            return Ok(BTreeSet::new());
        };
        value
            .split_whitespace()
            .map(|hex| {
                ObjectId::from_hex(hex.as_bytes()).map_err(|e| {
                    crate::storage::StorageError::corrupt("meta", format!("{}: {hex}: {e}", meta::GIT_SHALLOW)).into()
                })
            })
            .collect()
    }

    /// The parents of shallow commits that the repository does not hold: where history ends.
    pub(super) fn history_boundary(&self) -> Result<HashSet<ObjectId>, GitError> {
        let odb = self.stores.objects();
        let mut boundary = HashSet::new();
        for commit in self.shallow()? {
            for parent in super::commit::read_commit(&odb, commit)?.parents {
                if !odb.contains(&parent)? {
                    boundary.insert(parent);
                }
            }
        }
        Ok(boundary)
    }
}

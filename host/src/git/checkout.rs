//! Checkout that really syncs the working tree: files only on the target appear, files tracked
//! only on the current commit disappear, changed files take the target's version — or nothing
//! happens at all when that would overwrite or lose uncommitted work.

use std::collections::BTreeSet;

use gix_hash::ObjectId;

use super::{GitError, Repo, tree, worktree_path};
use crate::storage::files::{ensure_dir, set_file};
use crate::storage::path::parent;
use crate::storage::{FsError, now_ms};

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
    /// Switches to `rev` (a branch, or a commit: detached), creating the branch at HEAD first
    /// when `create`.
    pub fn checkout(&mut self, rev: &str, create: bool) -> Result<CheckoutResult, GitError> {
        self.require_repo()?;
        let (target, branch) = if create {
            let created = self.create_branch(rev)?;
            (created.head, Some(created.name))
        } else {
            self.resolve(rev)?
        };
        let odb = self.db.objects();
        let target_files = tree::flatten(&odb, &tree::commit_tree(&odb, &target)?)?;
        let head_files = self.head_files()?;
        let index = self.index()?;
        let worktree = self.worktree()?;

        let touched: BTreeSet<&String> = head_files
            .keys()
            .chain(target_files.keys())
            .filter(|p| head_files.get(*p) != target_files.get(*p))
            .collect();
        let wanted = |p: &str| target_files.get(p).map(|(_, id)| id);
        let conflicts: Vec<String> = touched
            .iter()
            .filter(|p| {
                let staged = index.get(**p) != head_files.get(**p);
                let local = worktree.get(**p).map(|(_, id)| id);
                let unstaged = index.contains_key(**p) && local != index.get(**p).map(|(_, id)| id);
                let untracked_in_the_way = !index.contains_key(**p) && local.is_some();
                (staged || unstaged || untracked_in_the_way) && local != wanted(p)
            })
            .map(|p| p.to_string())
            .collect();
        if !conflicts.is_empty() {
            return Err(GitError::WouldLoseChanges(conflicts));
        }

        let now = now_ms();
        let tx = self.db.conn().unchecked_transaction()?;
        let (mut updated, mut removed) = (0, 0);
        let mut next_index = index.clone();
        let mut emptied_dirs = BTreeSet::new();
        for path in &touched {
            let full = worktree_path(path);
            match target_files.get(*path) {
                Some((mode, id)) => {
                    let oid = ObjectId::from_hex(id.as_bytes()).map_err(|e| GitError::Storage(e.to_string()))?;
                    let size = odb.header(&oid)?.map(|(_, s)| s).unwrap_or(0);
                    ensure_dir(&tx, parent(&full), now).map_err(|e| in_the_way(e, path))?;
                    if crate::storage::files::kind_at(&tx, &full)? == Some(crate::storage::EntryKind::Directory) {
                        return Err(GitError::WouldLoseChanges(vec![path.to_string()]));
                    }
                    if worktree.get(*path).map(|(_, w)| w) != Some(id) {
                        set_file(&tx, &full, id, size, now)?;
                        updated += 1;
                    }
                    next_index.insert(path.to_string(), (*mode, id.clone()));
                }
                None => {
                    if worktree.contains_key(*path) {
                        tx.execute("DELETE FROM files WHERE path = ?1", [&full])?;
                        removed += 1;
                        emptied_dirs.insert(parent(&full).to_string());
                    }
                    next_index.remove(*path);
                }
            }
        }
        // Directories left empty by removals go too, deepest first, as git does.
        let mut dirs: Vec<String> = emptied_dirs.into_iter().collect();
        while let Some(dir) = dirs.pop() {
            if dir == "/" {
                continue;
            }
            let deleted = tx.execute(
                "DELETE FROM files WHERE path = ?1 AND kind = 1 AND NOT EXISTS (SELECT 1 FROM files WHERE parent = ?1)",
                [&dir],
            )?;
            if deleted > 0 && !dirs.contains(&parent(&dir).to_string()) {
                dirs.insert(0, parent(&dir).to_string());
            }
        }
        Self::write_index(&tx, &next_index)?;
        self.set_head(branch.as_deref(), target)?;
        tx.commit()?;
        Ok(CheckoutResult {
            branch,
            head: target,
            updated,
            removed,
        })
    }
}

/// A file in the way of a directory the target needs is a local change that would be lost.
fn in_the_way(e: FsError, path: &str) -> GitError {
    match e {
        FsError::NotADirectory(_) => GitError::WouldLoseChanges(vec![path.to_string()]),
        other => other.into(),
    }
}

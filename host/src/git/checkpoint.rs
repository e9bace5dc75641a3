//! Checkpoints of the working tree: recorded as git trees (the blobs are already stored, so a
//! checkpoint writes only the trees that changed since any earlier one), and restored by syncing
//! the working tree to one. Neither touches HEAD, branches or the index: checkpoints are not
//! history, and `git_status` after a restore shows exactly how the files differ from HEAD.

use super::diff::tree_changes;
use super::status::ChangeKind;
use super::{GitError, Repo, tree};
use crate::storage::worktree::worktree_path;
use crate::storage::{Checkpoint, FileChangeKind, Snapshot, meta};
use gix_hash::ObjectId;
use gix_object::tree::EntryKind;
use gix_object::{FindExt as _, Write as _};

/// The git path (`a/b`) of a working-tree path (`/a/b`).
fn git_path(path: &str) -> &str {
    path.strip_prefix('/').unwrap_or(path)
}

impl Repo<'_> {
    /// Records the working tree as the checkpoint after message `seq`, with the files changed
    /// since the checkpoint before it. Replaces an existing checkpoint at `seq`.
    pub fn record_checkpoint(&self, seq: u64) -> Result<(), GitError> {
        let odb = self.stores.objects();
        let checkpoints = self.stores.checkpoints();
        let meta = self.stores.meta();
        let base = meta
            .get(meta::CHECKPOINT_BASE)?
            .and_then(|hex| ObjectId::from_hex(hex.as_bytes()).ok());
        let latest = checkpoints.latest()?.map(|c| c.tree);
        let tree = match base {
            // The dirty set is relative to the latest checkpoint: edit only its paths.
            Some(base) if latest == Some(base) => self.edit_tree(base, &checkpoints.dirty_paths()?)?,
            _ => tree::write_tree(&odb, None, &Snapshot::new(), &self.stores.worktree().files()?)?,
        };
        checkpoints.clear_dirty()?;
        meta.set(meta::CHECKPOINT_BASE, &tree.to_string())?;
        let previous = match seq {
            0 => None,
            seq => checkpoints.at_or_before(seq - 1)?,
        };
        let changes = tree_changes(&odb, previous.as_ref().map(|c| &c.tree), &tree)?
            .into_iter()
            .map(|c| {
                let kind = match c.change.kind {
                    ChangeKind::Added => FileChangeKind::Added,
                    ChangeKind::Deleted => FileChangeKind::Deleted,
                    ChangeKind::Modified => FileChangeKind::Modified,
                };
                (kind, c.change.path)
            })
            .collect::<Vec<_>>();
        checkpoints.record(seq, &tree, &changes)?;
        Ok(())
    }

    /// The tree `base` with the working tree's current state at the working-tree `paths`
    /// (`/a/b`; git's `a/b`).
    fn edit_tree(&self, base: ObjectId, paths: &[String]) -> Result<ObjectId, GitError> {
        let odb = self.stores.objects();
        let worktree = self.stores.worktree();
        let mut buf = Vec::new();
        let mut editor =
            gix_object::tree::Editor::new(odb.find_tree(&base, &mut buf)?.into(), &odb, gix_hash::Kind::Sha1);
        let mut upserts = Vec::new();
        // Removals first: a file that became a directory must leave before its entries arrive.
        for path in paths {
            editor.remove_if_leaf(tree::components(git_path(path)))?;
            if let Some(file) = worktree.tracked(path)? {
                upserts.push((path, file));
            }
        }
        for (path, file) in upserts {
            editor.upsert(tree::components(git_path(path)), EntryKind::from(file.mode), file.id)?;
        }
        Ok(editor.write(|tree| odb.write(tree))?)
    }

    /// Makes the working tree what it was at the latest checkpoint at or before message `seq`:
    /// files added since are removed, changed ones take their old contents. Returns that
    /// checkpoint (`None`: there is none, and nothing changed).
    pub fn restore_checkpoint(&self, seq: u64) -> Result<Option<Checkpoint>, GitError> {
        let Some(checkpoint) = self.stores.checkpoints().at_or_before(seq)? else {
            return Ok(None);
        };
        let target = tree::flatten(&self.stores.objects(), &checkpoint.tree)?;
        let current = self.stores.worktree().files()?;
        let remove: Vec<String> = current
            .keys()
            .filter(|p| !target.contains_key(*p))
            .map(|p| worktree_path(p))
            .collect();
        let place: Vec<_> = target
            .iter()
            .filter(|(p, f)| current.get(*p) != Some(*f))
            .map(|(p, f)| (p, *f))
            .collect();
        self.update_worktree(&remove, &place)?;
        Ok(Some(checkpoint))
    }
}

//! Checkpoints of the working tree: recorded as git trees (the blobs are already stored, so a
//! checkpoint writes only the trees that changed since any earlier one), and restored by syncing
//! the working tree to one. Neither touches HEAD, branches or the index: checkpoints are not
//! history, and `git_status` after a restore shows exactly how the files differ from HEAD.

use super::diff::tree_changes;
use super::status::ChangeKind;
use super::{GitError, Repo, tree};
use crate::storage::worktree::worktree_path;
use crate::storage::{Checkpoint, FileChangeKind, Snapshot};

impl Repo<'_> {
    /// Records the working tree as the checkpoint after message `seq`, with the files changed
    /// since the checkpoint before it. Replaces an existing checkpoint at `seq`.
    pub fn record_checkpoint(&self, seq: u64) -> Result<(), GitError> {
        let odb = self.stores.objects();
        let files = self.stores.worktree().files()?;
        let tree = tree::write_tree(&odb, None, &Snapshot::new(), &files)?;
        let checkpoints = self.stores.checkpoints();
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

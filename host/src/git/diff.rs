//! Diffs: which files changed (gix's tree diff, or id comparison against the index and working
//! tree) and how their lines changed (imara-diff's histogram diff, gix's blob-diff engine), as
//! unified-diff hunks with three lines of context.

use gix_hash::ObjectId;
use gix_object::FindExt;
use imara_diff::{Algorithm, Diff, InternedInput};

use super::status::{ChangeKind, FileChange};
use super::{GitError, Repo, status};
use crate::storage::path::{is_beneath, normalize};
use crate::storage::worktree::worktree_path;
use crate::storage::{ObjectDb, Snapshot};

/// Lines of unchanged context around changes.
const CONTEXT: u32 = 3;

/// What a diff line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// Unchanged.
    Context,
    /// Only in the new version.
    Added,
    /// Only in the old version.
    Removed,
}

/// One line of a hunk, without its line ending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    /// What it is.
    pub kind: LineKind,
    /// The text.
    pub text: String,
}

/// A run of changes with context (1-based line numbers, as in unified diffs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    /// First old line.
    pub old_start: u32,
    /// Old lines covered.
    pub old_lines: u32,
    /// First new line.
    pub new_start: u32,
    /// New lines covered.
    pub new_lines: u32,
    /// The lines.
    pub lines: Vec<DiffLine>,
}

/// The changes to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDiff {
    /// Git path.
    pub path: String,
    /// How it changed.
    pub kind: ChangeKind,
    /// One side is binary; no hunks.
    pub binary: bool,
    /// The hunks.
    pub hunks: Vec<Hunk>,
}

/// A changed file with the blob ids on each side.
pub struct Change {
    /// Path and kind.
    pub change: FileChange,
    /// The old blob, if any.
    pub old: Option<ObjectId>,
    /// The new blob, if any.
    pub new: Option<ObjectId>,
}

/// The changes between two snapshots, with blob ids.
pub fn snapshot_changes(old: &Snapshot, new: &Snapshot) -> Vec<Change> {
    status::compare(old, new)
        .into_iter()
        .map(|change| Change {
            old: old.get(&change.path).map(|f| f.id),
            new: new.get(&change.path).map(|f| f.id),
            change,
        })
        .collect()
}

/// The file changes between two trees (`None`: the empty tree), by gix's tree diff.
pub fn tree_changes(odb: &ObjectDb<'_>, old: Option<&ObjectId>, new: &ObjectId) -> Result<Vec<Change>, GitError> {
    let (mut old_buf, mut new_buf) = (Vec::new(), Vec::new());
    let old_iter = match old {
        Some(id) => odb.find_tree_iter(id, &mut old_buf)?,
        None => gix_object::TreeRefIter::from_bytes(&[], gix_hash::Kind::Sha1),
    };
    let new_iter = odb.find_tree_iter(new, &mut new_buf)?;
    let mut recorder = gix_diff::tree::Recorder::default();
    gix_diff::tree(old_iter, new_iter, gix_diff::tree::State::default(), odb, &mut recorder)
        .map_err(gix_error::Error::from_error)?;
    use gix_diff::tree::recorder::Change as C;
    let mut out = Vec::new();
    for record in recorder.records {
        let (path, kind, old, new, tree) = match record {
            C::Addition {
                entry_mode, oid, path, ..
            } => (path, ChangeKind::Added, None, Some(oid), entry_mode.is_tree()),
            C::Deletion {
                entry_mode, oid, path, ..
            } => (path, ChangeKind::Deleted, Some(oid), None, entry_mode.is_tree()),
            C::Modification {
                previous_oid,
                entry_mode,
                oid,
                path,
                ..
            } => (
                path,
                ChangeKind::Modified,
                Some(previous_oid),
                Some(oid),
                entry_mode.is_tree(),
            ),
        };
        if !tree {
            out.push(Change {
                change: FileChange {
                    path: path.to_string(),
                    kind,
                },
                old,
                new,
            });
        }
    }
    out.sort_by(|a, b| a.change.path.cmp(&b.change.path));
    Ok(out)
}

/// Line diffs for changes.
pub fn file_diffs(odb: &ObjectDb<'_>, changes: &[Change]) -> Result<Vec<FileDiff>, GitError> {
    let blob = |id: &Option<ObjectId>| -> Result<Vec<u8>, GitError> {
        match id {
            None => Ok(Vec::new()),
            Some(id) => match odb.get(id)? {
                Some((_, data)) => Ok(data),
                None => Err(crate::storage::StorageError::corrupt("objects", format!("missing blob {id}")).into()),
            },
        }
    };
    changes
        .iter()
        .map(|c| {
            let (old, new) = (blob(&c.old)?, blob(&c.new)?);
            let binary = is_binary(&old) || is_binary(&new);
            let hunks = if binary {
                Vec::new()
            } else {
                line_hunks(&String::from_utf8_lossy(&old), &String::from_utf8_lossy(&new))
            };
            Ok(FileDiff {
                path: c.change.path.clone(),
                kind: c.change.kind,
                binary,
                hunks,
            })
        })
        .collect()
}

fn is_binary(data: &[u8]) -> bool {
    data.iter().take(8000).any(|&b| b == 0)
}

/// Unified-diff hunks between two texts.
pub fn line_hunks(old: &str, new: &str) -> Vec<Hunk> {
    let input = InternedInput::new(imara_diff::sources::lines(old), imara_diff::sources::lines(new));
    let mut diff = Diff::compute(Algorithm::Histogram, &input);
    diff.postprocess_lines(&input);
    let text = |token: &imara_diff::Token| input.interner[*token].trim_end_matches(['\n', '\r']).to_string();
    let (before, after) = (&input.before, &input.after);
    // Group changes whose context would touch into one hunk.
    let mut groups: Vec<Vec<imara_diff::Hunk>> = Vec::new();
    for hunk in diff.hunks() {
        match groups.last_mut() {
            Some(group) if hunk.before.start <= group.last().map_or(0, |h| h.before.end) + 2 * CONTEXT => {
                group.push(hunk)
            }
            _ => groups.push(vec![hunk]),
        }
    }
    groups
        .into_iter()
        .map(|group| {
            let first = &group[0];
            let last = &group[group.len() - 1];
            let old_from = first.before.start.saturating_sub(CONTEXT);
            let new_from = first.after.start - (first.before.start - old_from);
            let old_to = (last.before.end + CONTEXT).min(before.len() as u32);
            let new_to = last.after.end + (old_to - last.before.end);
            let mut lines = Vec::new();
            let mut at = old_from;
            for h in &group {
                lines.extend((at..h.before.start).map(|i| DiffLine {
                    kind: LineKind::Context,
                    text: text(&before[i as usize]),
                }));
                lines.extend(h.before.clone().map(|i| DiffLine {
                    kind: LineKind::Removed,
                    text: text(&before[i as usize]),
                }));
                lines.extend(h.after.clone().map(|i| DiffLine {
                    kind: LineKind::Added,
                    text: text(&after[i as usize]),
                }));
                at = h.before.end;
            }
            lines.extend((at..old_to).map(|i| DiffLine {
                kind: LineKind::Context,
                text: text(&before[i as usize]),
            }));
            Hunk {
                old_start: if old_to > old_from { old_from + 1 } else { old_from },
                old_lines: old_to - old_from,
                new_start: if new_to > new_from { new_from + 1 } else { new_from },
                new_lines: new_to - new_from,
                lines,
            }
        })
        .collect()
}

impl Repo<'_> {
    /// Working tree against the index (or, when `staged`, index against HEAD), limited to `path`.
    pub fn diff(&self, path: Option<&str>, staged: bool) -> Result<Vec<FileDiff>, GitError> {
        self.require_repo()?;
        let index = self.index()?;
        let (old, new) = if staged {
            (self.head_files()?, index)
        } else {
            let worktree: Snapshot = self
                .worktree()?
                .into_iter()
                .filter(|(p, _)| index.contains_key(p))
                .collect();
            (index, worktree)
        };
        let filter = path.map(normalize).transpose()?;
        let changes: Vec<Change> = snapshot_changes(&old, &new)
            .into_iter()
            .filter(|c| match &filter {
                None => true,
                Some(f) => {
                    let p = worktree_path(&c.change.path);
                    f == "/" || p == *f || is_beneath(&p, f)
                }
            })
            .collect();
        file_diffs(&self.stores.objects(), &changes)
    }

    /// The working tree against HEAD's files, untracked files included (as added): everything a
    /// commit of all changes would record. Without commits, every file is added.
    pub fn worktree_diff(&self) -> Result<Vec<FileDiff>, GitError> {
        self.require_repo()?;
        let changes = snapshot_changes(&self.head_files()?, &self.worktree()?);
        file_diffs(&self.stores.objects(), &changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_have_context_and_git_line_numbers() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n";
        let new = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n";
        let hunks = line_hunks(old, new);
        assert_eq!(hunks.len(), 1);
        let h = &hunks[0];
        assert_eq!((h.old_start, h.old_lines, h.new_start, h.new_lines), (2, 7, 2, 7));
        let rendered: Vec<String> = h
            .lines
            .iter()
            .map(|l| {
                let sign = match l.kind {
                    LineKind::Context => ' ',
                    LineKind::Added => '+',
                    LineKind::Removed => '-',
                };
                format!("{sign}{}", l.text)
            })
            .collect();
        assert_eq!(rendered, [" 2", " 3", " 4", "-5", "+five", " 6", " 7", " 8"]);
        let added = line_hunks("", "a\nb\n");
        assert_eq!(
            (
                added[0].old_start,
                added[0].old_lines,
                added[0].new_start,
                added[0].new_lines
            ),
            (0, 0, 1, 2)
        );
    }
}

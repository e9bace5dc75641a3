//! Trees: flattening a commit's tree into a [`Snapshot`], and writing a snapshot as trees with
//! gix's tree editor (only the trees that changed are written).

use gix_hash::ObjectId;
use gix_object::bstr::{BStr, ByteSlice};
use gix_object::tree::EntryKind;
use gix_object::{FindExt, Tree, Write};

use super::GitError;
use crate::storage::{ObjectDb, Snapshot, TrackedFile};

/// Every file in the tree `id`, by path.
pub fn flatten(odb: &ObjectDb<'_>, id: &ObjectId) -> Result<Snapshot, GitError> {
    let mut out = Snapshot::new();
    let mut stack = vec![(String::new(), *id)];
    let mut buf = Vec::new();
    while let Some((prefix, tree_id)) = stack.pop() {
        let tree = odb.find_tree(&tree_id, &mut buf)?;
        for entry in &tree.entries {
            let name = entry.filename.to_str_lossy();
            let path = if prefix.is_empty() {
                name.into_owned()
            } else {
                format!("{prefix}/{name}")
            };
            if entry.mode.is_tree() {
                stack.push((path, entry.oid.to_owned()));
            } else if !entry.mode.is_commit() {
                out.insert(
                    path,
                    TrackedFile {
                        mode: entry.mode,
                        id: entry.oid.to_owned(),
                    },
                );
            }
        }
    }
    Ok(out)
}

/// The tree of the commit `id`.
pub fn commit_tree(odb: &ObjectDb<'_>, id: &ObjectId) -> Result<ObjectId, GitError> {
    let mut buf = Vec::new();
    Ok(odb.find_commit(id, &mut buf)?.tree())
}

/// A git path's components, as tree editing takes them.
pub(super) fn components(path: &str) -> impl Iterator<Item = &BStr> {
    path.split('/').map(|c| c.as_bytes().as_bstr())
}

/// Writes the tree of `target`, starting from the tree `base` (with contents `base_files`), so
/// only changed trees are written. Returns the root tree's id.
pub fn write_tree(
    odb: &ObjectDb<'_>,
    base: Option<&ObjectId>,
    base_files: &Snapshot,
    target: &Snapshot,
) -> Result<ObjectId, GitError> {
    let root = match base {
        Some(id) => {
            let mut buf = Vec::new();
            odb.find_tree(id, &mut buf)?.into()
        }
        None => Tree::empty(),
    };
    let mut editor = gix_object::tree::Editor::new(root, odb, gix_hash::Kind::Sha1);
    // Removals first: a file that became a directory (`a` → `a/b`) must leave before the
    // directory's entries go in, or removing it would remove them too.
    for path in base_files.keys().filter(|p| !target.contains_key(*p)) {
        editor.remove(components(path))?;
    }
    for (path, file) in target {
        if base_files.get(path) != Some(file) {
            editor.upsert(components(path), EntryKind::from(file.mode), file.id)?;
        }
    }
    Ok(editor.write(|tree| odb.write(tree))?)
}

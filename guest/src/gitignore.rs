//! Which paths the file tools leave out: those the workspace's `.gitignore` files ignore, decided
//! as ripgrep and fd decide, with the `ignore` crate's gitignore matcher. Each `.gitignore`
//! applies beneath its directory, the deepest one that has a say about a path wins (`!pattern`
//! takes a path back), and nothing beneath an ignored directory is seen. The directory a tool is
//! pointed at is searched even when it is ignored itself; the `.gitignore` files above it apply
//! beneath it. Tools pass `ignored: true` to see everything.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::bindings::pi::worker::workspace::{Entry, EntryKind, FsError};
use crate::fs::Workspace;

/// The name of the files holding the rules.
const GITIGNORE: &str = ".gitignore";

/// Everything beneath the normalised directory `root`, less what is ignored unless
/// `include_ignored`; sorted by path, as `walk` returns it.
pub fn walk(ws: &mut dyn Workspace, root: &str, include_ignored: bool) -> Result<Vec<Entry>, FsError> {
    let entries = ws.walk(root)?;
    if include_ignored {
        return Ok(entries);
    }
    let rules = Rules::load(ws, root, &entries);
    Ok(rules.keep_walk(entries))
}

/// The direct children of the directory `path`, less what is ignored unless `include_ignored`;
/// sorted by path, as `list` returns them.
pub fn list(ws: &mut dyn Workspace, path: &str, include_ignored: bool) -> Result<Vec<Entry>, FsError> {
    let entries = ws.list(path)?;
    let Some(first) = entries.first().filter(|_| !include_ignored) else {
        return Ok(entries);
    };
    let dir = parent(&first.path).to_string();
    let rules = Rules::load(ws, &dir, &[]);
    Ok(entries
        .into_iter()
        .filter(|e| !rules.ignores(&e.path, e.kind == EntryKind::Directory))
        .collect())
}

/// The `.gitignore` matchers that apply beneath a directory, by the directory each sits in.
struct Rules {
    by_dir: HashMap<String, Gitignore>,
}

impl Rules {
    /// The rules of the `.gitignore` files in `root`, in the directories above it, and among
    /// `entries` (a walk beneath `root`).
    fn load(ws: &mut dyn Workspace, root: &str, entries: &[Entry]) -> Self {
        let mut dirs: Vec<&str> = ancestors(root).collect();
        dirs.extend(
            entries
                .iter()
                .filter(|e| e.kind == EntryKind::File && name(&e.path) == GITIGNORE)
                .map(|e| parent(&e.path))
                .filter(|dir| *dir != root),
        );
        let by_dir = dirs
            .into_iter()
            .filter_map(|dir| {
                let contents = ws.read(&join(dir, GITIGNORE)).ok()?;
                Some((dir.to_string(), matcher(dir, &contents)?))
            })
            .collect();
        Self { by_dir }
    }

    /// Whether the deepest `.gitignore` above `path` that has a say ignores it.
    fn ignores(&self, path: &str, is_dir: bool) -> bool {
        ancestors(parent(path))
            .filter_map(|dir| self.by_dir.get(dir))
            .map(|rules| rules.matched(Path::new(path), is_dir))
            .find(|m| !m.is_none())
            .is_some_and(|m| m.is_ignore())
    }

    /// The entries of a walk that are neither ignored nor beneath an ignored directory. Relies on
    /// the walk's order: a directory comes before everything beneath it.
    fn keep_walk(&self, entries: Vec<Entry>) -> Vec<Entry> {
        if self.by_dir.is_empty() {
            return entries;
        }
        let mut ignored_dirs: HashSet<String> = HashSet::new();
        entries
            .into_iter()
            .filter(|e| {
                let is_dir = e.kind == EntryKind::Directory;
                let ignored = ignored_dirs.contains(parent(&e.path)) || self.ignores(&e.path, is_dir);
                if ignored && is_dir {
                    ignored_dirs.insert(e.path.clone());
                }
                !ignored
            })
            .collect()
    }
}

/// The matcher for the `.gitignore` in `dir`, or `None` when it has no rules. Lines that are not
/// valid patterns are skipped, as git skips them.
fn matcher(dir: &str, contents: &[u8]) -> Option<Gitignore> {
    let mut builder = GitignoreBuilder::new(dir);
    for line in String::from_utf8_lossy(contents).lines() {
        let _ = builder.add_line(None, line);
    }
    builder.build().ok().filter(|rules| !rules.is_empty())
}

/// `dir` and each directory above it, deepest first, ending with `/`.
fn ancestors(dir: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(dir), |d| (*d != "/").then(|| parent(d)))
}

/// The directory holding a normalised path (`/` for the root's children).
fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

fn name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn join(dir: &str, name: &str) -> String {
    if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests;

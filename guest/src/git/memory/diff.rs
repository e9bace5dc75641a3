//! Comparing two trees (path → contents) of the in-memory repository: the changed paths, and
//! their diffs as one hunk each around the changed lines.

use std::collections::{BTreeMap, BTreeSet};

use crate::bindings::pi::worker::git::{ChangeKind, DiffLine, FileChange, FileDiff, Hunk, LineKind};
use crate::fs::is_binary;

/// Files by path relative to the root (`src/a.ts`).
pub type Tree = BTreeMap<String, Vec<u8>>;

/// Lines of context around a change, as git shows by default.
const CONTEXT: usize = 3;

/// The paths that differ between two trees, in path order, each with how it changed.
fn changed<'a>(from: &'a Tree, to: &'a Tree) -> impl Iterator<Item = (&'a String, Option<&'a [u8]>, Option<&'a [u8]>)> {
    let paths: BTreeSet<&String> = from.keys().chain(to.keys()).collect();
    paths.into_iter().filter_map(|p| {
        let (old, new) = (from.get(p).map(Vec::as_slice), to.get(p).map(Vec::as_slice));
        (old != new).then_some((p, old, new))
    })
}

fn kind(old: Option<&[u8]>, new: Option<&[u8]>) -> ChangeKind {
    match (old, new) {
        (None, _) => ChangeKind::Added,
        (_, None) => ChangeKind::Deleted,
        _ => ChangeKind::Modified,
    }
}

/// The changed paths from `from` to `to`.
pub fn changes(from: &Tree, to: &Tree) -> Vec<FileChange> {
    let all = changed(from, to);
    all.map(|(path, old, new)| FileChange {
        path: path.clone(),
        kind: kind(old, new),
    })
    .collect()
}

/// The diffs from `from` to `to`.
pub fn file_diffs(from: &Tree, to: &Tree) -> Vec<FileDiff> {
    let all = changed(from, to);
    all.map(|(path, old, new)| {
        let binary = old.is_some_and(is_binary) || new.is_some_and(is_binary);
        let hunk = (!binary).then(|| hunk(old.unwrap_or_default(), new.unwrap_or_default()));
        FileDiff {
            path: path.clone(),
            kind: kind(old, new),
            binary,
            hunks: hunk.into_iter().flatten().collect(),
        }
    })
    .collect()
}

/// One hunk from the first changed line to the last, with context; none if only line endings differ.
fn hunk(old: &[u8], new: &[u8]) -> Option<Hunk> {
    let (old, new) = (String::from_utf8_lossy(old), String::from_utf8_lossy(new));
    let (old, new): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let most = old.len().min(new.len()) - prefix;
    let suffix = old
        .iter()
        .rev()
        .zip(new.iter().rev())
        .take(most)
        .take_while(|(a, b)| a == b)
        .count();
    let (old_end, new_end) = (old.len() - suffix, new.len() - suffix);
    if prefix == old_end && prefix == new_end {
        return None;
    }
    let start = prefix.saturating_sub(CONTEXT);
    let after = suffix.min(CONTEXT);
    let line = |kind, text: &&str| DiffLine {
        kind,
        text: text.to_string(),
    };
    let mut lines: Vec<DiffLine> = old[start..prefix].iter().map(|t| line(LineKind::Context, t)).collect();
    lines.extend(old[prefix..old_end].iter().map(|t| line(LineKind::Removed, t)));
    lines.extend(new[prefix..new_end].iter().map(|t| line(LineKind::Added, t)));
    lines.extend(old[old_end..old_end + after].iter().map(|t| line(LineKind::Context, t)));
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let (old_lines, new_lines) = (count(old_end + after - start), count(new_end + after - start));
    let first = |n: u32| if n == 0 { count(start) } else { count(start + 1) };
    Some(Hunk {
        old_start: first(old_lines),
        old_lines,
        new_start: first(new_lines),
        new_lines,
        lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_hunk_with_three_lines_of_context() {
        let h = hunk(b"1\n2\n3\n4\n5\n6\n7\n8\n", b"1\n2\n3\n4\nfive\n6\n7\n8\n").unwrap();
        assert_eq!((h.old_start, h.old_lines, h.new_start, h.new_lines), (2, 7, 2, 7));
        let texts: Vec<&str> = h.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["2", "3", "4", "5", "five", "6", "7", "8"]);
        let h = hunk(b"", b"a\n").unwrap();
        assert_eq!((h.old_start, h.old_lines, h.new_start, h.new_lines), (0, 0, 1, 1));
        assert!(hunk(b"a", b"a\n").is_none());
    }
}

//! Sending a pack: which objects a client lacks given what it wants and what it has, and those
//! objects written as a pack with gix-pack's output pipeline (`output::Entry::from_data`, then
//! `output::bytes::FromEntriesIter`), a few objects at a time, so a pack of any size streams
//! through a bounded buffer.

use std::collections::HashSet;
use std::io::Write;
use std::sync::mpsc;

use gix_hash::ObjectId;
use gix_object::{FindExt, Kind};
use gix_pack::data::output;

use super::compress::{COMPRESSORS, CompressedEntries, compressor};
use crate::git::GitError;
use crate::storage::ObjectDb;

/// Every object reachable from `wants` but not from `haves`, commits first. History is cut
/// where a parent is missing (a shallow session), instead of failing.
///
/// A commit reachable from a have is not sent; the trees of the commits where history meets
/// what the client has (the edges) tell which trees and blobs it already holds.
pub fn objects_to_send(odb: &ObjectDb<'_>, wants: &[ObjectId], haves: &[ObjectId]) -> Result<Vec<ObjectId>, GitError> {
    let mut buf = Vec::new();
    let common: HashSet<ObjectId> = ancestry(odb, haves, &HashSet::new())?.into_iter().collect();
    let mut out = Vec::new();
    let mut tips = Vec::new();
    // Tags first peel to what they point at.
    for want in wants {
        let mut id = *want;
        while let Some((Kind::Tag, data)) = odb.get(&id)? {
            out.push(id);
            id = gix_object::TagRef::from_bytes(&data, gix_hash::Kind::Sha1)?.target();
        }
        tips.push(id);
    }
    let commits = ancestry(odb, &tips, &common)?;
    let mut seen: HashSet<ObjectId> = HashSet::new();
    // Edges: commits the client has whose children it lacks.
    for commit in &commits {
        let parents: Vec<ObjectId> = odb.find_commit(commit, &mut buf)?.parents().collect();
        for parent in parents {
            if common.contains(&parent) {
                let tree = odb.find_commit(&parent, &mut buf)?.tree();
                walk_tree(odb, tree, &mut seen, &mut |_| {})?;
            }
        }
    }
    out.extend(commits.iter().copied());
    for commit in &commits {
        let tree = odb.find_commit(commit, &mut buf)?.tree();
        walk_tree(odb, tree, &mut seen, &mut |id| out.push(id))?;
    }
    // A want that is a tree or a blob itself.
    for tip in tips.iter().filter(|t| !commits.contains(t) && !common.contains(*t)) {
        match odb.header(tip)? {
            Some((Kind::Tree, _)) => walk_tree(odb, *tip, &mut seen, &mut |id| out.push(id))?,
            Some((Kind::Blob, _)) if seen.insert(*tip) => out.push(*tip),
            _ => {}
        }
    }
    Ok(out)
}

/// The commits reachable from `tips` without passing through `stop`, newest first by walk order.
/// Tips or parents that are not stored commits are skipped.
fn ancestry(odb: &ObjectDb<'_>, tips: &[ObjectId], stop: &HashSet<ObjectId>) -> Result<Vec<ObjectId>, GitError> {
    let mut found = Vec::new();
    let mut seen: HashSet<ObjectId> = stop.clone();
    let mut stack: Vec<ObjectId> = tips.to_vec();
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        let Some(data) = odb.get(&id)?.filter(|(kind, _)| *kind == Kind::Commit).map(|(_, d)| d) else {
            continue;
        };
        let commit = gix_object::CommitRefIter::from_bytes(&data, gix_hash::Kind::Sha1);
        stack.extend(commit.parent_ids());
        found.push(id);
    }
    Ok(found)
}

/// Walks the tree `id` and everything beneath it that is not in `seen`, adding what it visits
/// to `seen` and handing each new tree and blob to `visit`. Submodule entries are skipped.
fn walk_tree(
    odb: &ObjectDb<'_>,
    id: ObjectId,
    seen: &mut HashSet<ObjectId>,
    visit: &mut dyn FnMut(ObjectId),
) -> Result<(), GitError> {
    if !seen.insert(id) {
        return Ok(());
    }
    visit(id);
    let mut stack = vec![id];
    let mut buf = Vec::new();
    while let Some(tree) = stack.pop() {
        for entry in odb.find_tree(&tree, &mut buf)?.entries {
            if entry.mode.is_commit() || !seen.insert(entry.oid.to_owned()) {
                continue;
            }
            visit(entry.oid.to_owned());
            if entry.mode.is_tree() {
                stack.push(entry.oid.to_owned());
            }
        }
    }
    Ok(())
}

/// Writes the objects `ids` to `out` as a version 2 pack of whole (undeltified) objects,
/// compressed for speed on [`COMPRESSORS`] helper threads. `out` receives the pack as it is made;
/// a bounded number of objects is in memory at any time.
pub fn write_pack(odb: &ObjectDb<'_>, ids: &[ObjectId], out: impl Write) -> Result<(), GitError> {
    let count = u32::try_from(ids.len()).map_err(|_| gix_error::Error::from_error(TooManyObjects))?;
    std::thread::scope(|scope| {
        let (done, finished) = mpsc::channel();
        let workers = (0..COMPRESSORS)
            .map(|_| {
                let (steps, received) = mpsc::sync_channel(1);
                let done = done.clone();
                scope.spawn(move || compressor(received, done));
                steps
            })
            .collect();
        drop(done);
        let entries = CompressedEntries::new(odb, ids, workers, finished);
        let pack =
            output::bytes::FromEntriesIter::new(entries, out, count, gix_pack::data::Version::V2, gix_hash::Kind::Sha1);
        for step in pack {
            step?;
        }
        Ok(())
    })
}

/// A pack holds at most `u32::MAX` objects.
#[derive(Debug, thiserror::Error)]
#[error("too many objects for one pack")]
struct TooManyObjects;

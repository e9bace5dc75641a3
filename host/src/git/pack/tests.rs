//! A pack made by [`send`] from one session, received by [`receive`] into another.

use gix_hash::ObjectId;

use super::send::{objects_to_send, write_pack};
use super::{PackError, index_pack};
use crate::git::Repo;
use crate::storage::tests::WorktreeCalls;
use crate::storage::{SessionDb, StorageOptions};

fn db() -> (tempfile::TempDir, SessionDb) {
    crate::storage::tests::db(StorageOptions {
        spill_threshold: 64,
        ..StorageOptions::default()
    })
}

/// A session with two commits; returns them, oldest first.
fn two_commits(db: &mut SessionDb) -> [ObjectId; 2] {
    db.write_file("/a/b.txt", b"nested\n").unwrap();
    db.write_file("/big.txt", &[b'x'; 1000]).unwrap();
    db.write(|s| Repo::new(s).init()).unwrap();
    db.write(|s| Repo::new(s).add(&[".".into()])).unwrap();
    let first = db.write(|s| Repo::new(s).commit("first")).unwrap().id;
    db.write_file("/c.txt", b"second\n").unwrap();
    db.write(|s| Repo::new(s).add(&[".".into()])).unwrap();
    let second = db.write(|s| Repo::new(s).commit("second")).unwrap().id;
    [first, second]
}

fn pack_of(db: &SessionDb, wants: &[ObjectId], haves: &[ObjectId]) -> (Vec<ObjectId>, Vec<u8>) {
    db.read(|s| {
        let ids = objects_to_send(&s.objects(), wants, haves)?;
        let mut pack = Vec::new();
        write_pack(&s.objects(), &ids, &mut pack)?;
        Ok::<_, crate::git::GitError>((ids, pack))
    })
    .unwrap()
}

#[test]
fn a_full_pack_round_trips_and_a_fetch_sends_only_what_is_new() {
    let (_a, mut from) = db();
    let [first, second] = two_commits(&mut from);
    let (ids, pack) = pack_of(&from, &[second], &[]);
    // 2 commits, 2 root trees, 1 subtree, 3 blobs.
    assert_eq!(ids.len(), 8);
    let (scratch, mut to) = db();
    let received = index_pack(&mut pack.as_slice(), scratch.path(), gix_object::find::Never).unwrap();
    assert_eq!(received.object_count(), 8);
    to.write(|s| {
        let stored = received.store(&s.objects())?;
        stored.check_connected(&s.objects(), second)?;
        Ok::<_, PackError>(())
    })
    .unwrap();
    for id in &ids {
        assert_eq!(
            to.read(|s| s.objects().get(id)).unwrap(),
            from.read(|s| s.objects().get(id)).unwrap()
        );
    }
    drop(received);
    assert_eq!(
        std::fs::read_dir(scratch.path())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with("receive-"))
            .count(),
        0,
        "the scratch directory is removed"
    );

    // Having the first commit: the second commit, its root tree and the new blob.
    let (ids, _) = pack_of(&from, &[second], &[first]);
    assert_eq!(ids.len(), 3, "{ids:?}");
}

#[test]
fn truncated_packs_and_missing_objects_are_refused() {
    let (_a, mut from) = db();
    let [first, second] = two_commits(&mut from);
    let (_, pack) = pack_of(&from, &[second], &[]);
    let (scratch, to) = db();
    let truncated = &pack[..pack.len() - 30];
    assert!(matches!(
        index_pack(&mut &truncated[..], scratch.path(), gix_object::find::Never),
        Err(PackError::Invalid(_))
    ));
    let mut corrupt = pack.clone();
    let middle = corrupt.len() / 2;
    corrupt[middle] ^= 0xff;
    assert!(index_pack(&mut corrupt.as_slice(), scratch.path(), gix_object::find::Never).is_err());

    // Only the second commit's new objects: its parent is missing from `to`.
    let (_, thin) = pack_of(&from, &[second], &[first]);
    let received = index_pack(&mut thin.as_slice(), scratch.path(), gix_object::find::Never).unwrap();
    let mut to = to;
    let err = to
        .write(|s| {
            let stored = received.store(&s.objects())?;
            stored.check_connected(&s.objects(), second)
        })
        .unwrap_err();
    assert!(matches!(err, PackError::Missing(id) if id == first), "{err}");
    assert!(!to.read(|s| s.objects().contains(&second)).unwrap(), "rolled back");
}

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
        let stored = received.store(&s.objects(), s.options().into())?;
        stored.check_connected(&s.objects(), second, &Default::default())?;
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
            let stored = received.store(&s.objects(), s.options().into())?;
            stored.check_connected(&s.objects(), second, &Default::default())
        })
        .unwrap_err();
    assert!(matches!(err, PackError::Missing(id) if id == first), "{err}");
    assert!(!to.read(|s| s.objects().contains(&second)).unwrap(), "rolled back");
}

/// Runs stock git in `dir`; returns stdout.
fn git(dir: &std::path::Path, args: &[&str], stdin: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut child = std::process::Command::new("git")
        .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the tests need the git binary");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "git {args:?}");
    out.stdout
}

#[test]
fn a_thin_pack_is_completed_from_the_sessions_objects() {
    // Stock git makes a thin pack: the new version of a large file as a delta against the old.
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"], b"");
    let old: Vec<u8> = (0..2000)
        .flat_map(|i| format!("line {i} of a large file\n").into_bytes())
        .collect();
    std::fs::write(repo.path().join("big.txt"), &old).unwrap();
    git(repo.path(), &["add", "."], b"");
    git(repo.path(), &["commit", "-qm", "v1"], b"");
    let mut new = old.clone();
    new.extend_from_slice(b"one more line\n");
    std::fs::write(repo.path().join("big.txt"), &new).unwrap();
    git(repo.path(), &["commit", "-qam", "v2"], b"");
    let thin = git(
        repo.path(),
        &["pack-objects", "--thin", "--stdout", "-q", "--revs"],
        b"HEAD\n^HEAD~1\n",
    );

    // The session holds the old blob only.
    let (scratch, mut db) = db();
    let old_id = db.write(|s| s.objects().put(gix_object::Kind::Blob, &old)).unwrap();
    assert!(
        index_pack(&mut thin.as_slice(), scratch.path(), gix_object::find::Never).is_err(),
        "without the base, the delta cannot be resolved"
    );
    let received = db
        .read(|s| index_pack(&mut thin.as_slice(), scratch.path(), s.objects()))
        .unwrap();
    // Commit, tree, new blob, and the base added from the session.
    assert_eq!(received.object_count(), 4);
    let new_id = db
        .write(|s| {
            let stored = received.store(&s.objects(), s.options().into())?;
            assert!(stored.contains(&old_id));
            Ok::<_, PackError>(crate::storage::objects::object_id(gix_object::Kind::Blob, &new))
        })
        .unwrap();
    assert_eq!(
        db.read(|s| s.objects().get(&new_id)).unwrap(),
        Some((gix_object::Kind::Blob, new))
    );
}

#[test]
fn an_object_claiming_a_huge_size_is_refused() {
    // One blob whose header claims 2^40 bytes, holding two.
    let mut pack = b"PACK\0\0\0\x02\0\0\0\x01".to_vec();
    let mut size: u64 = 1 << 40;
    let mut byte = (3 << 4) | (size & 0x0f) as u8;
    size >>= 4;
    while size > 0 {
        pack.push(byte | 0x80);
        byte = (size & 0x7f) as u8;
        size >>= 7;
    }
    pack.push(byte);
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut zlib, b"hi").unwrap();
    pack.extend(zlib.finish().unwrap());
    let mut hasher = gix_hash::hasher(gix_hash::Kind::Sha1);
    hasher.update(&pack);
    pack.extend_from_slice(hasher.try_finalize().unwrap().as_slice());
    let (scratch, _db) = db();
    assert!(matches!(
        index_pack(&mut pack.as_slice(), scratch.path(), gix_object::find::Never),
        Err(PackError::Invalid(_))
    ));
}

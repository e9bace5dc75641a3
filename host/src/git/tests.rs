//! Repository behaviour on a real session database, with stock `git` as the judge of object ids.

use std::io::Write as _;
use std::process::{Command, Stdio};

use gix_object::Kind;

use super::*;
use crate::storage::{SessionDb, StorageOptions};

fn db() -> (tempfile::TempDir, SessionDb) {
    let tmp = tempfile::tempdir().unwrap();
    let options = StorageOptions {
        spill_threshold: 64,
        ..StorageOptions::default()
    };
    let db = SessionDb::create(&tmp.path().join("s.sqlite"), &tmp.path().join("blobs"), options).unwrap();
    (tmp, db)
}

/// `git hash-object -t <kind> --stdin` of `data`, by the real git binary.
fn git_hash_object(kind: &str, data: &[u8]) -> String {
    let mut child = Command::new("git")
        .args(["hash-object", "-t", kind, "--stdin", "--literally"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the tests need the git binary (scripts/test installs it)");
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn objects_round_trip_and_ids_match_git() {
    let (_tmp, mut db) = db();
    let big = vec![b'x'; 1000];
    for (kind, name, data) in [(Kind::Blob, "blob", b"hello\n".to_vec()), (Kind::Blob, "blob", big)] {
        let id = db.objects().put(kind, &data).unwrap();
        assert_eq!(id.to_hex().to_string(), git_hash_object(name, &data));
        assert_eq!(db.objects().get(&id).unwrap(), Some((kind, data)));
    }
    db.write_file("/a/b.txt", b"nested\n").unwrap();
    let mut repo = Repo::new(&mut db);
    repo.init().unwrap();
    repo.add(&[".".into()]).unwrap();
    let commit = repo.commit("first").unwrap();
    let odb = db.objects();
    let (kind, data) = odb.get(&commit.id).unwrap().unwrap();
    assert_eq!(kind, Kind::Commit);
    assert_eq!(commit.id.to_hex().to_string(), git_hash_object("commit", &data));
    let tree = tree::commit_tree(&odb, &commit.id).unwrap();
    let (kind, data) = odb.get(&tree).unwrap().unwrap();
    assert_eq!(kind, Kind::Tree);
    assert_eq!(tree.to_hex().to_string(), git_hash_object("tree", &data));
    let tag = b"object 0123456789012345678901234567890123456789\ntype commit\ntag v1\ntagger a <a@b> 0 +0000\n\nv1\n";
    let id = odb.put(Kind::Tag, tag).unwrap();
    assert_eq!(id.to_hex().to_string(), git_hash_object("tag", tag));
    assert_eq!(odb.get(&id).unwrap().unwrap().1, tag);
}

#[test]
fn status_add_commit_cycle() {
    let (_tmp, mut db) = db();
    let mut repo = Repo::new(&mut db);
    assert!(matches!(repo.status(), Err(GitError::NotARepository)));
    assert!(repo.init().unwrap());
    assert!(!repo.init().unwrap());
    db.write_file("/a.txt", b"a\n").unwrap();
    db.write_file("/src/b.txt", b"b\n").unwrap();
    let mut repo = Repo::new(&mut db);
    let s = repo.status().unwrap();
    assert_eq!(
        (s.branch.as_deref(), s.head, s.untracked.clone()),
        (Some("main"), None, vec!["a.txt".into(), "src/b.txt".into()])
    );
    assert_eq!(repo.add(&["src".into()]).unwrap(), 1);
    assert!(matches!(repo.add(&["nope".into()]), Err(GitError::NotTracked(_))));
    let s = repo.status().unwrap();
    assert_eq!(
        s.staged,
        vec![FileChange {
            path: "src/b.txt".into(),
            kind: ChangeKind::Added
        }]
    );
    assert_eq!(s.untracked, vec!["a.txt".to_string()]);
    let first = repo.commit("add b").unwrap();
    assert!(first.parents.is_empty());
    assert_eq!(
        (first.author_name.as_str(), first.author_email.as_str()),
        DEFAULT_AUTHOR
    );
    assert!(matches!(repo.commit("again"), Err(GitError::NothingToCommit)));
    assert!(matches!(repo.commit("   "), Err(GitError::InvalidName(_))));

    db.write_file("/src/b.txt", b"b2\n").unwrap();
    db.remove("/a.txt", false).unwrap();
    db.write_file("/c.txt", b"c\n").unwrap();
    let mut repo = Repo::new(&mut db);
    let s = repo.status().unwrap();
    assert_eq!(
        s.unstaged,
        vec![FileChange {
            path: "src/b.txt".into(),
            kind: ChangeKind::Modified
        }]
    );
    assert_eq!(s.untracked, vec!["c.txt".to_string()]);
    let diff = repo.diff(None, false).unwrap();
    assert_eq!(diff.len(), 1);
    assert_eq!(
        diff[0].hunks[0]
            .lines
            .iter()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>(),
        ["b", "b2"]
    );
    repo.add(&[".".into()]).unwrap();
    assert_eq!(repo.diff(Some("src"), true).unwrap().len(), 1);
    let second = repo.commit("change b, add c").unwrap();
    assert_eq!(second.parents, vec![first.id]);
    let log = repo.log(10).unwrap();
    assert_eq!(log.iter().map(|c| c.id).collect::<Vec<_>>(), vec![second.id, first.id]);
    assert_eq!(repo.log(1).unwrap().len(), 1);
    let (shown, diffs) = repo.show(None).unwrap();
    assert_eq!(shown.id, second.id);
    let paths: Vec<(&str, ChangeKind)> = diffs.iter().map(|d| (d.path.as_str(), d.kind)).collect();
    assert_eq!(
        paths,
        [("c.txt", ChangeKind::Added), ("src/b.txt", ChangeKind::Modified)]
    );
    let short = &second.id.to_hex().to_string()[..7];
    assert_eq!(repo.resolve(short).unwrap().0, second.id);
}

#[test]
fn checkout_syncs_the_tree_and_refuses_to_lose_work() {
    let (_tmp, mut db) = db();
    db.write_file("/shared.txt", b"v1\n").unwrap();
    db.write_file("/only-main/x.txt", b"main\n").unwrap();
    let mut repo = Repo::new(&mut db);
    repo.init().unwrap();
    repo.add(&[".".into()]).unwrap();
    repo.commit("main").unwrap();
    repo.checkout("feature", true).unwrap();
    db.write_file("/shared.txt", b"v2\n").unwrap();
    db.remove("/only-main", true).unwrap();
    db.write_file("/only-feature.txt", b"feature\n").unwrap();
    let mut repo = Repo::new(&mut db);
    repo.add(&[".".into()]).unwrap();
    repo.commit("feature").unwrap();

    let result = repo.checkout("main", false).unwrap();
    assert_eq!(
        (result.branch.as_deref(), result.updated, result.removed),
        (Some("main"), 2, 1)
    );
    assert_eq!(db.read_file("/shared.txt").unwrap(), b"v1\n");
    assert_eq!(db.read_file("/only-main/x.txt").unwrap(), b"main\n");
    assert!(db.stat("/only-feature.txt").is_err());
    let mut repo = Repo::new(&mut db);
    assert!(repo.status().unwrap().unstaged.is_empty());

    repo.checkout("feature", false).unwrap();
    assert!(db.stat("/only-main").is_err(), "the emptied directory is gone");

    // A local change to a file the checkout would rewrite: refused, nothing touched.
    db.write_file("/shared.txt", b"local edit\n").unwrap();
    db.write_file("/only-main/x.txt", b"untracked in the way\n").unwrap();
    let mut repo = Repo::new(&mut db);
    match repo.checkout("main", false) {
        Err(GitError::WouldLoseChanges(paths)) => assert_eq!(paths, ["only-main/x.txt", "shared.txt"]),
        other => panic!("{other:?}"),
    }
    assert_eq!(repo.current_branch().unwrap().as_deref(), Some("feature"));
    repo.restore("shared.txt").unwrap();
    assert!(matches!(repo.restore("nope.txt"), Err(GitError::NotTracked(_))));
    assert_eq!(db.read_file("/shared.txt").unwrap(), b"v2\n");
    db.remove("/only-main", true).unwrap();
    let mut repo = Repo::new(&mut db);
    assert!(repo.checkout("main", false).is_ok());
    assert!(matches!(
        repo.checkout("nope", false),
        Err(GitError::UnknownRevision(_))
    ));
    assert!(matches!(repo.create_branch("main"), Err(GitError::BranchExists(_))));
    assert!(matches!(repo.create_branch("bad name"), Err(GitError::InvalidName(_))));
    let names: Vec<(String, bool)> = repo
        .branches()
        .unwrap()
        .into_iter()
        .map(|b| (b.name, b.current))
        .collect();
    assert_eq!(names, [("feature".to_string(), false), ("main".to_string(), true)]);
}

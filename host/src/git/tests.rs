//! Repository behaviour on a real session database, with stock `git` as the judge of object ids.

use std::io::Write as _;
use std::process::{Command, Stdio};

use gix_object::Kind;

use super::*;
use crate::storage::tests::WorktreeCalls;
use crate::storage::{FileChangeKind, SessionDb, StorageOptions};

fn db() -> (tempfile::TempDir, SessionDb) {
    crate::storage::tests::db(StorageOptions {
        spill_threshold: 64,
        ..StorageOptions::default()
    })
}

/// One git operation in its own write transaction, as one `git` import call runs.
fn git<T>(db: &mut SessionDb, f: impl FnOnce(Repo<'_>) -> Result<T, GitError>) -> Result<T, GitError> {
    db.write(|s| f(Repo::new(s)))
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
        let id = db.write(|s| s.objects().put(kind, &data)).unwrap();
        assert_eq!(id.to_hex().to_string(), git_hash_object(name, &data));
        assert_eq!(db.read(|s| s.objects().get(&id)).unwrap(), Some((kind, data)));
    }
    db.write_file("/a/b.txt", b"nested\n").unwrap();
    git(&mut db, |r| r.init()).unwrap();
    git(&mut db, |r| r.add(&[".".into()])).unwrap();
    let commit = git(&mut db, |r| r.commit("first")).unwrap();
    db.write(|s| {
        let odb = s.objects();
        let (kind, data) = odb.get(&commit.id).unwrap().unwrap();
        assert_eq!(kind, Kind::Commit);
        assert_eq!(commit.id.to_hex().to_string(), git_hash_object("commit", &data));
        let tree = tree::commit_tree(&odb, &commit.id).unwrap();
        let (kind, data) = odb.get(&tree).unwrap().unwrap();
        assert_eq!(kind, Kind::Tree);
        assert_eq!(tree.to_hex().to_string(), git_hash_object("tree", &data));
        let tag =
            b"object 0123456789012345678901234567890123456789\ntype commit\ntag v1\ntagger a <a@b> 0 +0000\n\nv1\n";
        let id = odb.put(Kind::Tag, tag).unwrap();
        assert_eq!(id.to_hex().to_string(), git_hash_object("tag", tag));
        assert_eq!(odb.get(&id).unwrap().unwrap().1, tag);
        Ok::<_, GitError>(())
    })
    .unwrap();
}

#[test]
fn status_add_commit_cycle() {
    let (_tmp, mut db) = db();
    assert!(matches!(git(&mut db, |r| r.status()), Err(GitError::NotARepository)));
    assert!(git(&mut db, |r| r.init()).unwrap());
    assert!(!git(&mut db, |r| r.init()).unwrap());
    db.write_file("/a.txt", b"a\n").unwrap();
    db.write_file("/src/b.txt", b"b\n").unwrap();
    let s = git(&mut db, |r| r.status()).unwrap();
    assert_eq!(
        (s.branch.as_deref(), s.head, s.untracked.clone()),
        (Some("main"), None, vec!["a.txt".into(), "src/b.txt".into()])
    );
    assert_eq!(git(&mut db, |r| r.add(&["src".into()])).unwrap(), 1);
    assert!(matches!(
        git(&mut db, |r| r.add(&["nope".into()])),
        Err(GitError::NotTracked(_))
    ));
    let s = git(&mut db, |r| r.status()).unwrap();
    assert_eq!(
        s.staged,
        vec![FileChange {
            path: "src/b.txt".into(),
            kind: ChangeKind::Added
        }]
    );
    assert_eq!(s.untracked, vec!["a.txt".to_string()]);
    let first = git(&mut db, |r| r.commit("add b")).unwrap();
    assert!(first.parents.is_empty());
    assert_eq!(
        (first.author_name.as_str(), first.author_email.as_str()),
        DEFAULT_AUTHOR
    );
    assert!(matches!(
        git(&mut db, |r| r.commit("again")),
        Err(GitError::NothingToCommit)
    ));
    assert!(matches!(git(&mut db, |r| r.commit("   ")), Err(GitError::EmptyMessage)));

    db.write_file("/src/b.txt", b"b2\n").unwrap();
    db.remove("/a.txt", false).unwrap();
    db.write_file("/c.txt", b"c\n").unwrap();
    let s = git(&mut db, |r| r.status()).unwrap();
    assert_eq!(
        s.unstaged,
        vec![FileChange {
            path: "src/b.txt".into(),
            kind: ChangeKind::Modified
        }]
    );
    assert_eq!(s.untracked, vec!["c.txt".to_string()]);
    let diff = git(&mut db, |r| r.diff(None, false)).unwrap();
    assert_eq!(diff.len(), 1);
    assert_eq!(
        diff[0].hunks[0]
            .lines
            .iter()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>(),
        ["b", "b2"]
    );
    git(&mut db, |r| r.add(&[".".into()])).unwrap();
    assert_eq!(git(&mut db, |r| r.diff(Some("src"), true)).unwrap().len(), 1);
    let second = git(&mut db, |r| r.commit("change b, add c")).unwrap();
    assert_eq!(second.parents, vec![first.id]);
    let log = git(&mut db, |r| r.log(10)).unwrap();
    assert_eq!(log.iter().map(|c| c.id).collect::<Vec<_>>(), vec![second.id, first.id]);
    assert_eq!(git(&mut db, |r| r.log(1)).unwrap().len(), 1);
    let (shown, diffs) = git(&mut db, |r| r.show(None)).unwrap();
    assert_eq!(shown.id, second.id);
    let paths: Vec<(&str, ChangeKind)> = diffs.iter().map(|d| (d.path.as_str(), d.kind)).collect();
    assert_eq!(
        paths,
        [("c.txt", ChangeKind::Added), ("src/b.txt", ChangeKind::Modified)]
    );
    let short = &second.id.to_hex().to_string()[..7];
    assert_eq!(git(&mut db, |r| r.resolve(short)).unwrap().0, second.id);
}

/// Changes of every kind on both sides, at paths that sort between and around each other
/// (`a` < `a.txt` < `a0` < `b/c`): status walks the sorted sides in step.
#[test]
fn status_reports_every_kind_of_change_in_path_order() {
    let (_tmp, mut db) = db();
    git(&mut db, |r| r.init()).unwrap();
    for path in ["/a", "/a.txt", "/b/c", "/d"] {
        db.write_file(path, path.as_bytes()).unwrap();
    }
    git(&mut db, |r| r.add(&[".".into()])).unwrap();
    git(&mut db, |r| r.commit("first")).unwrap();
    db.write_file("/a.txt", b"2").unwrap();
    db.remove("/b/c", false).unwrap();
    db.write_file("/b/e", b"e").unwrap();
    git(&mut db, |r| r.add(&["a.txt".into(), "b".into()])).unwrap();
    db.remove("/a", false).unwrap();
    db.write_file("/d", b"changed").unwrap();
    db.write_file("/a0", b"new").unwrap();
    db.write_file("/c", b"new").unwrap();
    let s = git(&mut db, |r| r.status()).unwrap();
    let changes = |v: &[FileChange]| v.iter().map(|c| (c.path.clone(), c.kind)).collect::<Vec<_>>();
    assert_eq!(
        changes(&s.staged),
        [
            ("a.txt".into(), ChangeKind::Modified),
            ("b/c".into(), ChangeKind::Deleted),
            ("b/e".into(), ChangeKind::Added)
        ]
    );
    assert_eq!(
        changes(&s.unstaged),
        [("a".into(), ChangeKind::Deleted), ("d".into(), ChangeKind::Modified)]
    );
    assert_eq!(s.untracked, ["a0", "c"]);
}

#[test]
fn checkout_syncs_the_tree_and_refuses_to_lose_work() {
    let (_tmp, mut db) = db();
    db.write_file("/shared.txt", b"v1\n").unwrap();
    db.write_file("/only-main/x.txt", b"main\n").unwrap();
    git(&mut db, |r| r.init()).unwrap();
    git(&mut db, |r| r.add(&[".".into()])).unwrap();
    git(&mut db, |r| r.commit("main")).unwrap();
    git(&mut db, |r| r.checkout("feature", true)).unwrap();
    db.write_file("/shared.txt", b"v2\n").unwrap();
    db.remove("/only-main", true).unwrap();
    db.write_file("/only-feature.txt", b"feature\n").unwrap();
    git(&mut db, |r| r.add(&[".".into()])).unwrap();
    git(&mut db, |r| r.commit("feature")).unwrap();

    let result = git(&mut db, |r| r.checkout("main", false)).unwrap();
    assert_eq!(
        (result.branch.as_deref(), result.updated, result.removed),
        (Some("main"), 2, 1)
    );
    assert_eq!(db.read_file("/shared.txt").unwrap(), b"v1\n");
    assert_eq!(db.read_file("/only-main/x.txt").unwrap(), b"main\n");
    assert!(db.stat("/only-feature.txt").is_err());
    assert!(git(&mut db, |r| r.status()).unwrap().unstaged.is_empty());

    git(&mut db, |r| r.checkout("feature", false)).unwrap();
    assert!(db.stat("/only-main").is_err(), "the emptied directory is gone");

    // A local change to a file the checkout would rewrite: refused, nothing touched.
    db.write_file("/shared.txt", b"local edit\n").unwrap();
    db.write_file("/only-main/x.txt", b"untracked in the way\n").unwrap();
    match git(&mut db, |r| r.checkout("main", false)) {
        Err(GitError::WouldLoseChanges(paths)) => assert_eq!(paths, ["only-main/x.txt", "shared.txt"]),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        git(&mut db, |r| r.current_branch()).unwrap().as_deref(),
        Some("feature")
    );
    git(&mut db, |r| r.restore("shared.txt")).unwrap();
    assert!(matches!(
        git(&mut db, |r| r.restore("nope.txt")),
        Err(GitError::NotTracked(_))
    ));
    assert_eq!(db.read_file("/shared.txt").unwrap(), b"v2\n");
    db.remove("/only-main", true).unwrap();
    assert!(git(&mut db, |r| r.checkout("main", false)).is_ok());
    assert!(matches!(
        git(&mut db, |r| r.checkout("nope", false)),
        Err(GitError::UnknownRevision(_))
    ));
    assert!(matches!(
        git(&mut db, |r| r.create_branch("main")),
        Err(GitError::BranchExists(_))
    ));
    assert!(matches!(
        git(&mut db, |r| r.create_branch("bad name")),
        Err(GitError::InvalidName(_))
    ));
    let names: Vec<(String, bool)> = git(&mut db, |r| r.branches())
        .unwrap()
        .into_iter()
        .map(|b| (b.name, b.current))
        .collect();
    assert_eq!(names, [("feature".to_string(), false), ("main".to_string(), true)]);
}

#[test]
fn checkout_swaps_a_file_and_a_directory_of_the_same_name() {
    let (_tmp, mut db) = db();
    db.write_file("/a", b"a file\n").unwrap();
    git(&mut db, |r| r.init()).unwrap();
    git(&mut db, |r| r.add(&[".".into()])).unwrap();
    git(&mut db, |r| r.commit("a is a file")).unwrap();
    git(&mut db, |r| r.checkout("dir", true)).unwrap();
    db.remove("/a", false).unwrap();
    db.write_file("/a/b", b"in a directory\n").unwrap();
    git(&mut db, |r| r.add(&[".".into()])).unwrap();
    git(&mut db, |r| r.commit("a is a directory")).unwrap();

    let status = git(&mut db, |r| r.status()).unwrap();
    assert!(status.staged.is_empty(), "the commit holds a/b and not a: {status:?}");
    let back = git(&mut db, |r| r.checkout("main", false)).unwrap();
    assert_eq!((back.updated, back.removed), (1, 1));
    assert_eq!(db.read_file("/a").unwrap(), b"a file\n");
    let forth = git(&mut db, |r| r.checkout("dir", false)).unwrap();
    assert_eq!((forth.updated, forth.removed), (1, 1));
    assert_eq!(db.read_file("/a/b").unwrap(), b"in a directory\n");
    assert!(git(&mut db, |r| r.status()).unwrap().unstaged.is_empty());
}

#[test]
fn incremental_checkpoints_equal_trees_written_from_scratch() {
    let (_tmp, mut db) = db();
    let full = |db: &SessionDb| {
        db.read(|s| tree::write_tree(&s.objects(), None, &Default::default(), &s.worktree().files()?))
            .unwrap()
    };
    let latest = |db: &SessionDb| db.read(|s| s.checkpoints().latest()).unwrap().unwrap();
    type Step = Box<dyn Fn(&mut SessionDb)>;
    let steps: Vec<Step> = vec![
        Box::new(|db| {
            db.write_file("/a.txt", b"a").unwrap();
            db.write_file("/src/lib.rs", b"fn a() {}").unwrap();
            db.write_file("/src/deep/x.rs", b"x").unwrap();
        }),
        Box::new(|db| db.write_file("/src/lib.rs", b"fn b() {}").unwrap()),
        Box::new(|db| db.remove("/src/deep/x.rs", false).unwrap()),
        // A file becomes a directory, and a directory is moved.
        Box::new(|db| {
            db.remove("/a.txt", false).unwrap();
            db.write_file("/a.txt/inner", b"now a directory").unwrap();
            db.rename("/src", "/lib").unwrap();
        }),
        // Written and removed between two checkpoints: never in a tree.
        Box::new(|db| {
            db.write_file("/tmp.txt", b"t").unwrap();
            db.remove("/tmp.txt", false).unwrap();
        }),
        Box::new(|db| db.remove("/lib", true).unwrap()),
    ];
    for (seq, step) in steps.iter().enumerate() {
        step(&mut db);
        git(&mut db, |r| r.record_checkpoint(seq as u64)).unwrap();
        assert_eq!(latest(&db).tree, full(&db), "after step {seq}");
        assert!(db.read(|s| s.checkpoints().dirty_paths()).unwrap().is_empty());
    }
    let changes = db.read(|s| s.checkpoints().list()).unwrap();
    assert_eq!(
        changes[3].changes,
        [
            (FileChangeKind::Deleted, "a.txt".to_string()),
            (FileChangeKind::Added, "a.txt/inner".to_string()),
            (FileChangeKind::Added, "lib/lib.rs".to_string()),
            (FileChangeKind::Deleted, "src/lib.rs".to_string()),
        ]
    );
    assert!(changes[4].changes.is_empty());
}

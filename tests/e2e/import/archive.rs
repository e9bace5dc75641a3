//! Archives: tar and tar.gz bodies become the working tree and the first commit, modes kept;
//! escaping entries and oversized archives are refused and leave no session behind.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use serde_json::json;
use tar::{EntryType, Header};

use super::{clone_session, curl_post, server, session_files};
use crate::support::{Api, git};

/// A small project: a source file, an executable script, a symlink to the source, an empty dir.
fn project(dir: &Path) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::create_dir_all(dir.join("empty")).unwrap();
    std::fs::write(dir.join("src/main.rs"), "fn main() {}\n").unwrap();
    std::fs::write(dir.join("run.sh"), "#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(dir.join("run.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink("src/main.rs", dir.join("main-link")).unwrap();
}

/// Runs the stock `tar` with `args` in `dir`.
fn tar(dir: &Path, args: &[&str]) {
    let status = Command::new("tar").args(args).current_dir(dir).status().unwrap();
    assert!(status.success(), "tar {args:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tar_gz_becomes_the_first_commit_with_modes_and_symlinks() {
    let server = server(&[]);
    let tmp = tempfile::tempdir().unwrap();
    project(&tmp.path().join("p"));
    tar(tmp.path(), &["-czf", "p.tar.gz", "-C", "p", "."]);

    let (status, body) = curl_post(
        &format!("{}/session/new", server.url),
        &tmp.path().join("p.tar.gz"),
        "application/gzip",
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["fileCount"], 3, "{body}");
    let session = body["sessionId"].as_str().unwrap();
    let head = body["head"].as_str().unwrap();
    let info = Api::new(&server.url).info(session).await;
    assert_eq!(info["head"], head);
    assert_eq!(info["branch"], "main");
    assert_eq!(info["directoryCount"], 2, "src/ and the empty directory: {info}");

    let clone = clone_session(&server, session, tmp.path(), "clone");
    assert_eq!(git(&clone, &["rev-parse", "HEAD"]).trim(), head);
    let tree = git(&clone, &["ls-tree", "-r", "HEAD"]);
    let modes: Vec<(&str, &str)> = tree
        .lines()
        .map(|l| (l.split(' ').next().unwrap(), l.rsplit('\t').next().unwrap()))
        .collect();
    assert_eq!(
        modes,
        [("120000", "main-link"), ("100755", "run.sh"), ("100644", "src/main.rs")],
        "{tree}"
    );
    assert_eq!(git(&clone, &["cat-file", "-p", "HEAD:main-link"]), "src/main.rs");
    assert_eq!(
        git(&clone, &["log", "--format=%an <%ae>|%s"]).trim(),
        "pi-worker <agent@pi-worker.local>|Initial commit"
    );
    git(&clone, &["fsck", "--strict"]);
    assert_eq!(
        std::fs::read_link(clone.join("main-link")).unwrap(),
        Path::new("src/main.rs")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_tar_keeps_paths_and_takes_the_author_from_the_query() {
    let server = server(&[]);
    let tmp = tempfile::tempdir().unwrap();
    project(&tmp.path().join("top"));
    // A single top directory stays: paths are kept as in the archive.
    tar(tmp.path(), &["-cf", "p.tar", "top"]);
    let url = format!(
        "{}/session/new?gitAuthorName=Ada%20Lovelace&gitAuthorEmail=ada@example.com",
        server.url
    );
    let (status, body) = curl_post(&url, &tmp.path().join("p.tar"), "application/x-tar");
    assert_eq!(status, 200, "{body}");
    let session = body["sessionId"].as_str().unwrap();
    let clone = clone_session(&server, session, tmp.path(), "clone");
    assert_eq!(
        git(&clone, &["ls-tree", "-r", "--name-only", "HEAD"]),
        "top/main-link\ntop/run.sh\ntop/src/main.rs\n"
    );
    assert_eq!(
        git(&clone, &["log", "--format=%an <%ae>"]).trim(),
        "Ada Lovelace <ada@example.com>"
    );

    // A gzipped body sent as application/x-tar is recognised by its magic bytes.
    tar(tmp.path(), &["-czf", "p.tgz", "top"]);
    let (status, body) = curl_post(&url, &tmp.path().join("p.tgz"), "application/x-tar");
    assert_eq!((status, body["fileCount"].clone()), (200, json!(3)), "{body}");
}

/// A tar holding one entry of `kind` at the raw `name` (written into the header as is, so
/// absolute paths and `..` survive), with `link` as its link target.
fn raw_tar(entries: &[(&str, EntryType, &str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, kind, link, data) in entries {
        let mut header = Header::new_gnu();
        let gnu = header.as_gnu_mut().unwrap();
        gnu.name[..name.len()].copy_from_slice(name.as_bytes());
        gnu.linkname[..link.len()].copy_from_slice(link.as_bytes());
        header.set_entry_type(*kind);
        header.set_mode(0o644);
        header.set_size(data.len() as u64);
        header.set_cksum();
        builder.append(&header, *data).unwrap();
    }
    builder.into_inner().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escaping_entries_are_refused_and_leave_nothing() {
    let server = server(&[]);
    let tmp = tempfile::tempdir().unwrap();
    let ok: (&str, EntryType, &str, &[u8]) = ("ok.txt", EntryType::Regular, "", b"fine\n");
    let cases: [(&str, Vec<u8>, &str); 7] = [
        (
            "dotdot",
            raw_tar(&[ok, ("../evil", EntryType::Regular, "", b"x")]),
            "'..'",
        ),
        (
            "nested dotdot",
            raw_tar(&[ok, ("a/../../evil", EntryType::Regular, "", b"x")]),
            "'..'",
        ),
        (
            "absolute",
            raw_tar(&[ok, ("/etc/evil", EntryType::Regular, "", b"x")]),
            "absolute",
        ),
        (
            "symlink out",
            raw_tar(&[ok, ("a/link", EntryType::Symlink, "../../etc/passwd", b"")]),
            "points outside",
        ),
        (
            "absolute symlink",
            raw_tar(&[ok, ("link", EntryType::Symlink, "/etc/passwd", b"")]),
            "points outside",
        ),
        (
            "hard link out",
            raw_tar(&[ok, ("link", EntryType::Link, "../x", b"")]),
            "points outside",
        ),
        (
            "file in the way of a directory",
            raw_tar(&[ok, ("ok.txt/inner", EntryType::Regular, "", b"x")]),
            "does not fit in a working tree",
        ),
    ];
    for (name, bytes, expected) in cases {
        let file = tmp.path().join("evil.tar");
        std::fs::write(&file, bytes).unwrap();
        let (status, body) = curl_post(&format!("{}/session/new", server.url), &file, "application/x-tar");
        assert_eq!(status, 400, "{name}: {body}");
        assert!(body["error"].as_str().unwrap().contains(expected), "{name}: {body}");
    }
    let garbage = tmp.path().join("garbage");
    std::fs::write(&garbage, "not a tar at all").unwrap();
    let (status, body) = curl_post(&format!("{}/session/new", server.url), &garbage, "application/gzip");
    assert_eq!(status, 400, "{body}");
    assert_eq!(session_files(&server), Vec::<String>::new());

    // The same links, inside the root, are fine; a hard link is a copy of the file it names.
    let fine = raw_tar(&[
        ok,
        ("a/link", EntryType::Symlink, "../ok.txt", b""),
        ("hard", EntryType::Link, "./ok.txt", b""),
    ]);
    let file = tmp.path().join("fine.tar");
    std::fs::write(&file, fine).unwrap();
    let (status, body) = curl_post(&format!("{}/session/new", server.url), &file, "application/x-tar");
    assert_eq!(status, 200, "{body}");
    let clone = clone_session(&server, body["sessionId"].as_str().unwrap(), tmp.path(), "fine");
    assert_eq!(std::fs::read_to_string(clone.join("hard")).unwrap(), "fine\n");
    assert_eq!(std::fs::read_to_string(clone.join("a/link")).unwrap(), "fine\n");
    let files = session_files(&server);
    assert_eq!(files.iter().filter(|f| f.ends_with(".sqlite")).count(), 1, "{files:?}");
    assert!(!files.iter().any(|f| f.ends_with(".creating")), "{files:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archives_obey_the_workspace_quotas() {
    let server = server(&["--max-workspace-files", "2", "--max-file-bytes", "1000"]);
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("{}/session/new", server.url);
    let three = raw_tar(&[
        ("a", EntryType::Regular, "", b"a"),
        ("b", EntryType::Regular, "", b"b"),
        ("c", EntryType::Regular, "", b"c"),
    ]);
    std::fs::write(tmp.path().join("three.tar"), three).unwrap();
    let (status, body) = curl_post(&url, &tmp.path().join("three.tar"), "application/x-tar");
    assert_eq!(status, 413, "{body}");
    assert!(body["error"].as_str().unwrap().contains("at most 2 files"), "{body}");

    let big = raw_tar(&[("big", EntryType::Regular, "", &[b'x'; 1001])]);
    std::fs::write(tmp.path().join("big.tar"), big).unwrap();
    let (status, body) = curl_post(&url, &tmp.path().join("big.tar"), "application/x-tar");
    assert_eq!(status, 413, "{body}");
    assert!(body["error"].as_str().unwrap().contains("file too large"), "{body}");
    assert_eq!(session_files(&server), Vec::<String>::new());

    // JSON bodies keep working as before.
    let (status, body) = Api::new(&server.url)
        .post("/session/new", &json!({ "template": "empty" }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
}

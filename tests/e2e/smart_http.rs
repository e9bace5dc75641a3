//! Git's smart HTTP protocol with the stock `git` client, both ways: clone, fetch and pull get
//! one pack; push creates, moves, forces and deletes branches, and moves the checked-out branch
//! with its working tree only when that tree is clean. Pushes that must fail (a truncated pack,
//! a bad object, a ref naming a missing object) are crafted as raw requests and leave the
//! session exactly as it was.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::json;

use crate::support::{Api, Provider, call, git, setup};

/// Runs stock `git` with a committer identity and `env`, whatever its outcome.
fn git_run(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new("git")
        .args(["-c", "user.name=Dev", "-c", "user.email=dev@example.com"])
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .expect("git is installed by scripts/test")
}

/// Like [`git_run`], failing the test when git fails; returns stdout and stderr.
fn git_ok(dir: &Path, args: &[&str]) -> (String, String) {
    let out = git_run(dir, &[], args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "git {args:?}: {stderr}");
    (String::from_utf8(out.stdout).unwrap(), stderr)
}

/// Commits `contents` at `path` in the clone `dir`; returns the commit id.
fn commit_file(dir: &Path, path: &str, contents: &str, message: &str) -> String {
    let file = dir.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, contents).unwrap();
    git_ok(dir, &["add", "-A"]);
    git_ok(dir, &["commit", "-q", "-m", message]);
    git(dir, &["rev-parse", "HEAD"]).trim().to_string()
}

/// The session's refs as `git ls-remote` sees them.
fn ls_remote(url: &str) -> String {
    git(Path::new("."), &["ls-remote", url])
}

async fn head(api: &Api, s: &str) -> String {
    api.info(s).await["head"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clone_push_fetch_branches_and_forced_updates_over_smart_http() {
    let (fake, server, api) = setup(Provider::Anthropic, vec![]).await;
    let s = api.new_session().await;
    let url = format!("{}/session/{s}/git", server.url);
    let dir = tempfile::tempdir().unwrap();

    // The clone speaks the smart protocol: one POST to git-upload-pack, no loose objects.
    let out = git_run(dir.path(), &[("GIT_TRACE_CURL", "1")], &["clone", &url, "clone"]);
    let trace = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{trace}");
    assert!(trace.contains("info/refs?service=git-upload-pack"), "{trace}");
    assert!(
        trace.contains(&format!("POST /session/{s}/git/git-upload-pack")),
        "{trace}"
    );
    assert!(!trace.contains("/objects/"), "no dumb-HTTP object fetches: {trace}");
    let clone = dir.path().join("clone");
    assert_eq!(git(&clone, &["rev-parse", "HEAD"]).trim(), head(&api, &s).await);
    git(&clone, &["fsck", "--full", "--strict"]);

    // Push to the checked-out branch over a clean working tree: the agent sees the work.
    let pushed = commit_file(
        &clone,
        "docs/pushed.md",
        "# Pushed\n\nfrom a laptop\n",
        "Pushed from a clone",
    );
    let (_, stderr) = git_ok(&clone, &["push", "origin", "main"]);
    assert!(stderr.contains("main -> main"), "{stderr}");
    assert_eq!(head(&api, &s).await, pushed);
    let (log, _) = call(&fake, &api, &s, "git_log", json!({ "limit": 1 })).await;
    assert!(
        log.starts_with(&format!("commit {pushed}")) && log.contains("Pushed from a clone"),
        "{log}"
    );
    let (read, _) = call(&fake, &api, &s, "read", json!({ "path": "docs/pushed.md" })).await;
    assert_eq!(read, "# Pushed\n\nfrom a laptop\n");
    let (status, _) = call(&fake, &api, &s, "git_status", json!({})).await;
    assert_eq!(status, "On branch main\n\nnothing to commit, working tree clean");

    // The agent commits; a pull gets exactly the new objects (commit, root tree, blob).
    call(
        &fake,
        &api,
        &s,
        "write",
        json!({ "path": "agent.txt", "content": "by the agent\n" }),
    )
    .await;
    call(&fake, &api, &s, "git_add", json!({ "paths": ["agent.txt"] })).await;
    let (out, err) = call(&fake, &api, &s, "git_commit", json!({ "message": "Agent work" })).await;
    assert!(!err, "{out}");
    let loose_before = loose_objects(&clone);
    let out = git_run(
        &clone,
        &[("GIT_TRACE_PACKET", "1")],
        &["pull", "--ff-only", "origin", "main"],
    );
    let trace = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{trace}");
    assert!(
        trace.contains(&format!("have {pushed}")) && trace.contains(&format!("ACK {pushed}")),
        "{trace}"
    );
    assert_eq!(loose_objects(&clone) - loose_before, 3, "only what the clone lacked");
    assert_eq!(
        std::fs::read_to_string(clone.join("agent.txt")).unwrap(),
        "by the agent\n"
    );
    assert_eq!(git(&clone, &["rev-parse", "HEAD"]).trim(), head(&api, &s).await);
    git(&clone, &["fsck", "--full", "--strict"]);

    // A change to a large file travels as a delta against the session's copy (a thin pack).
    let big: String = (0..3000).map(|i| format!("line {i} of a large file\n")).collect();
    commit_file(&clone, "big.txt", &big, "Big file");
    git_ok(&clone, &["push", "-q", "origin", "main"]);
    let edited = commit_file(&clone, "big.txt", &format!("{big}one more line\n"), "Edit the big file");
    git_ok(&clone, &["push", "-q", "origin", "main"]);
    assert_eq!(head(&api, &s).await, edited);
    let (status, body) = api.get(&format!("/session/{s}/files/big.txt")).await;
    assert_eq!(
        (status, body.as_str().unwrap()),
        (200, format!("{big}one more line\n").as_str())
    );

    // A new branch, then its deletion.
    git_ok(&clone, &["checkout", "-q", "-b", "topic"]);
    let topic = commit_file(&clone, "topic.txt", "topic\n", "Topic");
    let (_, stderr) = git_ok(&clone, &["push", "origin", "topic"]);
    assert!(stderr.contains("* [new branch]      topic -> topic"), "{stderr}");
    assert!(ls_remote(&url).contains(&format!("{topic}\trefs/heads/topic")));
    let (branches, _) = call(&fake, &api, &s, "git_branch", json!({})).await;
    assert!(branches.contains("  topic "), "{branches}");
    let (_, stderr) = git_ok(&clone, &["push", "origin", "--delete", "topic"]);
    assert!(stderr.contains("- [deleted]         topic"), "{stderr}");
    assert!(!ls_remote(&url).contains("refs/heads/topic"));

    // Non-fast-forward: git refuses it itself; forced, the server takes it.
    git_ok(&clone, &["checkout", "-q", "main"]);
    git_ok(&clone, &["reset", "-q", "--hard", &pushed]);
    let rewritten = commit_file(&clone, "other.txt", "another history\n", "Rewritten");
    let out = git_run(&clone, &[], &["push", "origin", "main"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("! [rejected]        main -> main"),
        "{stderr}"
    );
    assert!(
        stderr.contains("fetch first") || stderr.contains("non-fast-forward"),
        "{stderr}"
    );
    assert_ne!(head(&api, &s).await, rewritten);
    let (_, stderr) = git_ok(&clone, &["push", "--force", "origin", "main"]);
    assert!(stderr.contains("(forced update)"), "{stderr}");
    assert_eq!(head(&api, &s).await, rewritten);
    let (tree, _) = call(&fake, &api, &s, "tree", json!({})).await;
    assert!(
        tree.contains("other.txt") && !tree.contains("agent.txt") && !tree.contains("big.txt"),
        "{tree}"
    );

    // A fresh clone of the result is whole.
    git(dir.path(), &["clone", "--quiet", &url, "again"]);
    git(&dir.path().join("again"), &["fsck", "--full", "--strict"]);
    assert_eq!(git(&dir.path().join("again"), &["rev-parse", "HEAD"]).trim(), rewritten);
}

/// Loose objects in a clone (fetched packs this small are unpacked).
fn loose_objects(clone: &Path) -> i64 {
    let out = git(clone, &["count-objects", "-v"]);
    out.lines()
        .find_map(|l| l.strip_prefix("count: "))
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_to_the_checked_out_branch_needs_a_clean_working_tree() {
    let (fake, server, api) = setup(Provider::Anthropic, vec![]).await;
    let s = api.new_session().await;
    let url = format!("{}/session/{s}/git", server.url);
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["clone", "--quiet", &url, "clone"]);
    let clone = dir.path().join("clone");

    // The agent leaves an uncommitted change to a tracked file.
    call(
        &fake,
        &api,
        &s,
        "write",
        json!({ "path": "README.md", "content": "agent's draft\n" }),
    )
    .await;
    let before = head(&api, &s).await;
    let refs_before = ls_remote(&url);
    let pushed = commit_file(&clone, "README.md", "from the clone\n", "Change the readme");
    let out = git_run(&clone, &[], &["push", "origin", "main"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "! [remote rejected] main -> main (branch is checked out and its working tree has uncommitted changes: README.md)"
        ),
        "{stderr}"
    );
    assert_eq!(head(&api, &s).await, before);
    assert_eq!(ls_remote(&url), refs_before);
    let (read, _) = call(&fake, &api, &s, "read", json!({ "path": "README.md" })).await;
    assert_eq!(read, "agent's draft\n", "the agent's work is untouched");
    assert!(!stored(&api, &s, &pushed).await, "the refused push stored nothing");

    // Another branch is not checked out: it takes the push.
    let (_, stderr) = git_ok(&clone, &["push", "origin", "main:elsewhere"]);
    assert!(stderr.contains("main -> elsewhere"), "{stderr}");

    // Once the agent's change is gone, the push goes through and checks the commit out.
    call(&fake, &api, &s, "git_restore", json!({ "path": "README.md" })).await;
    git_ok(&clone, &["push", "origin", "main"]);
    assert_eq!(head(&api, &s).await, pushed);
    let (read, _) = call(&fake, &api, &s, "read", json!({ "path": "README.md" })).await;
    assert_eq!(read, "from the clone\n");
    let (status, _) = call(&fake, &api, &s, "git_status", json!({})).await;
    assert_eq!(status, "On branch main\n\nnothing to commit, working tree clean");

    // The checked-out branch cannot be deleted.
    let out = git_run(&clone, &[], &["push", "origin", "--delete", "main"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("(deletion of the current branch prohibited)"),
        "{stderr}"
    );
}

/// A receive-pack request: one command with capabilities, a flush, then `pack`.
fn push_request(old: &str, new: &str, name: &str, pack: &[u8]) -> Vec<u8> {
    let line = format!("{old} {new} {name}\0report-status side-band-64k agent=test\n");
    let mut body = format!("{:04x}{line}0000", line.len() + 4).into_bytes();
    body.extend_from_slice(pack);
    body
}

/// `git pack-objects --stdout` of the objects named on its input.
fn pack_objects(dir: &Path, objects: &[&str]) -> Vec<u8> {
    let mut child = Command::new("git")
        .args(["pack-objects", "--stdout", "-q"])
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(objects.join("\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    out.stdout
}

async fn post_receive_pack(url: &str, body: Vec<u8>) -> String {
    let response = reqwest::Client::new()
        .post(format!("{url}/git-receive-pack"))
        .header("content-type", "application/x-git-receive-pack-request")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/x-git-receive-pack-result"
    );
    String::from_utf8_lossy(&response.bytes().await.unwrap()).into_owned()
}

/// What a refused push must not change: HEAD and every ref.
async fn snapshot(api: &Api, s: &str, url: &str) -> (String, String) {
    (head(api, s).await, ls_remote(url))
}

/// Whether the session stores the object `id` (its dumb-HTTP loose object is found).
async fn stored(api: &Api, s: &str, id: &str) -> bool {
    let (status, _) = api
        .get(&format!("/session/{s}/git/objects/{}/{}", &id[..2], &id[2..]))
        .await;
    status == 200
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_packs_and_missing_objects_leave_the_session_as_it_was() {
    let (_fake, server, api) = setup(Provider::Anthropic, vec![]).await;
    let s = api.new_session().await;
    let url = format!("{}/session/{s}/git", server.url);
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["clone", "--quiet", &url, "clone"]);
    let clone = dir.path().join("clone");
    let old = git(&clone, &["rev-parse", "HEAD"]).trim().to_string();
    let new = commit_file(&clone, "new/file.txt", "new contents\n", "New work");
    let before = snapshot(&api, &s, &url).await;
    let objects = git(&clone, &["rev-list", "--objects", &format!("{old}..{new}")]);
    let ids: Vec<&str> = objects.lines().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(ids.len(), 4, "commit, root tree, new/, blob: {objects}");
    let pack = pack_objects(&clone, &ids);

    // Truncated.
    let report = post_receive_pack(
        &url,
        push_request(&old, &new, "refs/heads/main", &pack[..pack.len() - 40]),
    )
    .await;
    assert!(report.contains("unpack invalid pack"), "{report}");
    assert!(report.contains("ng refs/heads/main unpacker error"), "{report}");
    assert_eq!(snapshot(&api, &s, &url).await, before);

    // One byte flipped in the middle: the checksum (or zlib) catches it.
    let mut corrupt = pack.clone();
    let middle = corrupt.len() / 2;
    corrupt[middle] ^= 0x55;
    let report = post_receive_pack(&url, push_request(&old, &new, "refs/heads/main", &corrupt)).await;
    assert!(
        report.contains("unpack invalid pack") && report.contains("ng refs/heads/main unpacker error"),
        "{report}"
    );
    assert_eq!(snapshot(&api, &s, &url).await, before);

    // A well-formed pack holding an object that is not what it claims to be.
    let bad = {
        let mut child = Command::new("git")
            .args(["hash-object", "-t", "commit", "-w", "--literally", "--stdin"])
            .current_dir(&clone)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"this is not a commit\n")
            .unwrap();
        String::from_utf8(child.wait_with_output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_string()
    };
    let mut with_bad: Vec<&str> = ids.clone();
    with_bad.push(&bad);
    let report = post_receive_pack(
        &url,
        push_request(&old, &new, "refs/heads/main", &pack_objects(&clone, &with_bad)),
    )
    .await;
    assert!(report.contains(&format!("unpack bad commit object {bad}")), "{report}");
    assert!(report.contains("ng refs/heads/main unpacker error"), "{report}");
    assert_eq!(snapshot(&api, &s, &url).await, before);
    assert!(!stored(&api, &s, &new).await, "nothing of the pack was kept");

    // The commit alone: its tree and blob are neither in the pack nor in the session.
    let report = post_receive_pack(
        &url,
        push_request(&old, &new, "refs/heads/main", &pack_objects(&clone, &[&new])),
    )
    .await;
    assert!(report.contains("unpack ok"), "{report}");
    assert!(
        report.contains("ng refs/heads/main missing necessary objects"),
        "{report}"
    );
    assert_eq!(snapshot(&api, &s, &url).await, before);
    assert!(!stored(&api, &s, &new).await, "a refused push keeps no objects");

    // A ref naming an object that is nowhere, with an empty pack.
    let nowhere = "1234567890123456789012345678901234567890";
    let report = post_receive_pack(
        &url,
        push_request(&old, nowhere, "refs/heads/main", &pack_objects(&clone, &[])),
    )
    .await;
    assert!(
        report.contains("ng refs/heads/main missing necessary objects"),
        "{report}"
    );
    // And an old value that is not the ref's.
    let report = post_receive_pack(&url, push_request(&new, &new, "refs/heads/main", &pack)).await;
    assert!(report.contains("ng refs/heads/main stale info"), "{report}");
    assert_eq!(snapshot(&api, &s, &url).await, before);

    // The whole pack, as git would send it, goes through.
    let report = post_receive_pack(&url, push_request(&old, &new, "refs/heads/main", &pack)).await;
    assert!(
        report.contains("unpack ok") && report.contains("ok refs/heads/main"),
        "{report}"
    );
    assert_eq!(head(&api, &s).await, new);
    assert!(stored(&api, &s, &new).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzipped_requests_negotiation_rounds_and_errors() {
    let (_fake, server, api) = setup(Provider::Anthropic, vec![]).await;
    let s = api.new_session().await;
    let url = format!("{}/session/{s}/git", server.url);
    let head = head(&api, &s).await;
    let client = reqwest::Client::new();
    let upload = |body: Vec<u8>, gzip: bool| {
        let mut request = client
            .post(format!("{url}/git-upload-pack"))
            .header("content-type", "application/x-git-upload-pack-request");
        let body = if gzip {
            request = request.header("content-encoding", "gzip");
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(&body).unwrap();
            gz.finish().unwrap()
        } else {
            body
        };
        async move {
            let response = request.body(body).send().await.unwrap();
            assert_eq!(response.status(), 200);
            assert_eq!(response.headers()["cache-control"], "no-cache");
            response.bytes().await.unwrap().to_vec()
        }
    };
    let want = format!("want {head} multi_ack_detailed side-band-64k ofs-delta\n");
    let want = format!("{:04x}{want}0000", want.len() + 4);

    // A clone's request, gzipped: NAK, then the pack on side-band 1, then a flush.
    let answer = upload(format!("{want}0009done\n").into_bytes(), true).await;
    assert!(
        answer.starts_with(b"0008NAK\n"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
    assert_eq!(&answer[8 + 4..8 + 9], b"\x01PACK");
    assert!(answer.ends_with(b"0000"));

    // A negotiation round without done: the common commit is acknowledged, and ready.
    let have = format!("0032have {head}\n");
    let answer = String::from_utf8(upload(format!("{want}{have}0000").into_bytes(), false).await).unwrap();
    assert_eq!(
        answer,
        format!("0038ACK {head} common\n0037ACK {head} ready\n0008NAK\n")
    );

    // Unknown wants are refused with an ERR line git shows.
    let missing = "want 1234567890123456789012345678901234567890\n";
    let answer = upload(
        format!("{:04x}{missing}00000009done\n", missing.len() + 4).into_bytes(),
        false,
    )
    .await;
    let answer = String::from_utf8(answer).unwrap();
    assert!(
        answer.ends_with("ERR upload-pack: not our ref 1234567890123456789012345678901234567890"),
        "{answer}"
    );

    // Malformed requests: an ERR line for upload-pack, a 400 for receive-pack.
    let answer = String::from_utf8(upload(b"zzzz".to_vec(), false).await).unwrap();
    assert!(answer.contains("ERR malformed packet line"), "{answer}");
    let response = client
        .post(format!("{url}/git-receive-pack"))
        .body("zzzz")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    // An unknown service is refused, an unknown session is not found.
    let (status, _) = api
        .get(&format!("/session/{s}/git/info/refs?service=git-frobnicate"))
        .await;
    assert_eq!(status, 403);
    let (status, _) = api.get("/session/nope/git/info/refs?service=git-upload-pack").await;
    assert_eq!(status, 404);
    // Without ?service= the dumb protocol's file stays as it was.
    let (status, body) = api.get(&format!("/session/{s}/git/info/refs")).await;
    assert_eq!(
        (status, body.as_str().unwrap()),
        (200, format!("{head}\trefs/heads/main\n").as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_git_sends_it_as_an_extra_header() {
    let (_fake, _server, api) =
        crate::support::setup_full(Provider::Anthropic, vec![], &[], &[("PI_WORKER_TOKEN", "git-token")]).await;
    let api = Api::with_token(&api.base, "git-token");
    let s = api.new_session().await;
    let url = format!("{}/session/{s}/git", api.base);
    let dir = tempfile::tempdir().unwrap();
    let out = git_run(
        dir.path(),
        &[("GIT_TERMINAL_PROMPT", "0")],
        &["clone", "-q", &url, "refused"],
    );
    assert!(!out.status.success(), "no token, no clone");
    let header = "http.extraHeader=Authorization: Bearer git-token";
    git_ok(dir.path(), &["-c", header, "clone", "-q", &url, "clone"]);
    let clone = dir.path().join("clone");
    let pushed = commit_file(&clone, "x.txt", "x\n", "With a token");
    git_ok(&clone, &["-c", header, "push", "-q", "origin", "main"]);
    assert_eq!(head(&api, &s).await, pushed);
}

#[tokio::test]
async fn a_clone_asking_for_a_depth_is_refused_clearly_and_an_empty_session_takes_a_push() {
    let (_fake, server, api) = setup(Provider::Anthropic, vec![]).await;
    let s = api.new_session().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}/session/{s}/git", server.url);
    let out = git_run(dir.path(), &[], &["clone", "--depth", "1", &url, "shallow"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("changing the depth of a clone"), "{stderr}");

    // The README's recipe: push your repository into a new, empty session.
    let (status, body) = api.post("/session/new", &json!({ "template": "empty" })).await;
    assert_eq!(status, 200, "{body}");
    let empty = body["sessionId"].as_str().unwrap();
    let mine = dir.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    git_ok(&mine, &["init", "-q", "-b", "main"]);
    let head = commit_file(&mine, "src/lib.rs", "pub fn mine() {}\n", "my work");
    git_ok(
        &mine,
        &["push", "-q", &format!("{}/session/{empty}/git", server.url), "main"],
    );
    let info = api.info(empty).await;
    assert_eq!(
        (info["head"].as_str(), info["fileCount"].as_u64()),
        (Some(head.as_str()), Some(1))
    );
    let (_, file) = api.get(&format!("/session/{empty}/files/src/lib.rs")).await;
    assert_eq!(file, "pub fn mine() {}\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pack_that_unpacks_past_the_quotas_is_refused_and_stores_nothing() {
    // 2 MiB files at most, 6 MiB of workspace; packs of zeros compress about 1000-fold, so the
    // pushes below are a few KiB on the wire.
    let (_fake, server, api) = crate::support::setup_with(
        Provider::Anthropic,
        vec![],
        &["--max-file-bytes", "2097152", "--max-workspace-bytes", "6291456"],
    )
    .await;
    let s = api.new_session().await;
    let url = format!("{}/session/{s}/git", server.url);
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["clone", "--quiet", &url, "clone"]);
    let clone = dir.path().join("clone");
    let before = head(&api, &s).await;
    let refs_before = ls_remote(&url);

    // One object over the file limit.
    let big = commit_file(&clone, "zeros.bin", &"\0".repeat(3 << 20), "A large file");
    let out = git_run(&clone, &[], &["push", "origin", "main:big"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("the pack unpacks to more than the session accepts")
            && stderr.contains("over the 2097152-byte limit"),
        "{stderr}"
    );
    assert!(!stored(&api, &s, &big).await, "nothing of the refused pack was stored");

    // Many objects under the file limit, over the workspace quota together.
    git_ok(&clone, &["reset", "-q", "--hard", "HEAD~1"]);
    for i in 0..4 {
        let file = clone.join(format!("part-{i}.bin"));
        std::fs::write(file, format!("{i}").repeat(2 << 20)).unwrap();
    }
    let many = commit_file(&clone, "README.md", "four parts\n", "Four large parts");
    let out = git_run(&clone, &[], &["push", "origin", "main:many"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("its objects hold over 6291456 bytes"), "{stderr}");
    assert!(!stored(&api, &s, &many).await);
    assert_eq!(head(&api, &s).await, before);
    assert_eq!(ls_remote(&url), refs_before);

    // Within the limits, the same route takes a push.
    git_ok(&clone, &["reset", "-q", "--hard", "origin/main"]);
    commit_file(&clone, "small.txt", "small\n", "A small file");
    git_ok(&clone, &["push", "origin", "main:small"]);
}

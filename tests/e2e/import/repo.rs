//! Repositories: `{"repo", "ref"?, "depth"?}` clones from stock `git http-backend` on loopback
//! (allowed with `--import-allow`): the full history or a shallow one, branches and tags, and
//! every refusal as a clear status with no session left behind.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::{clone_session, server, session_files};
use crate::support::git_http_backend::{self, GitHttpBackend};
use crate::support::{Api, Provider, call, git, setup_with};

/// A source repository: three commits on `trunk` (the default branch), a `feature` branch, an
/// annotated tag `v1` on the first commit; an executable and a symlink. Served bare as `src.git`.
struct Source {
    root: tempfile::TempDir,
    work: PathBuf,
    backend: GitHttpBackend,
}

impl Source {
    async fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        let work = root.path().join("work");
        std::fs::create_dir(&work).unwrap();
        git(&work, &["init", "-q", "-b", "trunk"]);
        let commit = |message: &str| {
            git(&work, &["add", "-A"]);
            git(
                &work,
                &[
                    "-c",
                    "user.name=Src",
                    "-c",
                    "user.email=src@example.com",
                    "commit",
                    "-qm",
                    message,
                ],
            );
        };
        std::fs::write(work.join("README.md"), "# source\n").unwrap();
        commit("first");
        git(
            &work,
            &[
                "-c",
                "user.name=Src",
                "-c",
                "user.email=src@example.com",
                "tag",
                "-a",
                "v1",
                "-m",
                "version 1",
            ],
        );
        std::fs::create_dir(work.join("bin")).unwrap();
        std::fs::write(work.join("bin/run.sh"), "#!/bin/sh\necho run\n").unwrap();
        std::fs::set_permissions(
            work.join("bin/run.sh"),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        std::os::unix::fs::symlink("README.md", work.join("link")).unwrap();
        commit("second");
        git(&work, &["branch", "feature"]);
        std::fs::write(work.join("README.md"), "# source\n\nthird\n").unwrap();
        commit("third");
        git(&work, &["checkout", "-q", "feature"]);
        std::fs::write(work.join("feature.txt"), "feature\n").unwrap();
        commit("feature work");
        git(&work, &["checkout", "-q", "trunk"]);
        git(root.path(), &["clone", "-q", "--bare", "work", "src.git"]);
        let backend = git_http_backend::serve(root.path()).await;
        Self { root, work, backend }
    }

    fn url(&self) -> String {
        self.backend.repo_url("src.git")
    }

    fn rev(&self, rev: &str) -> String {
        git(&self.work, &["rev-parse", rev]).trim().to_string()
    }

    fn log(&self, rev: &str) -> String {
        git(&self.work, &["log", "--format=%H %s", rev])
    }

    fn allow(&self) -> [String; 2] {
        ["--import-allow".into(), self.backend.host_port()]
    }
}

async fn import(api: &Api, body: Value) -> (u16, Value) {
    api.post("/session/new", &body).await
}

fn args(owned: &[String]) -> Vec<&str> {
    owned.iter().map(String::as_str).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clones_the_full_history_of_the_default_branch() {
    let source = Source::new().await;
    let server = server(&args(&source.allow()));
    let api = Api::new(&server.url);
    let (status, body) = import(&api, json!({ "repo": source.url() })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["head"], source.rev("trunk"), "{body}");
    assert_eq!(body["fileCount"], 3, "{body}");
    let session = body["sessionId"].as_str().unwrap();
    let info = api.info(session).await;
    assert_eq!(
        (info["branch"].as_str(), info["head"].clone()),
        (Some("trunk"), body["head"].clone())
    );

    let tmp = tempfile::tempdir().unwrap();
    let clone = clone_session(&server, session, tmp.path(), "clone");
    assert_eq!(git(&clone, &["log", "--format=%H %s"]), source.log("trunk"));
    assert_eq!(
        git(&clone, &["ls-tree", "-r", "HEAD"]),
        git(&source.work, &["ls-tree", "-r", "trunk"])
    );
    git(&clone, &["fsck", "--strict"]);
    assert_eq!(git(&clone, &["status", "--porcelain"]), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_branch_or_a_tag_is_checked_out() {
    let source = Source::new().await;
    let server = server(&args(&source.allow()));
    let api = Api::new(&server.url);

    let (status, body) = import(&api, json!({ "repo": source.url(), "ref": "feature" })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["head"], source.rev("feature"));
    assert_eq!(body["fileCount"], 4);
    let info = api.info(body["sessionId"].as_str().unwrap()).await;
    assert_eq!(info["branch"], "feature");

    // An annotated tag: its commit, on a branch `main`.
    let (status, body) = import(&api, json!({ "repo": source.url(), "ref": "v1" })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["head"], source.rev("v1^{commit}"));
    assert_eq!(body["fileCount"], 1);
    let session = body["sessionId"].as_str().unwrap();
    assert_eq!(api.info(session).await["branch"], "main");
    let tmp = tempfile::tempdir().unwrap();
    let clone = clone_session(&server, session, tmp.path(), "tag");
    assert_eq!(git(&clone, &["log", "--format=%H %s"]), source.log("v1"));
    git(&clone, &["fsck", "--strict"]);

    let (status, body) = import(&api, json!({ "repo": source.url(), "ref": "refs/heads/feature" })).await;
    assert_eq!(
        (status, body["head"].as_str()),
        (200, Some(source.rev("feature").as_str())),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn depth_cuts_the_history_and_git_log_stops_there() {
    let source = Source::new().await;
    let (fake, server, api) = setup_with(Provider::Anthropic, vec![], &args(&source.allow())).await;
    let (status, body) = import(&api, json!({ "repo": source.url(), "depth": 1 })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["head"], source.rev("trunk"));
    let session = body["sessionId"].as_str().unwrap().to_string();

    let (log, is_error) = call(&fake, &api, &session, "git_log", json!({})).await;
    assert!(!is_error, "{log}");
    assert_eq!(log.matches("commit ").count(), 1, "{log}");
    assert!(log.contains(&source.rev("trunk")) && log.contains("third"), "{log}");
    let (show, is_error) = call(&fake, &api, &session, "git_show", json!({})).await;
    assert!(!is_error, "{show}");
    assert!(show.contains("third"), "{show}");
    // A commit on top of the shallow history works, and the log shows both.
    call(
        &fake,
        &api,
        &session,
        "write",
        json!({ "path": "NEW.md", "content": "new\n" }),
    )
    .await;
    call(&fake, &api, &session, "git_add", json!({ "paths": ["NEW.md"] })).await;
    call(&fake, &api, &session, "git_commit", json!({ "message": "on top" })).await;
    let (log, _) = call(&fake, &api, &session, "git_log", json!({})).await;
    assert_eq!(log.matches("commit ").count(), 2, "{log}");

    // Stock git clones the shallow session (shallow at the same commit), pushes on top of it,
    // and pulls the agent's next commit.
    let work = tempfile::tempdir().unwrap();
    let url = format!("{}/session/{session}/git", server.url);
    git(work.path(), &["clone", "-q", &url, "c"]);
    let clone = work.path().join("c");
    assert_eq!(git(&clone, &["rev-parse", "--is-shallow-repository"]).trim(), "true");
    assert_eq!(git(&clone, &["rev-list", "--count", "HEAD"]).trim(), "2");
    git(&clone, &["fsck", "--full", "--strict"]);
    std::fs::write(clone.join("PUSHED.md"), "pushed\n").unwrap();
    git(&clone, &["add", "PUSHED.md"]);
    git(
        &clone,
        &[
            "-c",
            "user.name=Dev",
            "-c",
            "user.email=dev@example.com",
            "commit",
            "-qm",
            "pushed",
        ],
    );
    git(&clone, &["push", "-q", "origin", "HEAD:trunk"]);
    let (read, is_error) = call(&fake, &api, &session, "read", json!({ "path": "PUSHED.md" })).await;
    assert!(!is_error && read.contains("pushed"), "{read}");
    call(
        &fake,
        &api,
        &session,
        "write",
        json!({ "path": "AGENT.md", "content": "agent\n" }),
    )
    .await;
    call(&fake, &api, &session, "git_add", json!({ "paths": ["AGENT.md"] })).await;
    call(
        &fake,
        &api,
        &session,
        "git_commit",
        json!({ "message": "by the agent" }),
    )
    .await;
    git(&clone, &["pull", "-q", "--ff-only"]);
    assert_eq!(std::fs::read_to_string(clone.join("AGENT.md")).unwrap(), "agent\n");
    git(&clone, &["fsck", "--full", "--strict"]);

    // Depth 2 holds two commits.
    let (status, body) = import(&api, json!({ "repo": source.url(), "depth": 2 })).await;
    assert_eq!(status, 200, "{body}");
    let (log, _) = call(&fake, &api, body["sessionId"].as_str().unwrap(), "git_log", json!({})).await;
    assert_eq!(log.matches("commit ").count(), 2, "{log}");
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_clear_and_leave_nothing() {
    let source = Source::new().await;
    let error = |body: &Value| body["error"].as_str().unwrap_or_default().to_string();

    // Without the allow-list: plain http to loopback is refused before any request.
    let strict = server(&[]);
    let api = Api::new(&strict.url);
    let (status, body) = import(&api, json!({ "repo": source.url() })).await;
    assert_eq!(status, 403, "{body}");
    assert!(error(&body).contains("--import-allow"), "{body}");
    let https_loopback = source.url().replace("http://", "https://");
    let (status, body) = import(&api, json!({ "repo": https_loopback })).await;
    assert_eq!(status, 403, "{body}");
    assert!(error(&body).contains("non-public address 127.0.0.1"), "{body}");
    assert!(source.backend.served().is_empty(), "{:?}", source.backend.served());
    let bare = source.root.path().join("src.git");
    let (status, body) = import(&api, json!({ "repo": format!("file://{}", bare.display()) })).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(session_files(&strict), Vec::<String>::new());

    let allowed = server(&args(&source.allow()));
    let api = Api::new(&allowed.url);
    let cases = [
        (
            json!({ "repo": source.url(), "ref": "nope" }),
            404,
            "no branch or tag 'nope'",
        ),
        (
            json!({ "repo": source.backend.repo_url("missing.git") }),
            404,
            "answered 404",
        ),
        (json!({ "repo": source.url(), "depth": 0 }), 400, "depth"),
        (json!({ "repo": "not a url" }), 400, "invalid repository URL"),
        (
            json!({ "repo": format!("http://user:secret@{}/src.git", source.backend.host_port()) }),
            400,
            "credentials",
        ),
        (json!({ "repo": source.url(), "template": "empty" }), 400, "either"),
        (json!({ "ref": "main" }), 400, "go with `repo`"),
    ];
    for (request, expected, text) in cases {
        let (status, body) = import(&api, request.clone()).await;
        assert_eq!(status, expected, "{request}: {body}");
        assert!(error(&body).contains(text), "{request}: {body}");
    }
    assert_eq!(session_files(&allowed), Vec::<String>::new());

    // The workspace quotas: too many files, and a pack over the byte quota.
    let small = server(&[&args(&source.allow())[..], &["--max-workspace-files", "2"]].concat());
    let (status, body) = import(&Api::new(&small.url), json!({ "repo": source.url() })).await;
    assert_eq!(status, 413, "{body}");
    assert!(error(&body).contains("at most 2 files"), "{body}");
    let tiny = server(&[&args(&source.allow())[..], &["--max-workspace-bytes", "100"]].concat());
    let (status, body) = import(&Api::new(&tiny.url), json!({ "repo": source.url() })).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(
        [session_files(&small), session_files(&tiny)].concat(),
        Vec::<String>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_that_never_answers_times_out() {
    // A listener that accepts connections (the kernel's backlog) and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap().to_string();
    let server = server(&["--import-allow", &addr, "--import-timeout", "1"]);
    let started = std::time::Instant::now();
    let (status, body) = import(
        &Api::new(&server.url),
        json!({ "repo": format!("http://{addr}/x.git") }),
    )
    .await;
    assert_eq!(status, 504, "{body}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(session_files(&server), Vec::<String>::new());
}

/// A server answering every request with a redirect to `to` + the same path and query.
async fn redirector(to: String) -> (String, tokio::task::JoinHandle<()>) {
    use axum::http::{StatusCode, Uri, header};
    let app = axum::Router::new().fallback(move |uri: Uri| {
        let to = to.clone();
        async move {
            let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let target = format!("{to}{}", path.replacen("/moved.git", "/src.git", 1));
            (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, target)])
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_followed_only_where_the_policy_allows() {
    let source = Source::new().await;
    let (moved, task) = redirector(source.backend.url()).await;
    let url = format!("http://{moved}/moved.git");

    // The redirector is allowed, the repository's host:port it redirects to is not.
    let only_redirector = server(&["--import-allow", &moved]);
    let (status, body) = import(&Api::new(&only_redirector.url), json!({ "repo": url })).await;
    assert_eq!(status, 403, "{body}");
    assert!(source.backend.served().is_empty(), "{:?}", source.backend.served());
    assert_eq!(session_files(&only_redirector), Vec::<String>::new());

    // Both allowed: discovery follows the redirect and the fetch goes to the new place.
    let both = server(&["--import-allow", &moved, "--import-allow", &source.backend.host_port()]);
    let (status, body) = import(&Api::new(&both.url), json!({ "repo": url })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["head"], source.rev("trunk"));
    let served = source.backend.served();
    assert!(served.iter().any(|s| s.uri == "/src.git/git-upload-pack"), "{served:?}");
    task.abort();
}

/// A remote that advertises `advertisement` and then answers the fetch with `NAK` and nothing
/// more, ever: the pack never finishes downloading.
async fn stalling_remote(advertisement: Vec<u8>) -> (String, tokio::task::JoinHandle<()>) {
    use axum::body::{Body, Bytes};
    use axum::http::header;
    use axum::routing::{get, post};
    let app = axum::Router::new()
        .route(
            "/stall.git/info/refs",
            get(move || async move {
                (
                    [(header::CONTENT_TYPE, "application/x-git-upload-pack-advertisement")],
                    advertisement.clone(),
                )
            }),
        )
        .route(
            "/stall.git/git-upload-pack",
            post(|| async {
                let first = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"0008NAK\n"))]);
                let never = futures_util::stream::pending();
                (
                    [(header::CONTENT_TYPE, "application/x-git-upload-pack-result")],
                    Body::from_stream(futures_util::StreamExt::chain(first, never)),
                )
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pack_that_never_finishes_times_out_and_the_session_goes() {
    let source = Source::new().await;
    let advertisement = reqwest::get(format!("{}/info/refs?service=git-upload-pack", source.url()))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let (addr, task) = stalling_remote(advertisement).await;
    let server = server(&["--import-allow", &addr, "--import-timeout", "2"]);
    let (status, body) = import(
        &Api::new(&server.url),
        json!({ "repo": format!("http://{addr}/stall.git") }),
    )
    .await;
    assert_eq!(status, 504, "{body}");
    assert!(body["error"].as_str().unwrap().contains("longer than 2 s"), "{body}");
    assert_eq!(session_files(&server), Vec::<String>::new());
    task.abort();
}

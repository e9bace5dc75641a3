//! The test git server itself: stock git clones from it and pushes to it.

use crate::support::{git, git_http_backend};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_git_clones_and_pushes_through_http_backend() {
    let root = tempfile::tempdir().unwrap();
    git(root.path(), &["init", "--bare", "-q", "-b", "main", "demo.git"]);
    let backend = git_http_backend::serve(root.path()).await;

    let work = tempfile::tempdir().unwrap();
    let url = backend.repo_url("demo.git");
    git(work.path(), &["clone", "-q", &url, "a"]);
    let a = work.path().join("a");
    std::fs::write(a.join("hello.txt"), "hello\n".repeat(50_000)).unwrap();
    git(&a, &["add", "."]);
    git(
        &a,
        &["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first"],
    );
    git(&a, &["push", "-q", "origin", "main"]);
    let pushed = git(&a, &["rev-parse", "HEAD"]);

    git(work.path(), &["clone", "-q", &url, "b"]);
    assert_eq!(git(&work.path().join("b"), &["rev-parse", "HEAD"]), pushed);
    let served = backend.served();
    assert!(
        served
            .iter()
            .any(|s| s.uri.contains("git-receive-pack") && s.status == 200)
    );
    assert!(backend.url().starts_with("http://127.0.0.1:"));
    assert!(backend.host_port().starts_with("127.0.0.1:"));
}

//! `git clone` of a large session — 10,000 files, 100 MB — over smart HTTP, over dumb HTTP (one
//! request per object, what old clients and `GIT_SMART_HTTP=0` use), and stock `git clone` from
//! stock `git http-backend` serving a bare copy of the same files on loopback. Prints each
//! time and the ratio to stock.
//!
//! Run with `cargo bench -p pi-worker --bench clone` (`BENCH_FILES` / `BENCH_FILE_BYTES` to
//! resize; `BENCH_DUMB=0` skips the slow dumb-HTTP clone).

#![allow(missing_docs, clippy::unwrap_used, reason = "a benchmark binary")]

#[allow(dead_code, reason = "the bench uses only part of the test helper")]
#[path = "../../tests/e2e/support/git_http_backend.rs"]
mod git_http_backend;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pi_worker::git::Repo;
use pi_worker::sessions::{SessionId, SessionStore};
use pi_worker::storage::StorageOptions;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Deterministic text of `len` bytes for file `i` (as the git bench writes them).
fn contents(i: usize, len: usize) -> Vec<u8> {
    let mut state = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(format!("line {state:016x} of file {i}\n").as_bytes());
    }
    out.truncate(len);
    out
}

fn path(i: usize) -> String {
    format!("dir{:03}/sub{}/file{i:05}.txt", i % 100, i % 7)
}

/// Runs `git` in `dir` with `env`, failing on error; returns how long it took.
fn git(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Duration {
    let start = Instant::now();
    let out = Command::new("git")
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    start.elapsed()
}

/// The pi-worker binary serving `data` on a loopback port; killed when dropped.
struct PiWorker {
    child: Child,
    url: String,
}

impl PiWorker {
    fn start(data: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pi-worker"))
            .args(["serve", "--addr", "127.0.0.1:0", "--data"])
            .arg(data)
            .arg("--cache-dir")
            .arg(data.join("cache"))
            .env("PI_WORKER_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line.trim().strip_prefix("pi-worker listening on ").unwrap().to_string();
        Self { child, url }
    }
}

impl Drop for PiWorker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn main() {
    let files = env_or("BENCH_FILES", 10_000);
    let size = env_or("BENCH_FILE_BYTES", 10_240);
    let dumb = env_or("BENCH_DUMB", 1) != 0;
    let tmp = tempfile::tempdir().unwrap();
    println!(
        "repository: {files} files x {size} bytes = {} MB, one commit",
        files * size / 1_000_000
    );

    // The session, made directly in a data directory the server then opens.
    let data = tmp.path().join("data");
    let id = SessionId::parse("bench").unwrap();
    {
        let store = SessionStore::new(data.clone(), StorageOptions::default()).unwrap();
        let mut db = store.create(&id).unwrap();
        db.write(|s| {
            let worktree = s.worktree();
            for i in 0..files {
                worktree.write(&path(i), &contents(i, size))?;
            }
            Ok::<_, pi_worker::storage::FsError>(())
        })
        .unwrap();
        db.write(|s| {
            let repo = Repo::new(s);
            repo.init()?;
            repo.add(&[".".into()])?;
            repo.commit("everything")
        })
        .unwrap();
        store.publish(&id, db).unwrap();
    }
    let server = PiWorker::start(&data);
    let session_url = format!("{}/session/{id}/git", server.url);

    // The same files in a bare repository, packed as a git server keeps them.
    let work = tmp.path().join("work");
    std::fs::create_dir(&work).unwrap();
    for i in 0..files {
        let p = work.join(path(i));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, contents(i, size)).unwrap();
    }
    git(&work, &[], &["init", "-q", "-b", "main"]);
    git(&work, &[], &["add", "."]);
    git(
        &work,
        &[],
        &[
            "-c",
            "user.name=bench",
            "-c",
            "user.email=b@example.com",
            "commit",
            "-q",
            "-m",
            "everything",
        ],
    );
    git(tmp.path(), &[], &["clone", "-q", "--bare", "work", "served/repo.git"]);
    git(&tmp.path().join("served/repo.git"), &[], &["repack", "-adq"]);
    // The helper serves on this runtime's threads while git runs on the main thread.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let backend = runtime.block_on(git_http_backend::serve(&tmp.path().join("served")));
    let stock_url = backend.repo_url("repo.git");

    let clone = |name: &str, url: &str, env: &[(&str, &str)]| {
        let took = git(tmp.path(), env, &["clone", "-q", url, name]);
        assert_eq!(
            git_count(&tmp.path().join(name)),
            files,
            "{name} checked out every file"
        );
        std::fs::remove_dir_all(tmp.path().join(name)).unwrap();
        took
    };
    // The same without writing 10,000 files: the transfer and the client's indexing only. The
    // checkout costs both servers alike and varies a lot with the file system's mood.
    let fetch_only = |name: &str, url: &str| {
        let took = git(tmp.path(), &[], &["clone", "-q", "--no-checkout", url, name]);
        std::fs::remove_dir_all(tmp.path().join(name)).unwrap();
        took
    };
    // Best of `BENCH_RUNS`, interleaved: the machine is shared, and the fastest run is the
    // least disturbed one.
    let runs = env_or("BENCH_RUNS", 3);
    let local_url = format!("file://{}", tmp.path().join("served/repo.git").display());
    let (head, stock_head) = (ls_remote_head(&session_url), ls_remote_head(&stock_url));
    let (mut stock, mut smart, mut local) = (Duration::MAX, Duration::MAX, Duration::MAX);
    let (mut stock_server, mut smart_server) = (Duration::MAX, Duration::MAX);
    let (mut stock_fetch, mut smart_fetch) = (Duration::MAX, Duration::MAX);
    for _ in 0..runs {
        stock_fetch = stock_fetch.min(fetch_only("stock-fetch", &stock_url));
        smart_fetch = smart_fetch.min(fetch_only("smart-fetch", &session_url));
        stock_server = stock_server.min(upload_pack_alone(tmp.path(), &stock_url, &stock_head));
        smart_server = smart_server.min(upload_pack_alone(tmp.path(), &session_url, &head));
        stock = stock.min(clone("stock", &stock_url, &[]));
        smart = smart.min(clone("smart", &session_url, &[]));
        local = local.min(clone("local", &local_url, &[]));
    }
    let dumb = dumb.then(|| clone("dumb", &session_url, &[("GIT_SMART_HTTP", "0")]));

    println!("best of {runs} runs");
    println!("{:<52} {:>10} {:>8}", "git clone", "time", "vs stock");
    let row = |name: &str, t: Duration| {
        println!(
            "{name:<52} {:>8.0}ms {:>7.2}x",
            t.as_secs_f64() * 1e3,
            t.as_secs_f64() / stock.as_secs_f64()
        );
    };
    row("stock git http-backend (bare, repacked)", stock);
    row("pi-worker smart HTTP", smart);
    if let Some(dumb) = dumb {
        row("pi-worker dumb HTTP (GIT_SMART_HTTP=0)", dumb);
    }
    row("stock git over file:// (no HTTP, reference)", local);
    println!(
        "{:<52} {:>10} {:>8}",
        "git clone --no-checkout (transfer and indexing)", "time", "vs stock"
    );
    for (name, t) in [
        ("stock git http-backend", stock_fetch),
        ("pi-worker smart HTTP", smart_fetch),
    ] {
        println!(
            "{name:<52} {:>8.0}ms {:>7.2}x",
            t.as_secs_f64() * 1e3,
            t.as_secs_f64() / stock_fetch.as_secs_f64()
        );
    }
    println!(
        "{:<52} {:>10} {:>8}",
        "upload-pack answer alone (server side, to /dev/null)", "time", "vs stock"
    );
    let row = |name: &str, t: Duration| {
        println!(
            "{name:<52} {:>8.0}ms {:>7.2}x",
            t.as_secs_f64() * 1e3,
            t.as_secs_f64() / stock_server.as_secs_f64()
        );
    };
    row("stock git http-backend", stock_server);
    row("pi-worker", smart_server);
}

/// The commit `HEAD` is at on the remote `url`.
fn ls_remote_head(url: &str) -> String {
    let out = Command::new("git").args(["ls-remote", url, "HEAD"]).output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..40].to_string()
}

/// How many files the clone at `dir` checked out.
fn git_count(dir: &Path) -> usize {
    let out = Command::new("git")
        .args(["ls-files"])
        .current_dir(dir)
        .output()
        .unwrap();
    out.stdout.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count()
}

/// The time to get a clone's whole upload-pack answer (`want <head>`, `done`) with curl,
/// discarding it: the server's side of a clone, without the client's indexing and checkout.
fn upload_pack_alone(dir: &Path, url: &str, head: &str) -> Duration {
    let want = format!("want {head} multi_ack_detailed side-band-64k ofs-delta no-progress\n");
    let request = dir.join("upload-pack-request");
    std::fs::write(&request, format!("{:04x}{want}00000009done\n", want.len() + 4)).unwrap();
    let start = Instant::now();
    let out = Command::new("curl")
        .args([
            "-sSf",
            "-o",
            "/dev/null",
            "-H",
            "Content-Type: application/x-git-upload-pack-request",
            "--data-binary",
        ])
        .arg(format!("@{}", request.display()))
        .arg(format!("{url}/git-upload-pack"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    start.elapsed()
}

//! Git on a large workspace — 10,000 files, 100 MB — against the stock `git` CLI doing the same on
//! the same files in a real directory, in the same run: writing the files (one `write` call each,
//! against plain filesystem writes), add + commit, status clean and with 1 % of the files changed,
//! and checkout. Prints each operation's time and the ratio; a status is the median of
//! `BENCH_RUNS` runs on either side.
//!
//! Run with `cargo bench -p pi-worker --bench git` (`BENCH_FILES` / `BENCH_FILE_BYTES` to resize).

#![allow(missing_docs, clippy::unwrap_used, reason = "a benchmark binary")]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use pi_worker::git::{GitError, Repo};
use pi_worker::storage::{SessionDb, StorageOptions};

/// One git operation in its own transaction, as one `git` import call runs.
fn git_op<T>(db: &mut SessionDb, f: impl FnOnce(Repo<'_>) -> Result<T, GitError>) -> T {
    db.write(|s| f(Repo::new(s))).unwrap()
}

/// One file write in its own transaction, as one `write` tool call runs.
fn write_file(db: &mut SessionDb, path: &str, contents: &[u8]) {
    db.write(|s| s.worktree().write(path, contents).map(drop)).unwrap();
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Deterministic text of `len` bytes for file `i`, version `v`.
fn contents(i: usize, v: usize, len: usize) -> Vec<u8> {
    let mut state = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ v as u64;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let line = format!("line {:016x} of file {i} version {v}\n", state);
        out.extend_from_slice(line.as_bytes());
    }
    out.truncate(len);
    out
}

fn path(i: usize) -> String {
    format!("dir{:03}/sub{}/file{i:05}.txt", i % 100, i % 7)
}

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

/// The last result of `runs` runs of `f`, and their median time.
fn median<T>(runs: usize, mut f: impl FnMut() -> T) -> (T, Duration) {
    let mut times = Vec::new();
    let mut out = None;
    for _ in 0..runs.max(1) {
        let (o, t) = time(&mut f);
        out = Some(o);
        times.push(t);
    }
    times.sort();
    (out.expect("ran at least once"), times[times.len() / 2])
}

fn git(dir: &Path, args: &[&str]) -> Duration {
    let start = Instant::now();
    let out = Command::new("git").args(args).current_dir(dir).output().unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    start.elapsed()
}

/// isomorphic-git through `scripts/bench-isogit.mjs`, when `scripts/bench` installed it
/// (`BENCH_ISOGIT_NODE_PATH`, `BENCH_ISOGIT_SCRIPT`): the milliseconds it reports.
fn isogit(dir: &Path, args: &[&str]) -> Option<Duration> {
    let (Ok(node_path), Ok(script)) = (
        std::env::var("BENCH_ISOGIT_NODE_PATH"),
        std::env::var("BENCH_ISOGIT_SCRIPT"),
    ) else {
        return None;
    };
    let out = Command::new("node")
        .arg(script)
        .arg(dir)
        .args(args)
        .env("NODE_PATH", node_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "isomorphic-git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    Some(Duration::from_secs_f64(report["ms"].as_f64().unwrap() / 1e3))
}

fn main() {
    let files = env_or("BENCH_FILES", 10_000);
    let size = env_or("BENCH_FILE_BYTES", 10_240);
    let runs = env_or("BENCH_RUNS", 5);
    let changed = files / 100;
    let branch_diff = files / 10;
    let tmp = tempfile::tempdir().unwrap();
    println!(
        "workspace: {files} files x {size} bytes = {} MB",
        files * size / 1_000_000
    );

    // pi-worker: the session database.
    let mut db = SessionDb::create(
        &tmp.path().join("s.sqlite"),
        &tmp.path().join("blobs"),
        StorageOptions::default(),
    )
    .unwrap();
    let data: Vec<Vec<u8>> = (0..files).map(|i| contents(i, 0, size)).collect();
    let mut ours = Vec::new();
    let ((), t) = time(|| {
        for (i, data) in data.iter().enumerate() {
            write_file(&mut db, &path(i), data);
        }
    });
    ours.push(t);
    git_op(&mut db, |r| r.init());
    let (_, t) = time(|| {
        git_op(&mut db, |r| r.add(&[".".into()]));
        git_op(&mut db, |r| r.commit("everything"))
    });
    ours.push(t);
    let (s, t) = median(runs, || db.read(|s| Repo::new(s).status()).unwrap());
    assert!(s.staged.is_empty() && s.unstaged.is_empty() && s.untracked.is_empty());
    ours.push(t);
    for i in 0..changed {
        write_file(&mut db, &path(i * 97 % files), &contents(i, 1, size));
    }
    let (s, t) = median(runs, || db.read(|s| Repo::new(s).status()).unwrap());
    assert_eq!(s.unstaged.len(), changed);
    ours.push(t);
    let (_, t) = time(|| {
        git_op(&mut db, |r| r.add(&[".".into()]));
        git_op(&mut db, |r| r.commit("some changes"))
    });
    ours.push(t);
    git_op(&mut db, |r| r.checkout("other", true));
    for i in 0..branch_diff {
        write_file(&mut db, &path(i * 7 % files), &contents(i, 2, size));
    }
    git_op(&mut db, |r| r.add(&[".".into()]));
    git_op(&mut db, |r| r.commit("other branch"));
    let (r, t) = time(|| git_op(&mut db, |r| r.checkout("main", false)));
    assert_eq!(r.updated as usize, branch_diff);
    ours.push(t);
    let (_, t) = time(|| git_op(&mut db, |r| r.checkout("other", false)));
    ours.push(t);

    // Stock git on the same files in a real directory.
    let dir = tmp.path().join("git");
    std::fs::create_dir(&dir).unwrap();
    let write_file = |i: usize, v: usize| {
        let p = dir.join(path(i));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, contents(i, v, size)).unwrap();
    };
    let mut theirs = Vec::new();
    let ((), t) = time(|| {
        for (i, data) in data.iter().enumerate() {
            let p = dir.join(path(i));
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, data).unwrap();
        }
    });
    theirs.push(t);
    git(&dir, &["init", "-q", "-b", "main"]);
    git(&dir, &["config", "user.name", "bench"]);
    git(&dir, &["config", "user.email", "bench@example.com"]);
    theirs.push(git(&dir, &["add", "."]) + git(&dir, &["commit", "-q", "-m", "everything"]));
    theirs.push(median(runs, || git(&dir, &["status", "--porcelain"])).1);
    // isomorphic-git on the same repository, between git's steps.
    let mut iso = vec![isogit(&dir, &["status"])];
    for i in 0..changed {
        write_file(i * 97 % files, 1);
    }
    theirs.push(median(runs, || git(&dir, &["status", "--porcelain"])).1);
    iso.push(isogit(&dir, &["status"]));
    theirs.push(git(&dir, &["add", "."]) + git(&dir, &["commit", "-q", "-m", "some changes"]));
    // isomorphic-git commits the same number of changed files (changed again).
    for i in 0..changed {
        write_file(i * 97 % files, 3);
    }
    let changed_paths: Vec<String> = (0..changed).map(|i| path(i * 97 % files)).collect();
    let mut commit_args = vec!["commit"];
    commit_args.extend(changed_paths.iter().map(String::as_str));
    iso.push(isogit(&dir, &commit_args));
    if iso[2].is_none() {
        git(&dir, &["commit", "-q", "-a", "-m", "changed again"]);
    }
    git(&dir, &["checkout", "-q", "-b", "other"]);
    for i in 0..branch_diff {
        write_file(i * 7 % files, 2);
    }
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "-q", "-m", "other branch"]);
    theirs.push(git(&dir, &["checkout", "-q", "main"]));
    theirs.push(git(&dir, &["checkout", "-q", "other"]));

    println!(
        "{:<44} {:>12} {:>12} {:>8}",
        "operation", "pi-worker", "git CLI", "ratio"
    );
    let names = [
        format!("write {files} files (git column: filesystem)"),
        "add . + commit (everything)".to_string(),
        "status (clean)".to_string(),
        format!("status ({changed} changed files)"),
        format!("add + commit ({changed} changed files)"),
        format!("checkout main ({branch_diff} files differ)"),
        "checkout other (back)".to_string(),
    ];
    let ms = |t: &Duration| t.as_secs_f64() * 1e3;
    for ((name, ours), theirs) in names.iter().zip(&ours).zip(&theirs) {
        let ratio = ours.as_secs_f64() / theirs.as_secs_f64();
        println!("{name:<44} {:>10.1}ms {:>10.1}ms {ratio:>7.2}x", ms(ours), ms(theirs));
    }
    // The rows of `scripts/bench`'s table: against stock git, then isomorphic-git.
    let tree = format!("{files} files / {} MB", files * size / 1_000_000);
    for ((name, ours), theirs) in names.iter().zip(&ours).zip(&theirs) {
        let reference = if name.starts_with("write") {
            "filesystem"
        } else {
            "stock git"
        };
        println!(
            "| git: {name}, {tree} | {:.1} ms | {reference} | {:.1} ms | {:.2}× |",
            ms(ours),
            ms(theirs),
            ours.as_secs_f64() / theirs.as_secs_f64()
        );
    }
    for (name, ours, iso) in [
        (&names[2], ours[2], iso[0]),
        (&names[3], ours[3], iso[1]),
        (&names[4], ours[4], iso[2]),
    ] {
        match iso {
            Some(iso) => println!(
                "| git: {name}, {tree} | {:.1} ms | isomorphic-git | {:.1} ms | {:.3}× |",
                ms(&ours),
                ms(&iso),
                ours.as_secs_f64() / iso.as_secs_f64()
            ),
            None => println!(
                "| git: {name}, {tree} | {:.1} ms | isomorphic-git | skipped (no node) | — |",
                ms(&ours)
            ),
        }
    }
}

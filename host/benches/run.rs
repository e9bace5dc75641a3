//! The `run` tool's cost, measured through `pi:worker/process` as the agent calls it: a trivial
//! WASI command (`tests/run-program`, `hello`) on a one-file and on a 10,000-file workspace
//! (first run: the directory written whole and the program compiled; then steady state), beside
//! the same program run alone on an empty directory (instantiate and run, nothing else), and
//! the old design (every file written out before each run and read back after) for comparison.
//! Prints Markdown table rows.
//!
//! Run with `cargo bench -p pi-worker --bench run`. `BENCH_FILES` (10000), `BENCH_ROUNDS` (21).

#![allow(missing_docs, clippy::unwrap_used, reason = "a benchmark binary")]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pi_worker::abort::AbortSignal;
use pi_worker::bindings::pi::worker::process::{Host, RunRequest};
use pi_worker::engine::AgentEngine;
use pi_worker::interfaces::process::{ProcessCtx, ProcessCtxView};
use pi_worker::program::{ProgramRunner, RunLimits, WriteBudget};
use pi_worker::storage::{SessionDb, StorageOptions};

const PROGRAM: &str = env!("PI_WORKER_RUN_PROGRAM_WASM");

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// A session with `files` files of 1 KB and the program at `tools/prog.wasm`.
fn session(dir: &Path, files: usize) -> SessionDb {
    let mut db = SessionDb::create(&dir.join("s.sqlite"), &dir.join("blobs"), StorageOptions::default()).unwrap();
    let wasm = std::fs::read(PROGRAM).unwrap();
    db.write(|s| s.worktree().write("/tools/prog.wasm", &wasm).map(drop))
        .unwrap();
    let body = vec![b'x'; 1000];
    for chunk in (0..files).collect::<Vec<_>>().chunks(1000) {
        db.write(|s| {
            chunk.iter().try_for_each(|i| {
                let path = format!("/dir{:03}/sub{}/file{i:05}.txt", i % 100, i % 7);
                s.worktree().write(&path, &body).map(drop)
            })
        })
        .unwrap();
    }
    db
}

/// One `run` as the agent calls it; its wall-clock time.
async fn run(runner: &Arc<ProgramRunner>, db: &mut SessionDb) -> Duration {
    let mut ctx = ProcessCtx {
        runner: runner.clone(),
        limits: RunLimits::default(),
        ran: Duration::ZERO,
    };
    let mut view = ProcessCtxView {
        ctx: &mut ctx,
        db,
        live: None,
        abort: Arc::new(AbortSignal::default()),
    };
    let request = RunRequest {
        argv: vec!["./tools/prog.wasm".into(), "hello".into(), "bench".into()],
        timeout_ms: 0,
    };
    let started = Instant::now();
    let outcome = view.run(request).await.unwrap().unwrap();
    let elapsed = started.elapsed();
    assert!(outcome.output.starts_with("hello, bench"), "{}", outcome.output);
    elapsed
}

fn main() {
    let files = env_or("BENCH_FILES", 10_000);
    let rounds = env_or("BENCH_ROUNDS", 21);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let engine = AgentEngine::new(pi_worker::DEFAULT_GUEST, &tmp.path().join("cache"), 256 << 20).unwrap();
    let runner = engine.programs().clone();

    // The program alone: instantiate and run on an empty directory, nothing else.
    let wasm: Arc<[u8]> = std::fs::read(PROGRAM).unwrap().into();
    let id = pi_worker::storage::objects::object_id(gix_object::Kind::Blob, &wasm);
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let alone = rt.block_on(async {
        let component = runner.component(id, wasm.clone(), false).await.unwrap();
        let argv = ["prog".to_string(), "hello".into(), "bench".into()];
        let mut samples = Vec::new();
        for _ in 0..rounds {
            let started = Instant::now();
            let abort = AbortSignal::default();
            let budget = WriteBudget::new(u64::MAX, u64::MAX);
            runner
                .run(&component, &argv, &empty, RunLimits::default(), budget, None, &abort)
                .await
                .unwrap();
            samples.push(started.elapsed());
        }
        median(samples)
    });

    let mut rows = Vec::new();
    for n in [0, files] {
        let dir = tmp.path().join(format!("session-{n}"));
        std::fs::create_dir(&dir).unwrap();
        let mut db = session(&dir, n);
        let (first, steady) = rt.block_on(async {
            let first = run(&runner, &mut db).await;
            let mut samples = Vec::new();
            for _ in 0..rounds {
                samples.push(run(&runner, &mut db).await);
            }
            (first, median(samples))
        });
        rows.push((n, first, steady));
    }

    // The old design, for comparison: every file written into a fresh directory before the run
    // and every file read back after it.
    let dir = tmp.path().join(format!("session-{files}"));
    let db = SessionDb::open(&dir.join("s.sqlite"), &dir.join("blobs"), StorageOptions::default()).unwrap();
    let whole = {
        let mut samples = Vec::new();
        for _ in 0..5 {
            let out = tempfile::tempdir().unwrap();
            let started = Instant::now();
            db.read(|s| {
                let worktree = s.worktree();
                for path in worktree.files()?.keys() {
                    let target = out.path().join(path);
                    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
                    std::fs::write(target, worktree.read(&format!("/{path}")).unwrap()).unwrap();
                }
                Ok::<_, pi_worker::storage::StorageError>(())
            })
            .unwrap();
            let mut read = 0;
            for entry in walk(out.path()) {
                read += std::fs::read(entry).unwrap().len();
            }
            assert!(read >= files * 1000);
            samples.push(started.elapsed());
        }
        median(samples)
    };

    println!("| what | pi-worker | reference | reference's figure | pi-worker ÷ reference |");
    println!("|---|---|---|---|---|");
    for (n, first, steady) in &rows {
        println!(
            "| `run` of a trivial program, {n} files in the workspace, first run | {} | the program alone (instantiate + run) | {} | {:.1}× |",
            ms(*first),
            ms(alone),
            first.as_secs_f64() / alone.as_secs_f64()
        );
        println!(
            "| `run` of a trivial program, {n} files, after the first (median of {rounds}) | {} | the program alone | {} | overhead {} |",
            ms(*steady),
            ms(alone),
            ms(steady.saturating_sub(alone))
        );
    }
    let steady = rows.last().unwrap().2;
    println!(
        "| workspace ↔ directory per run, {files} files: kept in step + touched paths read back | {} | written whole + read back whole (the first design) | {} | {:.3}× |",
        ms(steady.saturating_sub(alone)),
        ms(whole),
        steady.saturating_sub(alone).as_secs_f64() / whole.as_secs_f64()
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            out.extend(walk(&entry.path()));
        } else {
            out.push(entry.path());
        }
    }
    out
}

//! The `run` tool's cost, measured through `pi:worker/process` as the agent calls it: a trivial
//! WASI command (`tests/run-program`, `hello`) on a one-file and on a 10,000-file workspace
//! (first run: the directory written whole and the program compiled; then steady state), beside
//! the same program run alone on an empty directory (instantiate and run, nothing else), and
//! the old design (every file written out before each run and read back after) for comparison;
//! then the built-in `node` on the sample project, beside stock Node.js when it is installed,
//! and the linear memory of each. Prints Markdown table rows.
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
use pi_worker::program::{ProgramExit, ProgramRunner, Programs, RunLimits, WriteBudget};
use pi_worker::seed::SAMPLE_FILES;
use pi_worker::storage::{SessionDb, StorageOptions};
use wasmtime::component::Component;

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

/// One `run` of `argv` as the agent calls it, whose output must start with `expect`; its
/// wall-clock time.
async fn run(runner: &Arc<ProgramRunner>, db: &mut SessionDb, argv: &[&str], expect: &str) -> Duration {
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
        argv: argv.iter().map(|a| a.to_string()).collect(),
        timeout_ms: 0,
    };
    let started = Instant::now();
    let outcome = view.run(request).await.unwrap().unwrap();
    let elapsed = started.elapsed();
    assert!(outcome.output.starts_with(expect), "{}", outcome.output);
    elapsed
}

/// `first` and the median of `rounds` more runs of `argv` on `db`.
fn runs(
    rt: &tokio::runtime::Runtime,
    runner: &Arc<ProgramRunner>,
    db: &mut SessionDb,
    argv: &[&str],
    expect: &str,
    rounds: usize,
) -> (Duration, Duration) {
    rt.block_on(async {
        let first = run(runner, db, argv, expect).await;
        let mut samples = Vec::new();
        for _ in 0..rounds {
            samples.push(run(runner, db, argv, expect).await);
        }
        (first, median(samples))
    })
}

/// A program's run alone on `dir` (instantiate and run, nothing else): the median time and the
/// largest linear memory.
fn alone(
    rt: &tokio::runtime::Runtime,
    runner: &ProgramRunner,
    component: &Component,
    argv: &[&str],
    dir: &Path,
    rounds: usize,
) -> (Duration, usize) {
    let argv: Vec<String> = argv.iter().map(|a| a.to_string()).collect();
    rt.block_on(async {
        let mut samples = Vec::new();
        let mut memory = 0;
        for _ in 0..rounds {
            let started = Instant::now();
            let abort = AbortSignal::default();
            let budget = WriteBudget::new(u64::MAX, u64::MAX);
            let run = runner
                .run(component, &argv, dir, RunLimits::default(), budget, None, &abort)
                .await
                .unwrap();
            assert_eq!(run.exit, ProgramExit::Code(0), "{}", run.output);
            samples.push(started.elapsed());
            memory = run.memory_bytes;
        }
        (median(samples), memory)
    })
}

fn main() {
    let files = env_or("BENCH_FILES", 10_000);
    let rounds = env_or("BENCH_ROUNDS", 21);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let engine = AgentEngine::new(
        pi_worker::DEFAULT_GUEST,
        &tmp.path().join("cache"),
        &Programs::new(&tmp.path().join("programs")),
        256 << 20,
    )
    .unwrap();
    let runner = engine.programs().clone();

    // The program alone: instantiate and run on an empty directory, nothing else.
    let wasm: Arc<[u8]> = std::fs::read(PROGRAM).unwrap().into();
    let id = pi_worker::storage::objects::object_id(gix_object::Kind::Blob, &wasm);
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let component = rt.block_on(runner.component(id, wasm.clone())).unwrap();
    let (alone_time, alone_memory) = alone(&rt, &runner, &component, &["prog", "hello", "bench"], &empty, rounds);

    let hello = ["./tools/prog.wasm", "hello", "bench"];
    let mut rows = Vec::new();
    for n in [0, files] {
        let dir = tmp.path().join(format!("session-{n}"));
        std::fs::create_dir(&dir).unwrap();
        let mut db = session(&dir, n);
        let (first, steady) = runs(&rt, &runner, &mut db, &hello, "hello, bench", rounds);
        rows.push((n, first, steady));
    }

    // `node src/index.ts` on the sample project: through `run` (the first run compiles the
    // runner and caches it), and alone, for its memory.
    let node_argv = ["node", "src/index.ts"];
    let sample = tmp.path().join("sample");
    std::fs::create_dir(&sample).unwrap();
    let mut db = SessionDb::create(
        &sample.join("s.sqlite"),
        &sample.join("blobs"),
        StorageOptions::default(),
    )
    .unwrap();
    db.write(|s| {
        SAMPLE_FILES
            .iter()
            .try_for_each(|(path, text)| s.worktree().write(path, text.as_bytes()).map(drop))
    })
    .unwrap();
    let (node_first, node_steady) = runs(&rt, &runner, &mut db, &node_argv, "Hello, World!\n2 + 3 = 5\n", rounds);
    let files_dir = sample.join("files");
    for (path, text) in SAMPLE_FILES {
        let target = files_dir.join(path.trim_start_matches('/'));
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, text).unwrap();
    }
    let node = runner.find_builtin("node").unwrap();
    let node_component = rt.block_on(runner.builtin(node.clone())).unwrap();
    let (_, node_memory) = alone(&rt, &runner, &node_component, &node_argv, &files_dir, 3);
    let stock_node = stock_node(&files_dir);

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

    for (n, first, steady) in &rows {
        println!(
            "| `run` of a trivial program, {n} files in the workspace, first run | {} | the program alone (instantiate + run) | {} | {:.1}× |",
            ms(*first),
            ms(alone_time),
            first.as_secs_f64() / alone_time.as_secs_f64()
        );
        println!(
            "| `run` of a trivial program, {n} files, after the first (median of {rounds}) | {} | the program alone | {} | overhead {} |",
            ms(*steady),
            ms(alone_time),
            ms(steady.saturating_sub(alone_time))
        );
    }
    let steady = rows.last().unwrap().2;
    println!(
        "| workspace ↔ directory per run, {files} files: kept in step + touched paths read back | {} | written whole + read back whole (the first design) | {} | {:.3}× |",
        ms(steady.saturating_sub(alone_time)),
        ms(whole),
        steady.saturating_sub(alone_time).as_secs_f64() / whole.as_secs_f64()
    );
    println!(
        "| `node src/index.ts` on the sample, first run (compiles the {:.1} MB runner) | {} | | | |",
        node.wasm.len() as f64 / 1e6,
        ms(node_first)
    );
    match stock_node {
        Some(stock) => println!(
            "| `node src/index.ts` on the sample, after the first (median of {rounds}) | {} | stock Node.js, the same program as `.mjs`, a process per run | {} | {:.2}× |",
            ms(node_steady),
            ms(stock),
            node_steady.as_secs_f64() / stock.as_secs_f64()
        ),
        None => println!(
            "| `node src/index.ts` on the sample, after the first (median of {rounds}) | {} | stock Node.js: not installed, skipped | | |",
            ms(node_steady)
        ),
    }
    println!(
        "| linear memory of one run: the trivial program / `node src/index.ts` | {:.1} MiB / {:.1} MiB | | | |",
        alone_memory as f64 / (1 << 20) as f64,
        node_memory as f64 / (1 << 20) as f64
    );
}

/// Stock Node.js (when installed) running the sample's program, its types removed by hand, as
/// `.mjs` files in `dir`: the median of 5 runs, each a process.
fn stock_node(dir: &Path) -> Option<Duration> {
    std::fs::write(
        dir.join("utils.mjs"),
        "export function greet(name) { return `Hello, ${name}!`; }\nexport function add(a, b) { return a + b; }\n",
    )
    .unwrap();
    std::fs::write(dir.join("index.mjs"), "import { greet, add } from './utils.mjs';\nconsole.log(greet('World'));\nconsole.log(`2 + 3 = ${add(2, 3)}`);\n").unwrap();
    let mut samples = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let out = std::process::Command::new("node")
            .arg("index.mjs")
            .current_dir(dir)
            .output()
            .ok()?;
        assert_eq!(String::from_utf8_lossy(&out.stdout), "Hello, World!\n2 + 3 = 5\n");
        samples.push(started.elapsed());
    }
    Some(median(samples))
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

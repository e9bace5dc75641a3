//! `grep` on a large workspace — 10,000 files, 100 MB, and a `.gitignore` that leaves out a
//! `node_modules/` — through the real guest, against `rg -j1` on the same files in a real
//! directory, in the same run. Prints each search's time and the ratio.
//!
//! - full scan: a string that is nowhere, so every byte is searched;
//! - first 100 matches: a pattern found about once every 18 files, so the search stops early.
//!
//! The guest runs as the server runs it: one chat whose in-process model calls `grep` once. The
//! tool's time is that chat's minus a chat whose model calls a tool that does nothing. The
//! import alone (`workspace.search` over every path, as the tool sends them) is timed too.
//!
//! Run with `cargo bench -p pi-worker --bench search` (`BENCH_FILES` / `BENCH_FILE_BYTES` to
//! resize, `BENCH_ROUNDS` for more samples). Without `rg` on the PATH, the comparison is skipped.

#![allow(missing_docs, clippy::unwrap_used, reason = "a benchmark binary")]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pi_worker::chat::{ChatLimits, ChatRequest, run_chat};
use pi_worker::engine::AgentEngine;
use pi_worker::llm::{LlmProvider, LlmRequest, ProviderRegistry, StopReason, StreamEvent, StreamFuture};
use pi_worker::message::{ContentBlock, ToolCall, Usage};
use pi_worker::program::Programs;
use pi_worker::search::{SearchOptions, search};
use pi_worker::storage::{EntryKind, SessionDb, StorageOptions};

const NOWHERE: &str = "ZZZ_NOWHERE";
const SPARSE: &str = "line 000";
const GITIGNORE: &str = "node_modules/\n*.log\n";

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Deterministic text of `len` bytes for file `i` (the `git` bench's files).
fn contents(i: usize, len: usize) -> Vec<u8> {
    let mut state = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(format!("line {state:016x} of file {i} version 0\n").as_bytes());
    }
    out.truncate(len);
    out
}

/// The workspace: `files` searched files, a `.gitignore`, and ignored files that would match.
fn tree(files: usize, size: usize) -> Vec<(String, Vec<u8>)> {
    let mut tree = vec![(".gitignore".to_string(), GITIGNORE.as_bytes().to_vec())];
    for i in 0..files {
        let path = format!("dir{:03}/sub{}/file{i:05}.txt", i % 100, i % 7);
        tree.push((path, contents(i, size)));
    }
    for i in 0..100 {
        tree.push((
            format!("node_modules/pkg{i}/index.js"),
            format!("{SPARSE}\n").into_bytes(),
        ));
        tree.push((format!("dir000/debug{i}.log"), format!("{SPARSE}\n").into_bytes()));
    }
    tree
}

/// Calls `tool` with `args` once, then answers; keeps the tool's result.
struct OneToolCall {
    tool: String,
    args: String,
    result: Mutex<Option<String>>,
}

impl LlmProvider for OneToolCall {
    fn stream(&self, request: LlmRequest) -> StreamFuture<'_> {
        // The session's conversation goes on from chat to chat: only the last message counts.
        let last = request
            .messages
            .last()
            .map(|m| m.content.as_slice())
            .unwrap_or_default();
        let result = last.iter().find_map(|b| match b {
            ContentBlock::ToolResult(r) => Some(r.content.clone()),
            _ => None,
        });
        let event = match result {
            None => StreamEvent::ToolCall(ToolCall {
                id: "t1".into(),
                name: self.tool.clone(),
                arguments: self.args.clone(),
            }),
            Some(result) => {
                *self.result.lock().unwrap() = Some(result);
                StreamEvent::TextDelta("done".into())
            }
        };
        let finish = StreamEvent::Finish {
            stop_reason: StopReason::EndTurn,
            usage: Usage::default(),
        };
        Box::pin(async move {
            let events = futures_util::stream::iter([Ok(event), Ok(finish)]);
            Ok(Box::pin(events) as pi_worker::llm::EventStream)
        })
    }
}

fn limits() -> ChatLimits {
    ChatLimits {
        max_turns: 10,
        max_tool_output_bytes: 100_000,
        max_guest_cpu: Duration::from_secs(60),
        max_memory_bytes: 256 << 20,
        compact_at_percent: 80,
        run: Default::default(),
    }
}

/// The medians of `rounds` samples of each closure, taken in turn.
fn medians<const N: usize>(rounds: usize, mut samples: [&mut dyn FnMut() -> Duration; N]) -> [Duration; N] {
    let mut all = [(); N].map(|_| Vec::with_capacity(rounds));
    for _ in 0..rounds {
        for (sample, times) in samples.iter_mut().zip(&mut all) {
            times.push(sample());
        }
    }
    all.map(|mut times| {
        times.sort();
        times[times.len() / 2]
    })
}

/// `rg -j1` until its 100th line (`first`), or to the end; `None` without `rg`.
fn rg(dir: &Path, pattern: &str, first: Option<usize>) -> Option<Duration> {
    let start = Instant::now();
    let mut child = Command::new("rg")
        .args(["-j1", "--hidden", "--no-require-git", "-n", pattern, "."])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let seen = lines.take(first.unwrap_or(usize::MAX)).count();
    let elapsed = start.elapsed();
    let _ = child.kill();
    child.wait().unwrap();
    assert_eq!(seen, first.unwrap_or(0), "rg found other lines than expected");
    Some(elapsed)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let files = env_or("BENCH_FILES", 10_000);
    let size = env_or("BENCH_FILE_BYTES", 10_240);
    let rounds = env_or("BENCH_ROUNDS", 7);
    let tmp = tempfile::tempdir().unwrap();
    let (db_path, blobs) = (tmp.path().join("s.sqlite"), tmp.path().join("blobs"));
    println!(
        "workspace: {files} files x {size} bytes = {} MB, plus 200 files a .gitignore leaves out",
        files * size / 1_000_000
    );

    let tree = tree(files, size);
    let mut db = SessionDb::create(&db_path, &blobs, StorageOptions::default()).unwrap();
    for chunk in tree.chunks(1000) {
        db.write(|s| {
            chunk
                .iter()
                .try_for_each(|(path, bytes)| s.worktree().write(path, bytes).map(drop))
        })
        .unwrap();
    }
    let dir = tmp.path().join("tree");
    for (path, bytes) in &tree {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    drop(tree);

    // The import alone: the paths the tool sends, searched in one call.
    let paths: Vec<String> = db
        .read(|s| s.worktree().walk("/"))
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == EntryKind::File && !e.path.starts_with("/node_modules/") && !e.path.ends_with(".log"))
        .map(|e| e.path)
        .collect();
    let options = |pattern: &str| SearchOptions {
        pattern: pattern.into(),
        literal: false,
        ignore_case: false,
        context: 0,
        max_matches: 100,
        max_line_chars: 500,
    };
    let import = |pattern: &str| {
        let start = Instant::now();
        let found = db.read(|s| search(s, &paths, &options(pattern))).unwrap();
        let elapsed = start.elapsed();
        let matches: usize = found.files.iter().map(|f| f.lines.len()).sum();
        assert_eq!(matches, if pattern == NOWHERE { 0 } else { 100 });
        elapsed
    };
    let [walk, import_full, import_first] = medians(
        rounds,
        [
            &mut || {
                let start = Instant::now();
                db.read(|s| s.worktree().walk("/")).unwrap();
                start.elapsed()
            },
            &mut || import(NOWHERE),
            &mut || import(SPARSE),
        ],
    );
    drop(db);

    // The tool through the real guest.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = runtime.enter();
    let engine = AgentEngine::new(
        pi_worker::DEFAULT_GUEST,
        &tmp.path().join("cache"),
        &Programs::new(&tmp.path().join("programs")),
        256 << 20,
    )
    .unwrap();
    let chat = |tool: &str, args: &str| {
        let model = Arc::new(OneToolCall {
            tool: tool.into(),
            args: args.into(),
            result: Mutex::new(None),
        });
        let providers = Arc::new(
            ProviderRegistry::builder("m")
                .register("bench", model.clone())
                .serve_unprefixed("bench")
                .build(),
        );
        let db = SessionDb::open(&db_path, &blobs, StorageOptions::default()).unwrap();
        let request = ChatRequest {
            message: "search".into(),
            model: None,
        };
        let start = Instant::now();
        runtime
            .block_on(run_chat(
                &engine,
                providers,
                db.into(),
                request,
                limits(),
                None,
                Default::default(),
            ))
            .reply
            .unwrap();
        let elapsed = start.elapsed();
        let result = model.result.lock().unwrap().take().unwrap();
        (elapsed, result)
    };
    let grep = |pattern: &str| format!(r#"{{"pattern":"{pattern}"}}"#);
    // The session's first chat checkpoints all its files: not what is measured here.
    chat("noop", "{}");
    let (_, out) = chat("grep", &grep(SPARSE));
    assert_eq!(out.lines().count(), 102, "{out}");
    assert!(out.ends_with("[100 matches limit reached. Use limit=200 for more, or refine pattern]"));
    assert!(!out.contains("node_modules") && !out.contains(".log"));
    let (_, out) = chat("grep", &grep(NOWHERE));
    assert_eq!(out, "No matches found");
    // ripgrep on the same files in a real directory, in the same rounds (the machine's load
    // weighs on both alike).
    let has_rg = rg(&dir, NOWHERE, None).is_some();
    let mut rg_full = || rg(&dir, NOWHERE, None).unwrap_or_default();
    let mut rg_first = || rg(&dir, SPARSE, Some(100)).unwrap_or_default();
    let [noop, full, first, rg_full, rg_first] = medians(
        rounds,
        [
            &mut || chat("noop", "{}").0,
            &mut || chat("grep", &grep(NOWHERE)).0,
            &mut || chat("grep", &grep(SPARSE)).0,
            &mut rg_full,
            &mut rg_first,
        ],
    );
    let (full_tool, first_tool) = (full.saturating_sub(noop), first.saturating_sub(noop));
    let rg_times = has_rg.then_some([rg_full, rg_first]);

    println!("medians of {rounds} rounds");
    println!(
        "walk of the workspace (storage): {:.1}ms; a chat calling a no-op tool: {:.1}ms",
        ms(walk),
        ms(noop)
    );
    println!(
        "{:<34} {:>12} {:>12} {:>12} {:>8}",
        "search", "import only", "grep tool", "rg -j1", "ratio"
    );
    for (name, import, tool, rg) in [
        ("full scan (no match)", import_full, full_tool, rg_times.map(|t| t[0])),
        ("first 100 matches", import_first, first_tool, rg_times.map(|t| t[1])),
    ] {
        let (rg, ratio) = match rg {
            Some(rg) => (
                format!("{:.1}ms", ms(rg)),
                format!("{:.2}x", tool.as_secs_f64() / rg.as_secs_f64()),
            ),
            None => ("-".into(), "-".into()),
        };
        println!(
            "{name:<34} {:>10.1}ms {:>10.1}ms {rg:>12} {ratio:>8}",
            ms(import),
            ms(tool)
        );
        // The row of `scripts/bench`'s table.
        println!(
            "| grep tool, {name}, {files} files / {} MB | {:.1} ms | rg -j1 | {rg} | {ratio} |",
            files * size / 1_000_000,
            ms(tool)
        );
    }
    if rg_times.is_none() {
        println!("rg not found on the PATH: the comparison was skipped (apt-get install ripgrep)");
    }
}

//! Runtime overhead, measured on the real guest with an in-process, zero-latency model:
//! compile and cache-load time, guest instantiation per chat, and host + guest overhead per
//! agent turn (no tool work). With `BENCH_FOREIGN_GUEST=<component.wasm>` (and optionally
//! `BENCH_FOREIGN_GUEST_NAME`), another agent is measured in the same run, beside ours.
//!
//! Run with `cargo bench -p pi-worker --bench runtime`.

#![allow(missing_docs, clippy::unwrap_used, reason = "a benchmark binary")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use pi_worker::chat::{ChatLimits, ChatRequest, new_store, run_chat};
use pi_worker::engine::AgentEngine;
use pi_worker::llm::{LlmProvider, LlmRequest, ProviderRegistry, StopReason, StreamEvent, StreamFuture};
use pi_worker::message::{ToolCall, Usage};
use pi_worker::program::Programs;
use pi_worker::storage::{SessionDb, StorageOptions};

/// Answers instantly: a tool call (to a tool that does not exist, so the tool does no work;
/// its arguments differ each turn, as the repeat guard would stop a model repeating itself)
/// until `turns` answers have been given in this chat, then a final text.
struct InstantModel {
    turns: usize,
    given: AtomicUsize,
}

impl LlmProvider for InstantModel {
    fn stream(&self, _request: LlmRequest) -> StreamFuture<'_> {
        let n = self.given.fetch_add(1, Ordering::Relaxed) + 1;
        let first = if n < self.turns {
            StreamEvent::ToolCall(ToolCall {
                id: format!("t{n}"),
                name: "noop".into(),
                // Different arguments each turn: the repeat guard stops a model repeating itself.
                arguments: format!("{{\"turn\":{n}}}"),
            })
        } else {
            self.given.store(0, Ordering::Relaxed);
            StreamEvent::TextDelta("done".into())
        };
        let finish = StreamEvent::Finish {
            stop_reason: StopReason::EndTurn,
            usage: Usage::default(),
        };
        Box::pin(async move {
            let events = futures_util::stream::iter([Ok(first), Ok(finish)]);
            Ok(Box::pin(events) as pi_worker::llm::EventStream)
        })
    }
}

fn limits() -> ChatLimits {
    ChatLimits {
        max_turns: 1000,
        max_tool_output_bytes: 100_000,
        max_guest_cpu: Duration::from_secs(60),
        max_memory_bytes: 256 << 20,
        compact_at_percent: 80,
        run: Default::default(),
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = runtime.enter();
    let mut guests = vec![("ours (Rust)".to_string(), pi_worker::DEFAULT_GUEST.to_vec())];
    // Another agent component beside ours, e.g. the JavaScript agent of examples/js-agent built
    // with componentize-js (`scripts/bench` builds it when node is installed).
    if let Ok(path) = std::env::var("BENCH_FOREIGN_GUEST") {
        let name = std::env::var("BENCH_FOREIGN_GUEST_NAME").unwrap_or_else(|_| "foreign".into());
        guests.push((name, std::fs::read(&path).unwrap()));
    }
    println!("| guest | component | compile | load from cache | instantiate | chat of 1 turn | per agent turn |");
    println!("|---|---|---|---|---|---|---|");
    for (name, wasm) in &guests {
        measure(&runtime, name, wasm);
    }
}

/// Prints one row: `wasm`'s size, compile and cache-load times, instantiation per chat, and the
/// cost of a chat of one turn and of each further turn.
fn measure(runtime: &tokio::runtime::Runtime, name: &str, wasm: &[u8]) {
    let tmp = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let engine = AgentEngine::new(
        wasm,
        &tmp.path().join("cache"),
        &Programs::new(&tmp.path().join("programs")),
        256 << 20,
    )
    .unwrap();
    let cold = started.elapsed();
    let started = Instant::now();
    let engine_again = AgentEngine::new(
        wasm,
        &tmp.path().join("cache"),
        &Programs::new(&tmp.path().join("programs")),
        256 << 20,
    )
    .unwrap();
    let warm = started.elapsed();
    drop(engine_again);

    let open = |name: &str| {
        let path = tmp.path().join(format!("{name}.sqlite"));
        if path.exists() {
            SessionDb::open(&path, &tmp.path().join("blobs"), StorageOptions::default()).unwrap()
        } else {
            SessionDb::create(&path, &tmp.path().join("blobs"), StorageOptions::default()).unwrap()
        }
    };

    // Instantiation: a new store and instance per chat, as the server does.
    let iterations = 500;
    let providers = Arc::new(ProviderRegistry::builder("m").build());
    drop(open("instantiate"));
    let mut instance_only = Duration::ZERO;
    for _ in 0..iterations {
        let db = open("instantiate");
        let mut store = new_store(
            &engine,
            providers.clone(),
            db.into(),
            limits(),
            None,
            Default::default(),
        );
        let t1 = Instant::now();
        let instance = runtime.block_on(engine.pre().instantiate_async(&mut store)).unwrap();
        instance_only += t1.elapsed();
        std::hint::black_box(instance);
    }
    let instantiate = instance_only / iterations;

    // Per-turn overhead: chats of 1 and of 21 turns; the difference over 20 is the cost of a turn.
    let time_chat = |turns: usize, name: &str| {
        let model = Arc::new(InstantModel {
            turns,
            given: AtomicUsize::new(0),
        });
        let providers = Arc::new(
            ProviderRegistry::builder("m")
                .register("bench", model)
                .serve_unprefixed("bench")
                .build(),
        );
        let request = ChatRequest {
            message: "go".into(),
            model: None,
        };
        let t0 = Instant::now();
        let reply = runtime.block_on(run_chat(
            &engine,
            providers,
            open(name).into(),
            request,
            limits(),
            None,
            Default::default(),
        ));
        let elapsed = t0.elapsed();
        assert_eq!(reply.reply.unwrap().tool_calls.len(), turns - 1);
        elapsed
    };
    let rounds = 20;
    let (mut one, mut many) = (Duration::ZERO, Duration::ZERO);
    for round in 0..rounds {
        // A fresh conversation each round, so history length is the same every time.
        one += time_chat(1, &format!("one-{round}"));
        many += time_chat(21, &format!("many-{round}"));
    }
    let (one, many) = (one / rounds, many / rounds);
    println!(
        "| {name} | {:.1} MB | {cold:.2?} | {warm:.2?} | {:.0} µs | {:.0} µs | {:.0} µs |",
        wasm.len() as f64 / 1e6,
        instantiate.as_secs_f64() * 1e6,
        one.as_secs_f64() * 1e6,
        (many - one).as_secs_f64() * 1e6 / 20.0
    );
}

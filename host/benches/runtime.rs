//! Runtime overhead, measured on the real guest with an in-process, zero-latency model:
//! guest instantiation per chat, and host + guest overhead per agent turn (no tool work).
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
    let tmp = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = runtime.enter();

    let started = Instant::now();
    let engine = AgentEngine::new(pi_worker::DEFAULT_GUEST, &tmp.path().join("cache"), 256 << 20).unwrap();
    let cold = started.elapsed();
    let started = Instant::now();
    let engine_again = AgentEngine::new(pi_worker::DEFAULT_GUEST, &tmp.path().join("cache"), 256 << 20).unwrap();
    let warm = started.elapsed();
    drop(engine_again);
    println!("guest start-up: compile {cold:.2?}, load from cache {warm:.2?}");

    let open = |name: &str| {
        let path = tmp.path().join(format!("{name}.sqlite"));
        if path.exists() {
            SessionDb::open(&path, &tmp.path().join("blobs"), StorageOptions::default()).unwrap()
        } else {
            SessionDb::create(&path, &tmp.path().join("blobs"), StorageOptions::default()).unwrap()
        }
    };

    // Instantiation: a new store and instance per chat, as the server does.
    let iterations = 2000;
    let providers = Arc::new(ProviderRegistry::builder("m").build());
    let db_path_session = "instantiate";
    drop(open(db_path_session));
    let mut store_and_instance = Duration::ZERO;
    let mut instance_only = Duration::ZERO;
    for _ in 0..iterations {
        let db = open(db_path_session);
        let t0 = Instant::now();
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
        let t2 = Instant::now();
        std::hint::black_box(instance);
        drop(store);
        store_and_instance += t2 - t0;
        instance_only += t2 - t1;
    }
    println!(
        "instantiate guest: {:.1} µs (store + instance {:.1} µs), mean of {iterations}",
        instance_only.as_secs_f64() * 1e6 / iterations as f64,
        store_and_instance.as_secs_f64() * 1e6 / iterations as f64
    );

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
        let engine = &engine;
        let db = open(name);
        let request = ChatRequest {
            message: "go".into(),
            model: None,
        };
        let t0 = Instant::now();
        let reply = runtime.block_on(run_chat(
            engine,
            providers,
            db.into(),
            request,
            limits(),
            None,
            Default::default(),
        ));
        let elapsed = t0.elapsed();
        assert_eq!(reply.reply.unwrap().tool_calls.len(), turns - 1);
        elapsed
    };
    let rounds = 50;
    let (mut one, mut many) = (Duration::ZERO, Duration::ZERO);
    for round in 0..rounds {
        // A fresh conversation each round, so history length is the same every time.
        one += time_chat(1, &format!("one-{round}"));
        many += time_chat(21, &format!("many-{round}"));
    }
    let one = one / rounds;
    let many = many / rounds;
    println!(
        "chat of 1 turn: {:.0} µs; chat of 21 turns: {:.0} µs",
        one.as_secs_f64() * 1e6,
        many.as_secs_f64() * 1e6
    );
    println!(
        "overhead per agent turn: {:.0} µs",
        (many - one).as_secs_f64() * 1e6 / 20.0
    );
}

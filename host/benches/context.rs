//! What crosses the component boundary per chat on a long session, with and without compaction:
//! the conversation the guest reads (`session.history`) and the messages it sends the model
//! (`llm.complete`), in bytes of message text, on a session of 500 messages, measured on the real
//! guest with an in-process model. "Without" is a context window too large to ever compact,
//! which is what every chat did before compaction existed.
//!
//! Run with `cargo bench -p pi-worker --bench context`; `BENCH_MESSAGES` (default 500) and
//! `BENCH_WINDOW` (tokens, default 16000) change the session and the window.

#![allow(missing_docs, clippy::unwrap_used, reason = "a benchmark binary")]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pi_worker::chat::{ChatLimits, ChatRequest, run_chat};
use pi_worker::engine::AgentEngine;
use pi_worker::llm::{
    ContextWindows, LlmProvider, LlmRequest, ProviderRegistry, StopReason, StreamEvent, StreamFuture,
};
use pi_worker::message::{ContentBlock, Message, Role, ToolCall, Usage};
use pi_worker::program::Programs;
use pi_worker::storage::conversation::RecordEntry;
use pi_worker::storage::{SessionDb, StorageOptions};

/// Bytes of text in a message: its texts, tool calls and tool results.
fn message_bytes(message: &Message) -> usize {
    message
        .content
        .iter()
        .map(|block| match block {
            ContentBlock::Text { text } => text.len(),
            ContentBlock::ToolCall(c) => c.id.len() + c.name.len() + c.arguments.len(),
            ContentBlock::ToolResult(r) => r.call_id.len() + r.content.len(),
        })
        .sum()
}

/// Reads `page.txt` when asked anything, then says so; summarises when asked to. Reports each
/// prompt's size as its bytes ÷ 4, and records the bytes of every request's messages.
#[derive(Default)]
struct ReadingModel {
    requests: Mutex<Vec<usize>>,
}

impl LlmProvider for ReadingModel {
    fn stream(&self, request: LlmRequest) -> StreamFuture<'_> {
        let bytes: usize = request.messages.iter().map(message_bytes).sum();
        self.requests.lock().unwrap().push(bytes);
        let last = request.messages.last().unwrap();
        let answered_tool = last.content.iter().any(|b| matches!(b, ContentBlock::ToolResult(_)));
        let first = if request.system.contains("working memory") {
            StreamEvent::TextDelta("## Goal\n- Read page.txt when asked.\n## Files\n- page.txt".into())
        } else if answered_tool || last.role == Role::Assistant {
            StreamEvent::TextDelta("Read it.".into())
        } else {
            StreamEvent::ToolCall(ToolCall {
                id: format!("t{bytes}"),
                name: "read".into(),
                arguments: "{\"path\":\"page.txt\"}".into(),
            })
        };
        let finish = StreamEvent::Finish {
            stop_reason: StopReason::EndTurn,
            usage: Usage {
                input_tokens: (bytes + request.system.len() + 12_000) as u64 / 4,
                ..Usage::default()
            },
        };
        Box::pin(async move {
            let events = futures_util::stream::iter([Ok(first), Ok(finish)]);
            Ok(Box::pin(events) as pi_worker::llm::EventStream)
        })
    }
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// One measured chat.
struct Measured {
    history_bytes: usize,
    request_bytes: Vec<usize>,
    elapsed: Duration,
}

fn main() {
    let messages = env_or("BENCH_MESSAGES", 500);
    let window = env_or("BENCH_WINDOW", 16_000);
    let tmp = tempfile::tempdir().unwrap();
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
    let limits = ChatLimits {
        max_turns: 10,
        max_tool_output_bytes: 100_000,
        max_guest_cpu: Duration::from_secs(60),
        max_memory_bytes: 256 << 20,
        compact_at_percent: 80,
        run: Default::default(),
    };
    let page = "All work and no play makes a dull log line. ".repeat(70);

    let mut results = Vec::new();
    for (name, tokens) in [("without compaction", 1_000_000_000), ("with compaction", window)] {
        let model = Arc::new(ReadingModel::default());
        let providers = Arc::new(
            ProviderRegistry::builder("m")
                .register("bench", model.clone())
                .serve_unprefixed("bench")
                .context_windows(ContextWindows {
                    all_models: Some(tokens),
                    per_model: Vec::new(),
                })
                .build(),
        );
        let path = tmp.path().join(format!("{tokens}.sqlite"));
        let blobs = tmp.path().join("blobs");
        let mut db = SessionDb::create(&path, &blobs, StorageOptions::default()).unwrap();
        db.write(|s| s.worktree().write("page.txt", page.as_bytes())).unwrap();
        drop(db);
        let chat = |n: u64| -> Measured {
            let db = SessionDb::open(&path, &blobs, StorageOptions::default()).unwrap();
            let view = db.read(|s| s.conversation().view()).unwrap();
            let history_bytes = view
                .iter()
                .map(|row| match &row.entry {
                    RecordEntry::Message(m) => message_bytes(m),
                    RecordEntry::Compaction(c) => c.summary.len(),
                    RecordEntry::Revert { .. } => 0,
                })
                .sum();
            let before = model.requests.lock().unwrap().len();
            let request = ChatRequest {
                message: format!("chat {n}: please read page.txt"),
                model: None,
            };
            let started = Instant::now();
            runtime
                .block_on(run_chat(
                    &engine,
                    providers.clone(),
                    db.into(),
                    request,
                    limits,
                    None,
                    Default::default(),
                ))
                .reply
                .unwrap();
            Measured {
                history_bytes,
                request_bytes: model.requests.lock().unwrap()[before..].to_vec(),
                elapsed: started.elapsed(),
            }
        };
        // Four messages a chat: the question, the call, its result, the answer.
        for n in 1..=messages / 4 {
            chat(n);
        }
        let measured: Vec<Measured> = (0..20).map(|i| chat(messages / 4 + 1 + i)).collect();
        let db = SessionDb::open(&path, &blobs, StorageOptions::default()).unwrap();
        let stored = db.read(|s| s.conversation().count()).unwrap();
        let compactions = db.read(|s| s.conversation().compactions()).unwrap();
        results.push((name, measured, stored, compactions));
    }

    println!(
        "session of {messages} messages, then 20 more chats; window {window} tokens, page.txt {} bytes",
        page.len()
    );
    for (name, measured, stored, compactions) in &results {
        let chats = measured.len();
        let history: usize = measured.iter().map(|m| m.history_bytes).sum::<usize>() / chats;
        let calls: Vec<usize> = measured.iter().flat_map(|m| m.request_bytes.iter().copied()).collect();
        let requests: usize = calls.iter().sum::<usize>() / chats;
        let per_call = calls.iter().sum::<usize>() / calls.len();
        let elapsed = measured.iter().map(|m| m.elapsed).sum::<Duration>() / chats as u32;
        println!(
            "{name:>20}: per chat {:>8} B across (history {history:>7} B + model requests {requests:>7} B over {:.1} calls, {per_call} B a call); {elapsed:.2?} a chat; {stored} rows stored, {compactions} compactions",
            history + requests,
            calls.len() as f64 / chats as f64,
        );
    }
}

//! Managing large sessions through the chat service, as the HTTP routes do: fork, fork at a
//! message, revert, the checkpoint each agent turn records, and the disk a thousand checkpoints
//! take. The session holds 10,000 files / 100 MB.
//!
//! Run with `cargo bench -p pi-worker --bench sessions` (`BENCH_FILES` / `BENCH_FILE_BYTES` to
//! resize, `BENCH_CHECKPOINTS` for the number of checkpoints).

#![allow(missing_docs, clippy::unwrap_used, reason = "a benchmark binary")]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pi_worker::config::ServerConfig;
use pi_worker::git::Repo;
use pi_worker::message::{ContentBlock, Message, Role};
use pi_worker::seed::Template;
use pi_worker::service::{ChatService, ServiceError, SessionSetup};
use pi_worker::sessions::SessionId;
use pi_worker::tenants::Tenant;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn contents(i: usize, v: usize, len: usize) -> Vec<u8> {
    let line = format!("file {i} version {v} ");
    line.bytes().cycle().take(len).collect()
}

fn path(i: usize) -> String {
    format!("dir{:03}/sub{}/file{i:05}.txt", i % 100, i % 7)
}

async fn time<T>(f: impl Future<Output = T>) -> (T, Duration) {
    let start = Instant::now();
    let out = f.await;
    (out, start.elapsed())
}

/// One agent turn: a message appended and its checkpoint recorded, as `session.append` does.
async fn turn(service: &Arc<ChatService>, id: &SessionId, text: &str) {
    let message = Message {
        role: Role::User,
        content: vec![ContentBlock::Text { text: text.into() }],
    };
    service
        .write(id, move |s| {
            let seq = s.conversation().append(&[message.into()])?;
            Repo::new(s).record_checkpoint(seq)?;
            Ok::<_, ServiceError>(())
        })
        .await
        .unwrap();
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    let meta = e.metadata().unwrap();
                    if meta.is_dir() {
                        dir_bytes(&e.path())
                    } else {
                        meta.len()
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

fn main() {
    let files = env_or("BENCH_FILES", 10_000);
    let size = env_or("BENCH_FILE_BYTES", 10_240);
    let checkpoints = env_or("BENCH_CHECKPOINTS", 1_000);
    let tmp = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        data_dir: tmp.path().join("data"),
        cache_dir: tmp.path().join("cache"),
        guests: Vec::new(),
        programs: Vec::new(),
        storage: Default::default(),
        chat: pi_worker::chat::ChatLimits {
            max_turns: 50,
            max_tool_output_bytes: 100_000,
            max_guest_cpu: Duration::from_secs(60),
            max_memory_bytes: 256 << 20,
            compact_at_percent: 80,
            run: Default::default(),
        },
        max_body_bytes: 1 << 20,
        max_upload_bytes: 256 << 20,
        max_concurrent_chats: 4,
        import: Default::default(),
        llm: pi_worker::llm::LlmConfig::from_vars(&Default::default()).unwrap(),
        token: None,
        tokens_file: None,
        notify_secret: None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let state = tokio::task::block_in_place(|| pi_worker::server::build_state(config)).unwrap();
        let service = state.service.clone();
        let owner = Tenant::default_tenant();
        let id = service.create_session(&owner, Template::Empty, SessionSetup::default()).await.unwrap();
        service
            .write(&id, move |s| {
                for i in 0..files {
                    s.worktree().write(&path(i), &contents(i, 0, size))?;
                }
                Ok::<_, ServiceError>(())
            })
            .await
            .unwrap();
        println!("session: {files} files x {size} bytes = {} MB", files * size / 1_000_000);

        // Agent turns: each changes one file and records a checkpoint.
        let data = tmp.path().join("data");
        let db_path = data.join(format!("sessions/{id}.sqlite"));
        let before = std::fs::metadata(&db_path).unwrap().len() + dir_bytes(&data.join("blobs"));
        let mut turn_times = Vec::new();
        for t in 0..checkpoints {
            let i = t % files;
            service
                .write(&id, move |s| s.worktree().write(&path(i), &contents(i, t + 1, size)).map(drop))
                .await
                .unwrap();
            let ((), took) = time(turn(&service, &id, &format!("turn {t}"))).await;
            turn_times.push(took);
        }
        turn_times.sort();
        let median = turn_times[turn_times.len() / 2];
        let grown = std::fs::metadata(&db_path).unwrap().len() + dir_bytes(&data.join("blobs")) - before;
        let contents_written = (checkpoints * size) as u64;
        println!(
            "{checkpoints} turns: checkpoint per turn median {median:.2?}; the session grew {:.1} MB, of which {:.1} MB the changed files' contents: {:.1} KB of trees and rows per checkpoint",
            grown as f64 / 1e6,
            contents_written as f64 / 1e6,
            grown.saturating_sub(contents_written) as f64 / checkpoints as f64 / 1e3
        );

        let (forked, took) = time(service.fork(&id, None, &owner)).await;
        forked.unwrap();
        println!("fork, whole session: {took:.2?}");
        let (forked, took) = time(service.fork(&id, Some(checkpoints as u64 / 2), &owner)).await;
        forked.unwrap();
        println!("fork at message {}: {took:.2?}", checkpoints / 2);
        let (reverted, took) = time(service.revert(&id, checkpoints as u64 / 2)).await;
        reverted.unwrap();
        println!("revert to message {} ({} files differ): {took:.2?}", checkpoints / 2, checkpoints / 2);
        let (reverted, took) = time(service.revert(&id, 1)).await;
        reverted.unwrap();
        println!("revert to message 1 ({} files differ): {took:.2?}", checkpoints - 1);
    });
}

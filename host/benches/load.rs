//! Load: N sessions × 1 chat of 3 model calls, all at once, against a fake model (Anthropic's
//! wire format) that answers after a fixed delay; the real `pi-worker` binary with its default
//! settings in between.
//!
//! Prints, for each N and delay, rows of the benchmark table (`| what | pi-worker | reference |
//! reference's figure | ratio |`): the total time against the ideal (3 × delay: every chat only
//! waits), with p50/p99 chat latency and the server's peak resident memory; chats per second at
//! delay 0; the server's memory per chat in flight and per idle session.
//!
//! Run with `cargo bench -p pi-worker --bench load`. `LOAD_SESSIONS` (default `100,1000,10000`)
//! and `LOAD_DELAYS_MS` (default `1000,0`) choose the runs; `LOAD_SERVER_ARGS` adds flags.
//!
//! The client speaks HTTP/2 (prior knowledge) to the server, so 10,000 chats in flight are
//! 10,000 streams on 100 connections (100 streams each, within servers' usual limits) rather
//! than 10,000 sockets; the server's calls to the
//! model are plain HTTP/1.1, one connection each, as to a real provider without HTTP/2. The fake
//! model runs in its own process (this binary with `LOAD_ROLE=fake`), so neither side's
//! descriptor limit is shared.

#![allow(missing_docs, clippy::unwrap_used, reason = "a benchmark binary")]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::response::Response;
use serde_json::{Value, json};

fn env_list(name: &str, default: &str) -> Vec<u64> {
    std::env::var(name)
        .unwrap_or_else(|_| default.into())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect()
}

fn main() {
    if std::env::var("LOAD_ROLE").as_deref() == Ok("fake") {
        return fake_model();
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sessions = env_list("LOAD_SESSIONS", "100,1000,10000");
    let delays = env_list("LOAD_DELAYS_MS", "1000,0");
    for &delay in &delays {
        for &n in &sessions {
            runtime.block_on(run(n as usize, Duration::from_millis(delay)));
        }
    }
}

/// The fake model: three answers per chat, told apart by the tool results in the request (two
/// tool calls, then text), each after the delay.
fn fake_model() {
    let delay = Duration::from_millis(std::env::var("LOAD_DELAY_MS").unwrap().parse().unwrap());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async move {
        let app = axum::Router::new().route(
            "/v1/messages",
            axum::routing::post(move |body: Bytes| async move {
                let body: Value = serde_json::from_slice(&body).unwrap();
                let results = body["messages"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|m| m["content"].to_string().contains("tool_result"))
                    .count();
                tokio::time::sleep(delay).await;
                answer(results)
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("{}", listener.local_addr().unwrap());
        axum::serve(listener, app).await.unwrap();
    });
}

/// An Anthropic SSE answer: `ls` of the root, then of `/.`, then "done".
fn answer(results: usize) -> Response {
    let usage = json!({ "input_tokens": 1000, "output_tokens": 10 });
    let mut events = vec![json!({ "type": "message_start", "message": {
        "id": "msg", "type": "message", "role": "assistant", "model": "fake", "content": [],
        "stop_reason": null, "usage": usage } })];
    let stop = if results < 2 {
        let input = json!({ "path": if results == 0 { "/" } else { "/." } }).to_string();
        events.push(json!({ "type": "content_block_start", "index": 0, "content_block": {
            "type": "tool_use", "id": format!("toolu_{results}"), "name": "ls", "input": {} } }));
        events.push(json!({ "type": "content_block_delta", "index": 0, "delta": {
            "type": "input_json_delta", "partial_json": input } }));
        "tool_use"
    } else {
        events.push(
            json!({ "type": "content_block_start", "index": 0, "content_block": { "type": "text", "text": "" } }),
        );
        events.push(
            json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "text_delta", "text": "done" } }),
        );
        "end_turn"
    };
    events.push(json!({ "type": "content_block_stop", "index": 0 }));
    events.push(json!({ "type": "message_delta", "delta": { "stop_reason": stop }, "usage": { "output_tokens": 10 } }));
    events.push(json!({ "type": "message_stop" }));
    let body: String = events
        .iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap()))
        .collect();
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from(body))
        .unwrap()
}

/// Kills a child process when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Resident memory of a process, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn run(n: usize, delay: Duration) {
    let mut fake = Command::new(std::env::current_exe().unwrap())
        .env("LOAD_ROLE", "fake")
        .env("LOAD_DELAY_MS", delay.as_millis().to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(fake.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _fake = Killed(fake);
    let data = tempfile::tempdir().unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let extra: Vec<String> = std::env::var("LOAD_SERVER_ARGS")
        .unwrap_or_default()
        .split_whitespace()
        .map(String::from)
        .collect();
    let server = Command::new(env!("CARGO_BIN_EXE_pi-worker"))
        .args(["serve", "--addr", &addr, "--data"])
        .arg(data.path())
        .args(&extra)
        .env("ANTHROPIC_API_KEY", "load")
        .env("ANTHROPIC_BASE_URL", format!("http://{}", line.trim()))
        .env("PI_WORKER_LOG", "pi_worker=warn")
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .current_dir(data.path())
        .spawn()
        .unwrap();
    let pid = server.id();
    let _server = Killed(server);
    // One HTTP/2 connection per client; one client per 100 chats.
    let clients: Vec<reqwest::Client> = (0..n.div_ceil(100))
        .map(|_| {
            reqwest::Client::builder()
                .http2_prior_knowledge()
                .timeout(Duration::from_secs(600))
                .build()
                .unwrap()
        })
        .collect();
    let client = clients[0].clone();
    let base = format!("http://{addr}");
    while client.get(format!("{base}/health")).send().await.is_err() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let empty = rss(pid);
    // Sessions first (64 at a time), so the measurement is the chats alone.
    let ids: Vec<String> = futures_util::StreamExt::collect::<Vec<_>>(futures_util::StreamExt::buffer_unordered(
        futures_util::stream::iter((0..n).map(|_| {
            let (client, base) = (client.clone(), base.clone());
            async move {
                let created: Value = client
                    .post(format!("{base}/session/new"))
                    .header("content-type", "application/json")
                    .body(json!({ "template": "empty" }).to_string())
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .map(|b| serde_json::from_slice(&b).unwrap())
                    .unwrap();
                created["sessionId"].as_str().unwrap().to_string()
            }
        })),
        64,
    ))
    .await;
    let idle = rss(pid);
    let peak = Arc::new(AtomicU64::new(idle));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let started = Instant::now();
    let chats: Vec<_> = ids
        .into_iter()
        .enumerate()
        .map(|(i, id)| {
            let (client, base) = (clients[i % clients.len()].clone(), base.clone());
            tokio::spawn(async move {
                let t0 = Instant::now();
                let response = client
                    .post(format!("{base}/session/{id}/chat"))
                    .header("content-type", "application/json")
                    .body(json!({ "message": "list the workspace twice" }).to_string())
                    .send()
                    .await
                    .unwrap();
                let status = response.status();
                let body = response.bytes().await.unwrap_or_default();
                let body: Value = serde_json::from_slice(&body).unwrap_or_default();
                assert!(
                    status == 200 && body["toolCalls"].as_array().map(Vec::len) == Some(2),
                    "{status}: {body}"
                );
                t0.elapsed()
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(n);
    for chat in chats {
        latencies.push(chat.await.unwrap());
    }
    let total = started.elapsed();
    done.store(true, Ordering::Relaxed);
    sampler.await.unwrap();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    let peak = peak.load(Ordering::Relaxed);
    let ideal = delay * 3;
    let detail = format!(
        "p50 {:.2} s, p99 {:.2} s, server peak RSS {:.0} MiB",
        at(0.5).as_secs_f64(),
        at(0.99).as_secs_f64(),
        peak as f64 / (1 << 20) as f64
    );
    if ideal.is_zero() {
        println!(
            "| {n} chats at once × 3 model calls, model answers at once ({detail}) | {:.2} s, {:.0} chats/s | — | — | — |",
            total.as_secs_f64(),
            n as f64 / total.as_secs_f64(),
        );
    } else {
        println!(
            "| {n} chats at once × 3 model calls of {} ms ({detail}) | {:.2} s | ideal | {:.2} s | {:.2}× |",
            delay.as_millis(),
            total.as_secs_f64(),
            ideal.as_secs_f64(),
            total.as_secs_f64() / ideal.as_secs_f64(),
        );
        let per_chat = peak.saturating_sub(idle) as f64 / n as f64 / 1024.0;
        println!(
            "| memory per chat waiting for the model ({n} at once) | {per_chat:.0} KiB | target | 1024 KiB | {:.2}× |",
            per_chat / 1024.0
        );
    }
    println!(
        "| memory per idle session ({n} sessions) | {:.1} KiB | — | — | — |",
        idle.saturating_sub(empty) as f64 / n as f64 / 1024.0
    );
}

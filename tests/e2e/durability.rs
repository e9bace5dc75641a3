//! Crash safety and concurrency: SIGKILL in the middle of chats loses no acknowledged write and
//! corrupts nothing; chats on one session run one after the other; hundreds of sessions at once.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Api, Block, FakeLlm, Provider, Reply, Server, ServerOptions, git};

crate::support::on_each_provider!(
    a_client_hanging_up_frees_nothing_early,
    sigterm_lets_in_flight_chats_finish,
    sigkill_mid_chat_loses_no_acknowledged_write,
    chats_on_one_session_take_turns,
    hundreds_of_sessions_chat_at_once
);

/// "write NAME" → write NAME.txt, stage it and commit it, in one answer; tool results → "done".
/// Reads either wire format: the user's text is a string (OpenAI) or a text block (Anthropic).
fn write_and_commit(body: &Value) -> Reply {
    let last = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .cloned()
        .unwrap_or_default();
    let text = if last["role"] == "user" {
        last["content"].as_str().or(last["content"][0]["text"].as_str())
    } else {
        None
    };
    match text.and_then(|t| t.strip_prefix("write ")) {
        Some(name) => Reply::Answer(vec![
            Block::Tool {
                name: "write".into(),
                input: json!({ "path": format!("{name}.txt"), "content": format!("{name}\n") }),
            },
            Block::Tool {
                name: "git_add".into(),
                input: json!({ "paths": [format!("{name}.txt")] }),
            },
            Block::Tool {
                name: "git_commit".into(),
                input: json!({ "message": name }),
            },
        ]),
        None => Reply::text("done"),
    }
}

async fn sigkill_mid_chat_loses_no_acknowledged_write(p: Provider) {
    let fake = FakeLlm::with_responder(write_and_commit).await;
    let mut server = Server::start(ServerOptions {
        llm_url: Some(fake.url.clone()),
        provider: p,
        ..ServerOptions::default()
    });
    let api = Arc::new(Api::new(&server.url));
    let mut sessions = Vec::new();
    for _ in 0..4 {
        sessions.push(api.new_session().await);
    }
    let acknowledged: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let mut workers = Vec::new();
    for s in &sessions {
        let (api, s, acknowledged) = (api.clone(), s.clone(), acknowledged.clone());
        workers.push(tokio::spawn(async move {
            for i in 0.. {
                let name = format!("file-{i}");
                match api.try_chat(&s, &format!("write {name}")).await {
                    Ok((200, _)) => acknowledged.lock().unwrap().push((s.clone(), name)),
                    _ => break,
                }
            }
        }));
    }
    let started = Instant::now();
    while acknowledged.lock().unwrap().len() < 40 && started.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Chats are in flight on every session right now.
    server.kill();
    for worker in workers {
        let _ = worker.await;
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 40,
        "only {} chats finished before the deadline",
        acknowledged.len()
    );

    for db in std::fs::read_dir(server.data_dir().join("sessions")).unwrap() {
        let path = db.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) == Some("sqlite") {
            let conn = rusqlite::Connection::open(&path).unwrap();
            let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
            assert_eq!(check, "ok", "{}", path.display());
        }
    }

    server.start_again();
    let api = Api::new(&server.url);
    let clones = tempfile::tempdir().unwrap();
    let mut lost = 0;
    for s in &sessions {
        let dir = clones.path().join(s);
        git(
            clones.path(),
            &["clone", "--quiet", &format!("{}/session/{s}/git", server.url), s],
        );
        git(&dir, &["fsck", "--full", "--strict"]);
        let log = git(&dir, &["log", "--format=%s"]);
        for (_, name) in acknowledged.iter().filter(|(session, _)| session == s) {
            let file = std::fs::read_to_string(dir.join(format!("{name}.txt"))).unwrap_or_default();
            if file != format!("{name}\n") || !log.lines().any(|l| l == name) {
                lost += 1;
            }
        }
        // The session keeps working after the crash.
        let (status, body) = api.chat(s, "write after-restart").await;
        assert_eq!(status, 200, "{body}");
    }
    eprintln!(
        "crash test ({p:?}): {} sessions, {} acknowledged chats (write + add + commit each) checked, {lost} lost",
        sessions.len(),
        acknowledged.len()
    );
    assert_eq!(lost, 0);
}

async fn chats_on_one_session_take_turns(p: Provider) {
    let fake = FakeLlm::with_responder(write_and_commit).await;
    let server = Server::start(ServerOptions {
        llm_url: Some(fake.url.clone()),
        provider: p,
        ..ServerOptions::default()
    });
    let api = Api::new(&server.url);
    let s = api.new_session().await;
    let (a, b) = tokio::join!(api.chat(&s, "write first"), api.chat(&s, "write second"));
    assert_eq!((a.0, b.0), (200, 200));
    let (_, body) = api.get(&format!("/session/{s}/messages")).await;
    let kinds: Vec<String> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{}:{}",
                m["role"].as_str().unwrap(),
                m["content"][0]["type"].as_str().unwrap()
            )
        })
        .collect();
    let one_chat = ["user:text", "assistant:toolCall", "user:toolResult", "assistant:text"];
    assert_eq!(kinds, [one_chat, one_chat].concat(), "chats interleaved: {kinds:?}");
}

async fn sigterm_lets_in_flight_chats_finish(p: Provider) {
    let fake = FakeLlm::start(vec![
        Reply::tool("write", json!({ "path": "during-shutdown.txt", "content": "kept" })),
        Reply::Slow(Duration::from_millis(700), Box::new(Reply::text("finished"))),
    ])
    .await;
    let mut server = Server::start(ServerOptions {
        llm_url: Some(fake.url.clone()),
        provider: p,
        ..ServerOptions::default()
    });
    let api = Api::new(&server.url);
    let s = api.new_session().await;
    let chat = tokio::spawn({
        let api = Api::new(&server.url);
        let s = s.clone();
        async move { api.try_chat(&s, "work slowly").await }
    });
    while fake.received().len() < 2 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The model is still answering; the server is asked to stop.
    let exited_cleanly = tokio::task::spawn_blocking(move || {
        let ok = server.terminate();
        (ok, server)
    });
    let (status, body) = chat.await.unwrap().unwrap();
    assert_eq!((status, body["response"].as_str()), (200, Some("finished")), "{body}");
    let (ok, mut server) = exited_cleanly.await.unwrap();
    assert!(ok, "the server exits with success after a graceful shutdown");
    server.start_again();
    let api = Api::new(&server.url);
    assert_eq!(api.info(&s).await["fileCount"], 6);
}

async fn a_client_hanging_up_frees_nothing_early(p: Provider) {
    let fake = FakeLlm::start(vec![
        Reply::tool("write", json!({ "path": "first.txt", "content": "1" })),
        Reply::Slow(Duration::from_millis(600), Box::new(Reply::text("first done"))),
        Reply::text("second done"),
        Reply::text("third done"),
    ])
    .await;
    let options = ServerOptions {
        llm_url: Some(fake.url.clone()),
        provider: p,
        args: vec!["--max-chats".into(), "1".into()],
        ..ServerOptions::default()
    };
    let server = Server::start(options);
    let api = Api::new(&server.url);
    let s = api.new_session().await;
    api.chat_and_hang_up(&s, "first", Duration::from_millis(300)).await;
    // The first chat is still running: the second waits for it, on the session and for the slot.
    let patience = Duration::from_secs(20);
    let (status, body) = tokio::time::timeout(patience, api.chat(&s, "second"))
        .await
        .expect("the second chat hung");
    assert_eq!(
        (status, body["response"].as_str()),
        (200, Some("second done")),
        "{body}"
    );
    let (_, history) = api.get(&format!("/session/{s}/messages")).await;
    let texts: Vec<String> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["content"][0]["text"].as_str().map(str::to_string))
        .collect();
    assert_eq!(texts, ["first", "first done", "second", "second done"]);
    // The slot came back: with one slot, another chat (on another session) still runs.
    let other = api.new_session().await;
    let third = tokio::time::timeout(patience, api.chat(&other, "third")).await;
    assert_eq!(
        third.expect("the chat slot leaked: the third chat never started").0,
        200
    );
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn hundreds_of_sessions_chat_at_once(p: Provider) {
    const SESSIONS: usize = 200;
    let fake = FakeLlm::with_responder(write_and_commit).await;
    let server = Server::start(ServerOptions {
        llm_url: Some(fake.url.clone()),
        provider: p,
        ..ServerOptions::default()
    });
    let api = Arc::new(Api::new(&server.url));
    let mut sessions = Vec::new();
    for _ in 0..SESSIONS {
        sessions.push(api.new_session().await);
    }
    let started = Instant::now();
    let chats: Vec<_> = sessions
        .iter()
        .map(|s| {
            let (api, s) = (api.clone(), s.clone());
            tokio::spawn(async move { api.chat(&s, "write hello").await.0 })
        })
        .collect();
    for chat in chats {
        assert_eq!(chat.await.unwrap(), 200);
    }
    let elapsed = started.elapsed();
    for s in sessions.iter().step_by(20) {
        let info = api.info(s).await;
        assert_eq!(info["fileCount"], 6, "{info}");
    }
    eprintln!(
        "concurrency test ({p:?}): {SESSIONS} sessions, {SESSIONS} chats (3 tool calls each) at once in {elapsed:.2?}, peak RSS {} MiB",
        peak_rss_kib(server.pid()) / 1024
    );
}

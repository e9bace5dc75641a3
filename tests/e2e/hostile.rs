//! A guest that traps, spins or hoards memory ends its own chat with an error and harms no one.

use std::time::Instant;

use serde_json::json;

use crate::support::{Api, Server, ServerOptions};

fn hostile_server() -> Server {
    hostile_server_with(&["--guest-cpu-secs", "1", "--memory-mib", "64"])
}

/// The server running the hostile guest, with `args` added.
pub(crate) fn hostile_server_with(args: &[&str]) -> Server {
    let mut all = vec!["--guest".to_string(), env!("PI_WORKER_HOSTILE_GUEST_WASM").to_string()];
    all.extend(args.iter().map(|a| a.to_string()));
    Server::start(ServerOptions {
        llm_url: None,
        args: all,
        ..ServerOptions::default()
    })
}

#[tokio::test]
async fn a_trap_ends_the_chat_keeps_its_writes_and_the_next_chat_works() {
    let server = hostile_server();
    let api = Api::new(&server.url);
    let s = api.new_session().await;
    let (status, body) = api.chat(&s, "trap").await;
    assert_eq!(status, 500, "{body}");
    assert!(
        body["error"].as_str().unwrap().starts_with("the agent crashed"),
        "{body}"
    );

    let (status, body) = api.chat(&s, "write-then-trap").await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(api.info(&s).await["fileCount"], 6);

    let (status, body) = api.chat(&s, "hello").await;
    assert_eq!((status, body["response"].as_str()), (200, Some("echo: hello")));
}

#[tokio::test]
async fn an_infinite_loop_hits_the_cpu_limit_while_other_sessions_carry_on() {
    let server = hostile_server();
    let api = Api::new(&server.url);
    let (a, b) = (api.new_session().await, api.new_session().await);
    let spin = async {
        let reply = api.chat(&a, "spin").await;
        (reply, Instant::now())
    };
    let other = async {
        // Let the spinning chat start, then use another session meanwhile.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let reply = api.chat(&b, "still alive?").await;
        (reply, Instant::now())
    };
    let (((status, body), spin_done), ((other_status, other_body), other_done)) = tokio::join!(spin, other);
    assert_eq!(status, 500, "{body}");
    assert!(body["error"].as_str().unwrap().contains("CPU time limit"), "{body}");
    assert_eq!(
        (other_status, other_body["response"].as_str()),
        (200, Some("echo: still alive?"))
    );
    assert!(other_done < spin_done, "the other session waited for the spinning one");
    let (status, body) = api.chat(&a, "after").await;
    assert_eq!((status, body["response"].as_str()), (200, Some("echo: after")));
}

#[tokio::test]
async fn hoarding_memory_hits_the_memory_limit() {
    let server = hostile_server();
    let api = Api::new(&server.url);
    let s = api.new_session().await;
    let (status, body) = api.chat(&s, "hoard").await;
    assert_eq!(status, 500, "{body}");
    assert!(body["error"].as_str().unwrap().contains("memory"), "{body}");
    assert_eq!(api.get("/health").await.1, json!("ok"));
}

#[tokio::test]
async fn a_guest_has_no_environment_filesystem_or_network() {
    let server = hostile_server();
    let api = Api::new(&server.url);
    let s = api.new_session().await;
    let (status, body) = api.chat(&s, "probe").await;
    assert_eq!(status, 200, "{body}");
    let report = body["response"].as_str().unwrap();
    assert!(report.starts_with("env=0 fs=denied ("), "{report}");
    assert!(report.contains(" net=denied ("), "{report}");
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_guest_flooding_events_at_a_slow_viewer_keeps_host_memory_flat() {
    use eventsource_stream::Eventsource;
    use futures_util::StreamExt;

    let server = hostile_server_with(&["--guest-cpu-secs", "60"]);
    let api = Api::new(&server.url);
    let s = api.new_session().await;
    assert_eq!(api.chat(&s, "warm up").await.0, 200);
    let files_before = api.info(&s).await["fileCount"].as_u64().unwrap();
    let peak_before = rss_kib(server.pid(), "VmHWM:");

    // A viewer that opens the stream and then reads nothing while 400 MiB of events are emitted.
    let response = reqwest::Client::new()
        .post(format!("{}/session/{s}/chat", server.url))
        .body(json!({ "message": "flood", "stream": true }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let deadline = Instant::now() + std::time::Duration::from_secs(120);
    while api.info(&s).await["fileCount"].as_u64().unwrap() == files_before {
        assert!(Instant::now() < deadline, "the flooding chat did not finish");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let grown_mib = rss_kib(server.pid(), "VmHWM:").saturating_sub(peak_before) / 1024;
    println!("peak RSS grew by {grown_mib} MiB while the guest emitted 400 MiB of events");
    assert!(grown_mib < 100, "peak RSS grew by {grown_mib} MiB");

    // The viewer catches up: it is told what it missed, and the chat's outcome still arrives.
    let mut events = response.bytes_stream().eventsource();
    let (mut missed, mut done) = (0, None);
    while let Some(event) = events.next().await {
        let event = event.unwrap();
        let data: serde_json::Value = serde_json::from_str(&event.data).unwrap();
        match event.event.as_str() {
            "lagged" => missed += data["missed"].as_u64().unwrap(),
            "done" => done = Some(data),
            _ => {}
        }
    }
    assert!(missed > 90_000, "missed {missed}");
    assert_eq!(done.unwrap()["response"], "flooded 100000");
}

#[tokio::test]
async fn viewers_of_the_session_stream_that_fall_behind_a_flood_are_disconnected_and_rejoin_with_reset() {
    use eventsource_stream::Eventsource;
    use futures_util::StreamExt;

    let server = hostile_server_with(&["--guest-cpu-secs", "60"]);
    let api = Api::new(&server.url);
    let s = api.new_session().await;
    assert_eq!(api.chat(&s, "warm up").await.0, 200);
    let peak_before = rss_kib(server.pid(), "VmHWM:");

    // Three viewers that read nothing while the guest emits 400 MiB of events.
    let mut viewers = Vec::new();
    for _ in 0..3 {
        let response = reqwest::get(format!("{}/session/{s}/events", server.url))
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        viewers.push(response);
    }
    let started = Instant::now();
    let (status, body) = api.chat(&s, "flood").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["response"], "flooded 100000");
    let grown_mib = rss_kib(server.pid(), "VmHWM:").saturating_sub(peak_before) / 1024;
    println!(
        "peak RSS grew by {grown_mib} MiB while the guest emitted 400 MiB of events at 3 idle viewers ({:?})",
        started.elapsed()
    );
    assert!(grown_mib < 100, "peak RSS grew by {grown_mib} MiB");

    for response in viewers {
        // What the connection held (perhaps nothing), then the end: the viewer fell behind.
        let mut events = response.bytes_stream().eventsource();
        let mut last = None;
        while let Some(event) = events.next().await {
            let event = event.unwrap();
            assert_ne!(event.event, "chat_end", "a viewer this slow cannot have kept up");
            last = Some(event.id);
        }
        // A viewer cut off before its first event rejoins from an id older than any.
        let last = last.unwrap_or_else(|| "1".to_string());
        let response = reqwest::Client::new()
            .get(format!("{}/session/{s}/events", server.url))
            .header("Last-Event-ID", last)
            .send()
            .await
            .unwrap();
        let mut events = response.bytes_stream().eventsource();
        assert_eq!(events.next().await.unwrap().unwrap().event, "reset");
    }
}

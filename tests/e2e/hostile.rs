//! A guest that traps, spins or hoards memory ends its own chat with an error and harms no one.

use std::time::Instant;

use serde_json::json;

use crate::support::{Api, Server, ServerOptions};

fn hostile_server() -> Server {
    Server::start(ServerOptions {
        llm_url: None,
        args: [
            "--guest",
            env!("PI_WORKER_HOSTILE_GUEST_WASM"),
            "--guest-cpu-secs",
            "1",
            "--memory-mib",
            "64",
        ]
        .map(String::from)
        .to_vec(),
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

//! Told when it is done: `"notify": url` on a chat POSTs the outcome there, signed with
//! HMAC-SHA256 (checked here with Python's own `hmac`), retried after a failure, sent even when
//! the client has gone, and refused for URLs the server's policy does not allow.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use crate::support::{Provider, Reply, setup_full};

const SECRET: &str = "notify-secret-for-tests";

/// What the receiver got: each request's signature header and body.
type Received = Arc<Mutex<Vec<(Option<String>, Vec<u8>)>>>;

/// A receiver on loopback that answers 500 to its first request and 200 afterwards.
async fn receiver() -> (String, u16, Received) {
    let received: Received = Arc::default();
    async fn take(State(received): State<Received>, headers: HeaderMap, body: Bytes) -> StatusCode {
        let signature = headers
            .get("x-pi-worker-signature")
            .map(|v| v.to_str().unwrap().to_string());
        let mut received = received.lock().unwrap();
        received.push((signature, body.to_vec()));
        if received.len() == 1 {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::OK
        }
    }
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(take))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://127.0.0.1:{port}/hook"), port, received)
}

/// Waits until the receiver holds `n` requests.
async fn wait_for(received: &Received, n: usize) -> Vec<(Option<String>, Vec<u8>)> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = received.lock().unwrap().clone();
        if got.len() >= n {
            return got;
        }
        assert!(Instant::now() < deadline, "only {} notifications arrived", got.len());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The HMAC-SHA256 of `body` under the secret, by Python's `hmac` module (not our code).
fn python_hmac(body: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("body");
    std::fs::write(&file, body).unwrap();
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import hmac, hashlib, sys; print(hmac.new(sys.argv[1].encode(), open(sys.argv[2], 'rb').read(), hashlib.sha256).hexdigest())",
            SECRET,
            file.to_str().unwrap(),
        ])
        .output()
        .expect("python3 is installed by scripts/test");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

crate::support::on_each_provider!(chats_notify_signed_with_retries_even_after_the_client_left);

async fn chats_notify_signed_with_retries_even_after_the_client_left(p: Provider) {
    let (url, port, received) = receiver().await;
    let allow = format!("127.0.0.1:{port}");
    let (fake, server, api) = setup_full(
        p,
        vec![Reply::text("all done")],
        &["--import-allow", &allow],
        &[("PI_WORKER_NOTIFY_SECRET", SECRET)],
    )
    .await;
    let s = api.new_session().await;

    // A chat's reply reaches the URL, signed; the first delivery fails (500) and is retried.
    let (status, reply) = api
        .post(
            &format!("/session/{s}/chat"),
            &json!({ "message": "hi", "notify": url }),
        )
        .await;
    assert_eq!((status, reply["response"].as_str()), (200, Some("all done")), "{reply}");
    let got = wait_for(&received, 2).await;
    assert_eq!(got[0].1, got[1].1, "the retry carries the same body");
    for (signature, body) in &got {
        assert_eq!(
            signature.as_deref(),
            Some(format!("sha256={}", python_hmac(body)).as_str())
        );
    }
    let sent: Value = serde_json::from_slice(&got[1].1).unwrap();
    assert_eq!(sent["sessionId"], s.as_str());
    assert!(sent["chatId"].is_u64(), "{sent}");
    assert_eq!(sent["response"], "all done");
    assert_eq!(sent["stopReason"], reply["stopReason"]);

    // A streaming client that hangs up at once still gets its chat notified; a failure is
    // notified as {error, status}.
    fake.push([Reply::Slow(
        Duration::from_millis(500),
        Box::new(Reply::http_error(400, "invalid_request_error", "no such thing")),
    )]);
    let hang_up = reqwest::Client::new()
        .post(format!("{}/session/{s}/chat", server.url))
        .body(json!({ "message": "and now?", "stream": true, "notify": url }).to_string())
        .timeout(Duration::from_millis(100))
        .send()
        .await;
    drop(hang_up);
    let got = wait_for(&received, 3).await;
    let sent: Value = serde_json::from_slice(&got[2].1).unwrap();
    assert_eq!(
        (sent["status"].as_u64(), sent["sessionId"].as_str()),
        (Some(502), Some(s.as_str())),
        "{sent}"
    );
    assert!(sent["error"].as_str().unwrap().contains("no such thing"), "{sent}");
    assert_eq!(
        got[2].0.as_deref(),
        Some(format!("sha256={}", python_hmac(&got[2].1)).as_str())
    );

    // Refused before the chat runs: a host the policy does not allow, a malformed URL.
    let requests_before = fake.received().len();
    for (bad, expected) in [
        ("http://127.0.0.1:9/hook", 403),
        ("not a url", 400),
        ("file:///etc/passwd", 403),
    ] {
        let (status, body) = api
            .post(
                &format!("/session/{s}/chat"),
                &json!({ "message": "hi", "notify": bad }),
            )
            .await;
        assert_eq!(status, expected, "{bad}: {body}");
        assert!(body["error"].as_str().unwrap().starts_with("notify: "), "{body}");
    }
    assert_eq!(fake.received().len(), requests_before, "refused chats never ran");
}

#[tokio::test]
async fn without_a_secret_notifications_are_refused() {
    let (url, port, received) = receiver().await;
    let allow = format!("127.0.0.1:{port}");
    let (_fake, _server, api) = setup_full(Provider::Anthropic, vec![], &["--import-allow", &allow], &[]).await;
    let s = api.new_session().await;
    let (status, body) = api
        .post(
            &format!("/session/{s}/chat"),
            &json!({ "message": "hi", "notify": url }),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("--notify-secret"), "{body}");
    assert!(received.lock().unwrap().is_empty());
}

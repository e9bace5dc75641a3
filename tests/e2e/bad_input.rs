//! Bad input gets a clear JSON error with a fitting status, and loses nothing.

use serde_json::json;

use crate::support::{Api, Provider, Reply, Server, ServerOptions, setup, setup_with};

crate::support::on_each_provider!(
    provider_errors_are_502_and_the_session_stays_usable,
    the_model_can_be_chosen_per_request,
    overloaded_and_rate_limited_calls_are_retried
);

#[tokio::test]
async fn malformed_bodies_and_fields_are_400() {
    let (_fake, _server, api) = setup(Provider::Anthropic, vec![]).await;
    let s = api.new_session().await;
    let chat = format!("/session/{s}/chat");
    for (body, expected) in [
        ("{\"message\": ", "invalid JSON body: EOF while parsing"),
        (
            "[1, 2]",
            "invalid JSON body: invalid type: integer `1`, expected a string",
        ),
        ("{}", "invalid JSON body: missing field `message`"),
        (
            "{\"message\": 7}",
            "invalid JSON body: invalid type: integer `7`, expected a string",
        ),
        (
            "{\"message\": \"hi\", \"stream\": \"yes\"}",
            "invalid JSON body: invalid type: string \"yes\", expected a boolean",
        ),
        ("{\"message\": \"   \"}", "`message` must not be empty"),
    ] {
        let (status, body) = api.post_raw(&chat, body).await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body["error"].as_str().unwrap().starts_with(expected),
            "{body} vs {expected}"
        );
    }
    let (status, body) = api.post("/session/new", &json!({ "template": "bogus" })).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("unknown variant `bogus`"),
        "{body}"
    );
    // Nothing was recorded by the refused requests.
    assert_eq!(api.info(&s).await["messageCount"], 0);
}

#[tokio::test]
async fn session_ids_are_validated_and_unknown_ones_are_404() {
    let (_fake, server, api) = setup(Provider::Anthropic, vec![]).await;
    for id in ["...", "a.b", "%2e%2e%2f%2e%2e%2fetc", "x%00y", &"a".repeat(65)] {
        for path in [format!("/session/{id}/info"), format!("/session/{id}/messages")] {
            let (status, body) = api.get(&path).await;
            assert_eq!(status, 400, "{path}: {body}");
            assert!(
                body["error"].as_str().unwrap().starts_with("invalid session id"),
                "{body}"
            );
        }
        let (status, _) = api.chat(id, "hi").await;
        assert_eq!(status, 400);
    }
    let (status, body) = api.get("/session/0123456789abcdef0123456789abcdef/info").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("session '0123456789abcdef0123456789abcdef' not found"))
    );
    let (status, _) = api.get("/session/nope/messages").await;
    assert_eq!(status, 404);
    let (status, body) = api.get("/no/such/route").await;
    assert_eq!((status, body["error"].as_str()), (404, Some("no such route")));
    // Nothing outside sessions/, blobs/, the catalogue and the (empty) programs' directories was
    // created by those requests.
    let mut entries: Vec<String> = std::fs::read_dir(server.data_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| !name.starts_with("catalogue.sqlite"))
        .collect();
    entries.sort();
    assert_eq!(entries, ["blobs", "programs", "sessions"]);
    let programs = server.data_dir().join("programs/pi");
    assert_eq!(std::fs::read_dir(programs).unwrap().count(), 0);
    assert_eq!(api.get("/sessions").await.1["sessions"], serde_json::json!([]));
    assert_eq!(
        std::fs::read_dir(server.data_dir().join("sessions")).unwrap().count(),
        0
    );
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let (_fake, _server, api) = setup_with(Provider::Anthropic, vec![], &["--max-body-bytes", "1000"]).await;
    let s = api.new_session().await;
    let big = json!({ "message": "x".repeat(5000) }).to_string();
    let (status, body) = api.post_raw(&format!("/session/{s}/chat"), big).await;
    assert_eq!((status, body["error"].as_str()), (413, Some("request body too large")));
    assert_eq!(api.info(&s).await["messageCount"], 0);
}

async fn provider_errors_are_502_and_the_session_stays_usable(p: Provider) {
    let no_retries = [("PI_WORKER_LLM_RETRIES", "0")];
    let (fake, _server, api) = crate::support::setup_full(
        p,
        vec![
            Reply::http_error(529, "overloaded_error", "Overloaded"),
            Reply::StreamError {
                kind: "api_error".into(),
                message: "Internal server error".into(),
            },
            Reply::text("recovered"),
        ],
        &[],
        &no_retries,
    )
    .await;
    let s = api.new_session().await;
    let (status, body) = api.chat(&s, "first").await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"], "provider error (HTTP 529): overloaded_error: Overloaded");
    let (status, body) = api.chat(&s, "second").await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(
        body["error"],
        "provider error (HTTP 500): api_error: Internal server error"
    );
    let (status, body) = api.chat(&s, "third").await;
    assert_eq!((status, body["response"].as_str()), (200, Some("recovered")));
    // The failed chats stored nothing; the third sees only its own message.
    assert_eq!(crate::support::conversation(&fake.received()[2].body).len(), 1);
    let received = fake.received();
    match p {
        Provider::Anthropic => {
            assert_eq!(received[0].headers["x-api-key"], "test-key");
            assert_eq!(received[0].headers["anthropic-version"], "2023-06-01");
            assert_eq!(received[0].body["model"], "claude-sonnet-4-20250514");
        }
        Provider::OpenAi => {
            assert_eq!(received[0].headers["authorization"], "Bearer test-key");
            assert_eq!(received[0].body["model"], "gpt-fake");
        }
    }
}

async fn the_model_can_be_chosen_per_request(p: Provider) {
    let (fake, _server, api) = setup(p, vec![Reply::text("hi")]).await;
    let s = api.new_session().await;
    let (asked, sent) = match p {
        Provider::Anthropic => ("claude-opus-4-1", "claude-opus-4-1"),
        Provider::OpenAi => ("openai/gpt-other", "gpt-other"),
    };
    let (status, _) = api
        .post(
            &format!("/session/{s}/chat"),
            &json!({ "message": "hi", "model": asked }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(fake.received()[0].body["model"], sent);
    let (status, body) = api
        .post(
            &format!("/session/{s}/chat"),
            &json!({ "message": "hi", "model": "mystery/model-x" }),
        )
        .await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("unknown model provider 'mystery'"),
        "{body}"
    );
}

#[tokio::test]
async fn without_an_api_key_chat_is_a_clear_error_and_the_server_stays_up() {
    let mut server = Server::start(ServerOptions::default());
    let api = Api::new(&server.url);
    let s = api.new_session().await;
    let (status, body) = api.chat(&s, "hello").await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("set ANTHROPIC_API_KEY"),
        "{body}"
    );
    let (status, events) = api.chat_stream(&s, "hello").await;
    assert_eq!(status, 200);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, "error");
    let (status, body) = api.get("/health").await;
    assert_eq!((status, body), (200, json!("ok")));
    assert!(server.is_running());
}

#[tokio::test]
async fn api_key_is_read_from_dev_vars() {
    let fake = crate::support::FakeLlm::start(vec![Reply::text("configured by file")]).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".dev.vars"),
        format!("ANTHROPIC_API_KEY=test-key\nANTHROPIC_BASE_URL={}\n", fake.url),
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pi-worker"))
        .args(["serve", "--addr", "not-an-address"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("invalid value 'not-an-address'"));

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pi-worker"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data", "data", "--cache-dir"])
        .arg(crate::support::server::cache_dir())
        .current_dir(dir.path())
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("ANTHROPIC_BASE_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
    let api = Api::new(line.trim().strip_prefix("pi-worker listening on ").unwrap());
    let (status, body) = api.chat("from-file", "hi").await;
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        (status, body["response"].as_str()),
        (200, Some("configured by file")),
        "{body}"
    );
}

async fn overloaded_and_rate_limited_calls_are_retried(p: Provider) {
    let fast = [("PI_WORKER_LLM_RETRY_BASE_MS", "10")];
    let (fake, _server, api) = crate::support::setup_full(
        p,
        vec![
            Reply::http_error(529, "overloaded_error", "Overloaded"),
            Reply::HttpError {
                status: 429,
                kind: "rate_limit_error".into(),
                message: "slow down".into(),
                retry_after: Some(0),
            },
            Reply::http_error(500, "api_error", "Internal server error"),
            Reply::text("third time lucky"),
            // A retry-after beyond the total wait bound is not waited for.
            Reply::HttpError {
                status: 429,
                kind: "rate_limit_error".into(),
                message: "later".into(),
                retry_after: Some(3600),
            },
            // Client errors are not retried.
            Reply::http_error(400, "invalid_request_error", "bad request"),
        ],
        &[],
        &fast,
    )
    .await;
    let s = api.new_session().await;
    let (status, body) = api.chat(&s, "hello").await;
    assert_eq!(
        (status, body["response"].as_str()),
        (200, Some("third time lucky")),
        "{body}"
    );
    assert_eq!(fake.received().len(), 4);
    let (status, body) = api.chat(&s, "again").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (502, Some("provider error (HTTP 429): rate_limit_error: later"))
    );
    assert_eq!(fake.received().len(), 5);
    let (status, body) = api.chat(&s, "once more").await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(fake.received().len(), 6);
}

#[tokio::test]
async fn malformed_model_streams_are_survived_or_reported() {
    let raw =
        |events: &[(&str, &str)]| Reply::Raw(events.iter().map(|(e, d)| (e.to_string(), d.to_string())).collect());
    let start = (
        "message_start",
        r#"{"type":"message_start","message":{"usage":{"input_tokens":3,"output_tokens":1}}}"#,
    );
    let stop = ("message_stop", r#"{"type":"message_stop"}"#);
    let (_fake, _server, api) = setup(
        Provider::Anthropic,
        vec![
            // Unknown event types (and an unknown delta type) are ignored.
            raw(&[
                start,
                ("brand_new_event", r#"{"type":"brand_new_event","x":1}"#),
                (
                    "content_block_start",
                    r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
                ),
                (
                    "content_block_delta",
                    r#"{"type":"content_block_delta","index":0,"delta":{"type":"future_delta","z":2}}"#,
                ),
                (
                    "content_block_delta",
                    r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"fine"}}"#,
                ),
                ("content_block_stop", r#"{"type":"content_block_stop","index":0}"#),
                (
                    "message_delta",
                    r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}"#,
                ),
                stop,
            ]),
            // Data that is not JSON is a protocol error, reported as 502.
            raw(&[start, ("content_block_start", "{not json")]),
            // A stream that ends without message_stop is reported, not taken as complete.
            raw(&[start]),
            Reply::text("still usable"),
        ],
    )
    .await;
    let s = api.new_session().await;
    let (status, body) = api.chat(&s, "one").await;
    assert_eq!((status, body["response"].as_str()), (200, Some("fine")), "{body}");
    let (status, body) = api.chat(&s, "two").await;
    assert_eq!(status, 502, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("protocol error: `content_block_start` event with invalid JSON"),
        "{body}"
    );
    let (status, body) = api.chat(&s, "three").await;
    assert_eq!(status, 502, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("ended before `message_stop`"),
        "{body}"
    );
    let (status, body) = api.chat(&s, "four").await;
    assert_eq!((status, body["response"].as_str()), (200, Some("still usable")));
}

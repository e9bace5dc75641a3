//! What an operator sees: `GET /metrics`, read by Prometheus' own Python client parser
//! (`prometheus_client`, installed by `scripts/test`), and `--log-format json`, one JSON object a
//! line with the session and chat ids on every line of a chat.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Api, Provider, Reply, setup_with};

/// One parsed sample: its name, labels and value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses Prometheus text with `prometheus_client.parser`, the reference implementation.
fn parse_prometheus(text: &str) -> Vec<Sample> {
    const SCRIPT: &str = r#"
import json, sys
try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    sys.exit("prometheus_client is missing: ./scripts/test installs it (python3 -m pip install prometheus-client)")
out = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        out.append({"family": family.name, "type": family.type, "name": s.name, "labels": s.labels, "value": s.value})
print(json.dumps(out))
"#;
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the parser refused the metrics: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parsed: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    parsed
        .into_iter()
        .map(|s| Sample {
            name: s["name"].as_str().unwrap().to_string(),
            labels: serde_json::from_value(s["labels"].clone()).unwrap(),
            value: s["value"].as_f64().unwrap(),
        })
        .collect()
}

/// The value of the sample `name` whose labels include `labels` (0 when there is none).
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
}

async fn scrape(api: &Api) -> Vec<Sample> {
    let response = reqwest::get(format!("{}/metrics", api.base)).await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    parse_prometheus(&response.text().await.unwrap())
}

static RELEASE: AtomicBool = AtomicBool::new(false);

#[tokio::test]
async fn metrics_count_chats_models_tools_and_requests() {
    let (fake, _server, api) = setup_with(
        Provider::Anthropic,
        vec![
            // Chat 1: a tool call that works, one that fails, then an answer.
            Reply::tool("write", json!({ "path": "notes.md", "content": "hello" })),
            Reply::tool("read", json!({ "path": "missing.md" })),
            Reply::text("done"),
            // Chat 2: the provider refuses the request (not retried).
            Reply::http_error(400, "invalid_request_error", "bad request"),
            // Chat 3: held by the test until it has seen the chat in flight.
            Reply::Held(&RELEASE, Box::new(Reply::text("released"))),
        ],
        &[],
    )
    .await;
    let model = api.info(&api.new_session().await).await["defaultModel"]
        .as_str()
        .unwrap()
        .to_string();
    let s = api.new_session().await;
    assert_eq!(api.chat(&s, "write notes").await.0, 200);
    assert_eq!(api.chat(&s, "again").await.0, 502);
    assert_eq!(api.get("/no/such/route").await.0, 404);

    let held = {
        let (api, s) = (Api::new(&api.base), s.clone());
        tokio::spawn(async move { api.chat(&s, "wait").await })
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while fake.received().len() < 5 {
        assert!(Instant::now() < deadline, "the held chat never reached the model");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let during = scrape(&api).await;
    assert_eq!(value(&during, "pi_worker_chats_in_flight", &[]), 1.0);
    assert_eq!(value(&during, "pi_worker_chats_queued", &[]), 0.0);
    RELEASE.store(true, Ordering::SeqCst);
    assert_eq!(held.await.unwrap().0, 200);

    let m = scrape(&api).await;
    assert_eq!(value(&m, "pi_worker_chats_in_flight", &[]), 0.0);
    assert_eq!(value(&m, "pi_worker_chats_started_total", &[]), 3.0);
    assert_eq!(
        value(&m, "pi_worker_chats_finished_total", &[("stop_reason", "end_turn")]),
        2.0
    );
    assert_eq!(
        value(&m, "pi_worker_chats_failed_total", &[("error_kind", "provider")]),
        1.0
    );
    assert_eq!(value(&m, "pi_worker_chat_duration_seconds_count", &[]), 3.0);
    assert_eq!(
        value(
            &m,
            "pi_worker_chat_duration_seconds_bucket",
            &[("le", "+Inf"), ("outcome", "failed")]
        ),
        1.0
    );
    let by_model = [("model", model.as_str())];
    // Four answers (three in chat 1, one in chat 3) and one refusal.
    assert_eq!(value(&m, "pi_worker_model_latency_seconds_count", &by_model), 4.0);
    assert_eq!(
        value(&m, "pi_worker_model_time_to_first_token_seconds_count", &by_model),
        4.0
    );
    assert_eq!(
        value(
            &m,
            "pi_worker_model_errors_total",
            &[("model", &model), ("error_kind", "provider")]
        ),
        1.0
    );
    // The fake bills each prompt as its body's characters ÷ 4 and 20 output tokens.
    let billed: u64 = fake
        .received()
        .iter()
        .filter(|r| !r.too_long)
        .map(|r| r.prompt_tokens)
        .sum();
    let refused = fake.received()[3].prompt_tokens;
    assert_eq!(
        value(&m, "pi_worker_tokens_total", &[("model", &model), ("kind", "input")]),
        (billed - refused) as f64
    );
    assert_eq!(
        value(&m, "pi_worker_tokens_total", &[("model", &model), ("kind", "output")]),
        80.0
    );
    assert_eq!(
        value(
            &m,
            "pi_worker_tool_calls_total",
            &[("tool", "write"), ("outcome", "ok")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &m,
            "pi_worker_tool_calls_total",
            &[("tool", "read"), ("outcome", "error")]
        ),
        1.0
    );
    assert_eq!(value(&m, "pi_worker_guest_instantiation_seconds_count", &[]), 3.0);
    assert_eq!(value(&m, "pi_worker_sessions", &[]), 2.0);
    let chat_route = [("route", "/session/{id}/chat"), ("method", "POST")];
    assert_eq!(
        value(
            &m,
            "pi_worker_http_requests_total",
            &[chat_route[0], chat_route[1], ("status", "200")]
        ),
        2.0
    );
    assert_eq!(
        value(
            &m,
            "pi_worker_http_requests_total",
            &[chat_route[0], chat_route[1], ("status", "502")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &m,
            "pi_worker_http_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        ),
        1.0
    );
    assert!(value(&m, "pi_worker_http_request_duration_seconds_count", &chat_route) >= 3.0);
    let raw_paths: Vec<_> = m
        .iter()
        .filter_map(|s| s.labels.get("route"))
        .filter(|r| r.contains(&s))
        .collect();
    assert!(raw_paths.is_empty(), "routes are patterns, never paths: {raw_paths:?}");
}

#[tokio::test]
async fn json_logs_carry_the_session_and_chat_on_every_line_of_a_chat() {
    let (_fake, server, api) = setup_with(
        Provider::Anthropic,
        vec![
            // Retried once (a 529 is transient), then answered after a tool call.
            Reply::http_error(529, "overloaded_error", "Overloaded"),
            Reply::tool("write", json!({ "path": "a.txt", "content": "a" })),
            Reply::text("done"),
            Reply::http_error(400, "invalid_request_error", "bad request"),
        ],
        &["--log-format", "json"],
    )
    .await;
    let s = api.new_session().await;
    assert_eq!(api.chat(&s, "one").await.0, 200);
    assert_eq!(api.chat(&s, "two").await.0, 502);

    let log = server.log();
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    let chat_of = |line: &Value| -> Option<(String, u64)> {
        let spans = line["spans"].as_array()?;
        let chat = spans.iter().find(|s| s["name"] == "chat")?;
        Some((chat["session"].as_str()?.to_string(), chat["chat"].as_u64()?))
    };
    // Every line logged while a chat ran: inside its span, model calls included.
    let in_chats: Vec<&Value> = lines
        .iter()
        .filter(|l| {
            let spans = l["spans"].as_array().map(Vec::as_slice).unwrap_or_default();
            spans.iter().any(|s| s["name"] == "chat" || s["name"] == "llm_call")
                || ["chat done", "chat failed"].contains(&l["message"].as_str().unwrap_or_default())
        })
        .collect();
    for line in &in_chats {
        let (session, chat) = chat_of(line).unwrap_or_else(|| panic!("a chat's line without its ids: {line}"));
        assert_eq!(session, s, "{line}");
        assert!(chat > 0, "{line}");
    }
    let find = |message: &str| {
        in_chats
            .iter()
            .find(|l| l["message"].as_str().is_some_and(|m| m.starts_with(message)))
            .unwrap_or_else(|| panic!("no line {message:?} in:\n{log}"))
    };
    let first = chat_of(find("retrying the model call")).unwrap();
    assert_eq!(first, chat_of(find("chat done")).unwrap(), "one chat, one id");
    let second = chat_of(find("chat failed")).unwrap();
    assert_ne!(first.1, second.1, "each chat has its own id");
    for line in &lines {
        for field in ["timestamp", "level", "target"] {
            assert!(line.get(field).is_some(), "no {field}: {line}");
        }
    }
}

//! Providers: the registry routing models to both wire formats at once, each provider's length-cap
//! field (OpenAI's current models want `max_completion_tokens`, compatible servers `max_tokens`),
//! protocol violations reported as errors, and a compiled-guest cache others can write ignored.

use std::os::unix::fs::PermissionsExt as _;

use serde_json::{Value, json};

use crate::support::fake_llm::TokenField;
use crate::support::{Api, FakeLlm, Provider, Reply, Server, ServerOptions, setup_full};

const OPENAI_REFUSAL: &str = "provider error (HTTP 400): invalid_request_error: Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.";

/// A chat with `model`; returns status and body.
async fn chat_with(api: &Api, session: &str, model: &str) -> (u16, Value) {
    api.post(
        &format!("/session/{session}/chat"),
        &json!({ "message": "hi", "model": model }),
    )
    .await
}

#[tokio::test]
async fn one_server_routes_models_to_both_providers_by_prefix() {
    let fake = FakeLlm::start(vec![Reply::text("from anthropic"), Reply::text("from ollama")]).await;
    let openai_url = format!("{}/v1", fake.url);
    let server = Server::start(ServerOptions {
        llm_url: Some(fake.url.clone()),
        provider: Provider::Anthropic,
        env: vec![
            ("OPENAI_API_KEY".into(), "test-key".into()),
            ("OPENAI_BASE_URL".into(), openai_url),
            ("PI_WORKER_OPENAI_PREFIXES".into(), "openai,ollama".into()),
        ],
        ..ServerOptions::default()
    });
    let api = Api::new(&server.url);
    let s = api.new_session().await;
    let (status, body) = api.chat(&s, "hi").await;
    assert_eq!(
        (status, body["response"].as_str()),
        (200, Some("from anthropic")),
        "{body}"
    );
    let (status, body) = chat_with(&api, &s, "ollama/llama3.1:8b").await;
    assert_eq!(
        (status, body["response"].as_str()),
        (200, Some("from ollama")),
        "{body}"
    );
    let received = fake.received();
    assert_eq!(received[0].headers["x-api-key"], "test-key");
    assert_eq!(received[1].headers["authorization"], "Bearer test-key");
    assert_eq!(received[1].body["model"], "llama3.1:8b");
    let (status, body) = chat_with(&api, &s, "mystery/x").await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("(known: anthropic, openai, ollama)"),
        "{body}"
    );
}

#[tokio::test]
async fn max_completion_tokens_reaches_openais_current_models() {
    let field = [("PI_WORKER_OPENAI_MAX_TOKENS_FIELD", "max_completion_tokens")];
    let (fake, _server, api) = setup_full(Provider::OpenAi, vec![Reply::text("from gpt-5.1")], &[], &field).await;
    let s = api.new_session().await;
    let (status, body) = chat_with(&api, &s, "openai/gpt-5.1").await;
    assert_eq!(
        (status, body["response"].as_str()),
        (200, Some("from gpt-5.1")),
        "{body}"
    );
    let request = &fake.received()[0].body;
    assert_eq!(request["model"], "gpt-5.1");
    assert!(request["max_completion_tokens"].as_u64().is_some(), "{request}");
    assert!(request.get("max_tokens").is_none(), "{request}");
}

#[tokio::test]
async fn max_tokens_sent_to_openais_current_models_is_their_400_as_a_502() {
    let field = [("PI_WORKER_OPENAI_MAX_TOKENS_FIELD", "max_tokens")];
    let (fake, _server, api) = setup_full(Provider::OpenAi, vec![Reply::text("older model")], &[], &field).await;
    let s = api.new_session().await;
    for model in ["openai/gpt-5.1", "openai/o3-mini"] {
        let (status, body) = chat_with(&api, &s, model).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (502, Some(OPENAI_REFUSAL)),
            "{model}: {body}"
        );
    }
    // A 400 is not retried, and the scripted answer is still there for a model that takes `max_tokens`.
    assert_eq!(fake.pending(), 1);
    let (status, body) = chat_with(&api, &s, "openai/gpt-4o").await;
    assert_eq!(
        (status, body["response"].as_str()),
        (200, Some("older model")),
        "{body}"
    );
    assert!(fake.received()[0].body["max_tokens"].as_u64().is_some());
}

#[tokio::test]
async fn a_compatible_server_that_knows_only_max_tokens_gets_it_by_default() {
    // The fake's base URL is not OpenAI's, so the default field is `max_tokens`.
    let (fake, _server, api) = setup_full(Provider::OpenAi, vec![Reply::text("local model")], &[], &[]).await;
    fake.set_token_field(TokenField::MaxTokensOnly);
    let s = api.new_session().await;
    let (status, body) = chat_with(&api, &s, "openai/llama3.1:8b").await;
    assert_eq!(
        (status, body["response"].as_str()),
        (200, Some("local model")),
        "{body}"
    );
    let request = &fake.received()[0].body;
    assert!(request["max_tokens"].as_u64().is_some(), "{request}");
    assert!(request.get("max_completion_tokens").is_none(), "{request}");

    // Configured for OpenAI's field instead, the same server refuses the call.
    let field = [("PI_WORKER_OPENAI_MAX_TOKENS_FIELD", "max_completion_tokens")];
    let (fake, _server, api) = setup_full(Provider::OpenAi, vec![], &[], &field).await;
    fake.set_token_field(TokenField::MaxTokensOnly);
    let s = api.new_session().await;
    let (status, body) = api.chat(&s, "hi").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (
            502,
            Some(
                "provider error (HTTP 400): invalid_request_error: Unrecognized request argument supplied: max_completion_tokens"
            )
        ),
        "{body}"
    );
}

#[tokio::test]
async fn an_unknown_max_tokens_field_stops_the_server_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pi-worker"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data", "data"])
        .current_dir(dir.path())
        .env("OPENAI_API_KEY", "test-key")
        .env("PI_WORKER_OPENAI_MAX_TOKENS_FIELD", "max_tokenz")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("invalid PI_WORKER_OPENAI_MAX_TOKENS_FIELD")
            && stderr.contains("unknown field 'max_tokenz': expected max_tokens or max_completion_tokens"),
        "{stderr}"
    );
}

/// A stream whose tool call lacks its id, in `p`'s wire format.
fn tool_call_without_id(p: Provider) -> Reply {
    let events: Vec<(&str, Value)> = match p {
        Provider::Anthropic => vec![
            (
                "message_start",
                json!({ "type": "message_start", "message": { "usage": { "input_tokens": 3, "output_tokens": 1 } } }),
            ),
            (
                "content_block_start",
                json!({ "type": "content_block_start", "index": 0, "content_block": { "type": "tool_use", "name": "ls", "input": {} } }),
            ),
        ],
        Provider::OpenAi => vec![
            (
                "",
                json!({ "choices": [{ "index": 0, "delta": { "tool_calls": [{ "index": 0, "type": "function", "function": { "name": "ls", "arguments": "{}" } }] }, "finish_reason": null }] }),
            ),
            (
                "",
                json!({ "choices": [{ "index": 0, "delta": {}, "finish_reason": "tool_calls" }] }),
            ),
        ],
    };
    Reply::Raw(
        events
            .into_iter()
            .map(|(e, d)| (e.to_string(), d.to_string()))
            .collect(),
    )
}

async fn a_tool_call_without_an_id_is_a_protocol_error(p: Provider) {
    let (_fake, _server, api) = setup_full(p, vec![tool_call_without_id(p), Reply::text("fine again")], &[], &[]).await;
    let s = api.new_session().await;
    let (status, body) = api.chat(&s, "list").await;
    let expected = match p {
        Provider::Anthropic => "protocol error: `content_block_start` event without `id`",
        Provider::OpenAi => "protocol error: tool call 0 finished without an `id`",
    };
    assert_eq!((status, body["error"].as_str()), (502, Some(expected)), "{body}");
    let (status, body) = api.chat(&s, "again").await;
    assert_eq!((status, body["response"].as_str()), (200, Some("fine again")), "{body}");
}

crate::support::on_each_provider!(a_tool_call_without_an_id_is_a_protocol_error);

#[tokio::test]
async fn a_cache_directory_others_can_write_is_not_used() {
    let cache = tempfile::tempdir().unwrap();
    std::fs::set_permissions(cache.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let fake = FakeLlm::start(vec![Reply::text("compiled in memory")]).await;
    let server = Server::start(ServerOptions {
        llm_url: Some(fake.url.clone()),
        args: vec!["--cache-dir".into(), cache.path().display().to_string()],
        ..ServerOptions::default()
    });
    let api = Api::new(&server.url);
    let s = api.new_session().await;
    let (status, body) = api.chat(&s, "hi").await;
    assert_eq!(
        (status, body["response"].as_str()),
        (200, Some("compiled in memory")),
        "{body}"
    );
    let log = server.log();
    assert!(
        log.contains("not using the compiled-guest cache") && log.contains("writable by group or others (mode 777)"),
        "{log}"
    );
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0);
}

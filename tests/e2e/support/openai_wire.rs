//! The fake's OpenAI Chat Completions side: `POST /v1/chat/completions` with `stream: true`
//! answers `data:` chunks (`choices[].delta` with `content` and `tool_calls`, a `finish_reason`,
//! a last usage-only chunk as `stream_options.include_usage` asks) and `data: [DONE]`; errors are
//! `{"error": {"message", "type", "param", "code"}}` bodies.
//!
//! Like OpenAI, its current models (`gpt-5…`, `o1…`, `o3…`, `o4…`) refuse `max_tokens` with
//! OpenAI's exact 400 answer; [`TokenField::MaxTokensOnly`] makes it a compatible server that knows
//! only `max_tokens` instead.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::fake_llm::{Block, Script, Wire, chunks};

/// Which length-cap field the Chat Completions endpoint accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TokenField {
    /// As OpenAI does: its current models (`gpt-5…` and the o-series) refuse `max_tokens`; its
    /// older ones take `max_tokens` or `max_completion_tokens`.
    #[default]
    LikeOpenAi,
    /// As a compatible server that knows only `max_tokens`: `max_completion_tokens` is refused.
    MaxTokensOnly,
}

/// OpenAI's answer (HTTP 400) to `max_tokens` sent to one of its current models.
const UNSUPPORTED_MAX_TOKENS: &str = r#"{"error":{"message":"Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.","type":"invalid_request_error","param":"max_tokens","code":"unsupported_parameter"}}"#;

/// Whether OpenAI refuses `max_tokens` for `model` (its reasoning models).
fn wants_max_completion_tokens(model: &str) -> bool {
    let mut chars = model.chars();
    model.starts_with("gpt-5") || (chars.next() == Some('o') && chars.next().is_some_and(|c| c.is_ascii_digit()))
}

fn error_body(message: &str, kind: &str, param: Option<&str>, code: Option<&str>) -> Value {
    json!({ "error": { "message": message, "type": kind, "param": param, "code": code } })
}

fn json_response(status: u16, body: &Value) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn chunk(n: usize, model: &str, delta: Value, finish: Option<&str>) -> String {
    let data = json!({
        "id": format!("chatcmpl-fake-{n}"), "object": "chat.completion.chunk", "created": 0, "model": model,
        "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }],
    });
    format!("data: {data}\n\n")
}

/// The OpenAI Chat Completions side of the fake.
pub(super) struct ChatCompletionsWire;

impl Wire for ChatCompletionsWire {
    const NAME: &'static str = "OpenAI";
    const SERVER_ERROR: &'static str = "server_error";
    // The role chunk and the first content chunk.
    const OPENING: usize = 2;

    fn refuse(headers: &HeaderMap, body: &Value, script: &Script) -> Option<Response> {
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer test-key") {
            return Some(Self::error_response(
                401,
                "invalid_request_error",
                "Incorrect API key provided",
            ));
        }
        if body["stream"] != true || !body["messages"].is_array() || body["stream_options"]["include_usage"] != true {
            return Some(Self::error_response(
                400,
                "invalid_request_error",
                "expected stream, stream_options and messages",
            ));
        }
        let model = body["model"].as_str().unwrap_or_default();
        match script.token_field {
            TokenField::LikeOpenAi if body.get("max_tokens").is_some() && wants_max_completion_tokens(model) => {
                let body = serde_json::from_str(UNSUPPORTED_MAX_TOKENS).unwrap();
                Some(json_response(400, &body))
            }
            TokenField::MaxTokensOnly if body.get("max_completion_tokens").is_some() => Some(json_response(
                400,
                &error_body(
                    "Unrecognized request argument supplied: max_completion_tokens",
                    "invalid_request_error",
                    None,
                    None,
                ),
            )),
            _ => None,
        }
    }

    fn error_response(status: u16, kind: &str, message: &str) -> Response {
        json_response(status, &error_body(message, kind, None, None))
    }

    fn too_long(tokens: u64, window: u64) -> Response {
        let message = format!(
            "This model's maximum context length is {window} tokens. However, your messages resulted in {tokens} tokens. Please reduce the length of the messages."
        );
        json_response(
            400,
            &error_body(
                &message,
                "invalid_request_error",
                Some("messages"),
                Some("context_length_exceeded"),
            ),
        )
    }

    fn answer(n: usize, model: &str, prompt_tokens: u64, blocks: &[Block]) -> Vec<String> {
        let mut frames = vec![chunk(n, model, json!({ "role": "assistant", "content": "" }), None)];
        let mut tool_index = 0;
        for block in blocks {
            let (name, json) = match block {
                Block::Text(text) => {
                    for piece in chunks(text, 5) {
                        frames.push(chunk(n, model, json!({ "content": piece }), None));
                    }
                    continue;
                }
                Block::Tool { name, input } => (name.clone(), input.to_string()),
                Block::RawTool { name, json } => (name.clone(), json.clone()),
            };
            frames.push(chunk(
                n,
                model,
                json!({ "tool_calls": [{ "index": tool_index, "id": format!("call_{n}_{tool_index}"), "type": "function",
                    "function": { "name": name, "arguments": "" } }] }),
                None,
            ));
            for piece in chunks(&json, 7) {
                frames.push(chunk(
                    n,
                    model,
                    json!({ "tool_calls": [{ "index": tool_index, "function": { "arguments": piece } }] }),
                    None,
                ));
            }
            tool_index += 1;
        }
        let finish = if tool_index > 0 { "tool_calls" } else { "stop" };
        frames.push(chunk(n, model, json!({}), Some(finish)));
        let usage = json!({
            "id": format!("chatcmpl-fake-{n}"), "object": "chat.completion.chunk", "created": 0, "model": model, "choices": [],
            "usage": { "prompt_tokens": prompt_tokens, "completion_tokens": 20, "total_tokens": prompt_tokens + 20 },
        });
        frames.push(format!("data: {usage}\n\n"));
        frames.push("data: [DONE]\n\n".into());
        frames
    }

    fn stream_error(kind: &str, message: &str) -> String {
        format!("data: {}\n\n", error_body(message, kind, None, None))
    }
}

//! The fake's OpenAI Chat Completions side: `POST /v1/chat/completions` with `stream: true`
//! answers `data:` chunks (`choices[].delta` with `content` and `tool_calls`, a `finish_reason`,
//! a last usage-only chunk as `stream_options.include_usage` asks) and `data: [DONE]`; errors are
//! `{"error": {"message", "type", "code"}}` bodies.

use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::fake_llm::{Block, Reply, Script, chunks, slowly, sse_body, take_reply, with_retry_after};

fn error_response(status: u16, kind: &str, message: &str) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header("content-type", "application/json")
        .body(Body::from(
            json!({ "error": { "message": message, "type": kind, "code": null } }).to_string(),
        ))
        .unwrap()
}

fn chunk(n: usize, model: &str, delta: Value, finish: Option<&str>) -> String {
    let data = json!({
        "id": format!("chatcmpl-fake-{n}"), "object": "chat.completion.chunk", "created": 0, "model": model,
        "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }],
    });
    format!("data: {data}\n\n")
}

/// The chunks of a complete answer, in the order the real API sends them.
fn answer_frames(n: usize, model: &str, blocks: &[Block]) -> Vec<String> {
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
        "usage": { "prompt_tokens": 100 + n, "completion_tokens": 20, "total_tokens": 120 + n },
    });
    frames.push(format!("data: {usage}\n\n"));
    frames.push("data: [DONE]\n\n".into());
    frames
}

/// `POST /v1/chat/completions`.
pub(super) async fn chat_completions(
    State(script): State<Arc<Mutex<Script>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return error_response(400, "invalid_request_error", &format!("invalid JSON: {e}")),
    };
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer test-key") {
        return error_response(401, "invalid_request_error", "Incorrect API key provided");
    }
    if body["stream"] != true || !body["messages"].is_array() || body["stream_options"]["include_usage"] != true {
        return error_response(
            400,
            "invalid_request_error",
            "expected stream, stream_options and messages",
        );
    }
    let (reply, n) = take_reply(&script, headers, &body);
    let reply = slowly(reply).await;
    let model = body["model"].as_str().unwrap_or("unknown").to_string();
    match reply {
        None => error_response(500, "server_error", "fake OpenAI: the test's script has no reply left"),
        Some(Reply::HttpError {
            status,
            kind,
            message,
            retry_after,
        }) => with_retry_after(error_response(status, &kind, &message), retry_after),
        Some(Reply::Answer(blocks)) => sse_body(answer_frames(n, &model, &blocks), false),
        Some(Reply::StreamError { kind, message }) => {
            let mut frames = answer_frames(n, &model, &[Block::Text("partial answer".into())]);
            frames.truncate(2);
            frames.push(format!(
                "data: {}\n\n",
                json!({ "error": { "message": message, "type": kind, "code": null } })
            ));
            sse_body(frames, false)
        }
        Some(Reply::Drop) => {
            let mut frames = answer_frames(n, &model, &[Block::Text("partial answer that never ends".into())]);
            frames.truncate(3);
            sse_body(frames, true)
        }
        Some(Reply::Slow(..)) => error_response(500, "server_error", "fake: nested slow replies"),
        Some(Reply::Raw(_)) => error_response(
            500,
            "server_error",
            "fake OpenAI: raw Anthropic events have no OpenAI form",
        ),
    }
}

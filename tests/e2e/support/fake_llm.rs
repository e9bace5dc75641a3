//! A scripted fake LLM server on loopback, speaking two real wire formats from one script:
//!
//! - the Anthropic Messages API: `POST /v1/messages` with `stream: true` answers
//!   `text/event-stream` with `message_start`, `ping`, `content_block_start` /
//!   `content_block_delta` (`text_delta`, `input_json_delta`) / `content_block_stop`,
//!   `message_delta` and `message_stop`; errors are `{"type":"error","error":{...}}` bodies;
//! - OpenAI Chat Completions: `POST /v1/chat/completions` (see `openai_wire`).
//!
//! Streams are split across network writes at arbitrary byte positions.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use futures_util::StreamExt;
use serde_json::{Value, json};

/// One block of a scripted answer.
#[derive(Debug, Clone)]
pub enum Block {
    Text(String),
    Tool {
        name: String,
        input: Value,
    },
    /// A tool call whose `input_json_delta`s concatenate to this (possibly invalid) text.
    RawTool {
        name: String,
        json: String,
    },
}

/// What the fake answers to one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A complete streamed answer.
    Answer(Vec<Block>),
    /// An HTTP error with an Anthropic error body (and a `retry-after` header, in seconds).
    HttpError {
        status: u16,
        kind: String,
        message: String,
        retry_after: Option<u64>,
    },
    /// A 200 stream that starts an answer and then sends an `error` event.
    StreamError { kind: String, message: String },
    /// A 200 stream that starts an answer and then drops the connection.
    Drop,
    /// A 200 stream of exactly these `(event, data)` pairs, however wrong.
    Raw(Vec<(String, String)>),
    /// The inner reply, after a pause (a slow model).
    Slow(std::time::Duration, Box<Reply>),
}

impl Reply {
    pub fn text(text: &str) -> Self {
        Reply::Answer(vec![Block::Text(text.into())])
    }

    pub fn tool(name: &str, input: Value) -> Self {
        Reply::Answer(vec![Block::Tool {
            name: name.into(),
            input,
        }])
    }

    pub fn http_error(status: u16, kind: &str, message: &str) -> Self {
        Reply::HttpError {
            status,
            kind: kind.into(),
            message: message.into(),
            retry_after: None,
        }
    }
}

/// A request the fake received.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Value,
}

#[derive(Default)]
pub(super) struct Script {
    replies: VecDeque<Reply>,
    received: Vec<Received>,
    served: usize,
    /// Answers computed from the request when the queue is empty (for concurrent chats).
    responder: Option<fn(&Value) -> Reply>,
}

/// The running fake.
#[derive(Clone)]
pub struct FakeLlm {
    pub url: String,
    script: Arc<Mutex<Script>>,
}

impl FakeLlm {
    /// Starts the fake on an ephemeral loopback port with `replies` queued.
    pub async fn start(replies: Vec<Reply>) -> Self {
        let script = Arc::new(Mutex::new(Script {
            replies: replies.into(),
            ..Script::default()
        }));
        let app = Router::new()
            .route("/v1/messages", post(messages))
            .route("/v1/chat/completions", post(super::openai_wire::chat_completions))
            .with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, script }
    }

    /// Starts a fake that answers every request with `responder(request body)`.
    pub async fn with_responder(responder: fn(&Value) -> Reply) -> Self {
        let fake = Self::start(Vec::new()).await;
        fake.script.lock().unwrap().responder = Some(responder);
        fake
    }

    /// Queues more replies.
    pub fn push(&self, replies: impl IntoIterator<Item = Reply>) {
        self.script.lock().unwrap().replies.extend(replies);
    }

    /// Every request received so far.
    pub fn received(&self) -> Vec<Received> {
        self.script.lock().unwrap().received.clone()
    }

    /// Replies still queued.
    pub fn pending(&self) -> usize {
        self.script.lock().unwrap().replies.len()
    }
}

async fn messages(State(script): State<Arc<Mutex<Script>>>, headers: HeaderMap, body: Bytes) -> Response {
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return error_response(400, "invalid_request_error", &format!("invalid JSON: {e}"));
        }
    };
    if headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some("test-key") {
        return error_response(401, "authentication_error", "invalid x-api-key");
    }
    if headers.get("anthropic-version").and_then(|v| v.to_str().ok()) != Some("2023-06-01") {
        return error_response(400, "invalid_request_error", "anthropic-version header is required");
    }
    if body["stream"] != true || body["max_tokens"].as_u64().is_none() || !body["messages"].is_array() {
        return error_response(400, "invalid_request_error", "expected stream, max_tokens and messages");
    }
    let (reply, n) = take_reply(&script, headers, &body);
    let reply = slowly(reply).await;
    let model = body["model"].as_str().unwrap_or("unknown").to_string();
    match reply {
        None => error_response(500, "api_error", "fake Anthropic: the test's script has no reply left"),
        Some(Reply::HttpError {
            status,
            kind,
            message,
            retry_after,
        }) => with_retry_after(error_response(status, &kind, &message), retry_after),
        Some(Reply::Answer(blocks)) => sse_response(answer_events(n, &model, &blocks), false),
        Some(Reply::StreamError { kind, message }) => {
            let mut events = answer_events(n, &model, &[Block::Text("partial answer".into())]);
            events.truncate(4);
            events.push((
                "error".into(),
                json!({ "type": "error", "error": { "type": kind, "message": message } }),
            ));
            sse_response(events, false)
        }
        Some(Reply::Slow(..)) => error_response(500, "api_error", "fake: nested slow replies"),
        Some(Reply::Raw(events)) => {
            let wire: String = events
                .iter()
                .map(|(e, d)| format!("event: {e}\ndata: {d}\n\n"))
                .collect();
            Response::builder()
                .status(200)
                .header("content-type", "text/event-stream")
                .body(Body::from(wire))
                .unwrap()
        }
        Some(Reply::Drop) => {
            let mut events = answer_events(n, &model, &[Block::Text("partial answer that never ends".into())]);
            events.truncate(4);
            sse_response(events, true)
        }
    }
}

/// Records the request and takes the reply for it: the next scripted one, else the responder's.
pub(super) fn take_reply(script: &Mutex<Script>, headers: HeaderMap, body: &Value) -> (Option<Reply>, usize) {
    let mut script = script.lock().unwrap();
    script.received.push(Received {
        headers,
        body: body.clone(),
    });
    script.served += 1;
    let reply = script
        .replies
        .pop_front()
        .or_else(|| script.responder.map(|answer| answer(body)));
    (reply, script.served)
}

/// Adds a `retry-after` header (seconds) when there is one.
pub(super) fn with_retry_after(mut response: Response, retry_after: Option<u64>) -> Response {
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert("retry-after", seconds.to_string().parse().unwrap());
    }
    response
}

/// Waits out a [`Reply::Slow`] and returns what it wraps.
pub(super) async fn slowly(reply: Option<Reply>) -> Option<Reply> {
    match reply {
        Some(Reply::Slow(pause, inner)) => {
            tokio::time::sleep(pause).await;
            Some(*inner)
        }
        other => other,
    }
}

fn error_response(status: u16, kind: &str, message: &str) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header("content-type", "application/json")
        .header("request-id", "req_fake")
        .body(Body::from(
            json!({ "type": "error", "error": { "type": kind, "message": message } }).to_string(),
        ))
        .unwrap()
}

/// The events of a complete answer, in the order the real API sends them.
fn answer_events(n: usize, model: &str, blocks: &[Block]) -> Vec<(String, Value)> {
    let mut events = vec![
        (
            "message_start".to_string(),
            json!({ "type": "message_start", "message": {
                "id": format!("msg_fake_{n}"), "type": "message", "role": "assistant", "model": model,
                "content": [], "stop_reason": null, "stop_sequence": null,
                "usage": { "input_tokens": 100 + n, "output_tokens": 1, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0 },
            }}),
        ),
        ("ping".to_string(), json!({ "type": "ping" })),
    ];
    let mut uses_tools = false;
    for (index, block) in blocks.iter().enumerate() {
        match block {
            Block::Text(text) => {
                events.push(("content_block_start".into(), json!({ "type": "content_block_start", "index": index, "content_block": { "type": "text", "text": "" } })));
                for piece in chunks(text, 5) {
                    events.push(("content_block_delta".into(), json!({ "type": "content_block_delta", "index": index, "delta": { "type": "text_delta", "text": piece } })));
                }
            }
            Block::Tool { name, input } => {
                uses_tools = true;
                tool_events(&mut events, n, index, name, &input.to_string());
            }
            Block::RawTool { name, json } => {
                uses_tools = true;
                tool_events(&mut events, n, index, name, json);
            }
        }
        events.push((
            "content_block_stop".into(),
            json!({ "type": "content_block_stop", "index": index }),
        ));
    }
    let stop_reason = if uses_tools { "tool_use" } else { "end_turn" };
    events.push(("message_delta".into(), json!({ "type": "message_delta", "delta": { "stop_reason": stop_reason, "stop_sequence": null }, "usage": { "output_tokens": 20 } })));
    events.push(("message_stop".into(), json!({ "type": "message_stop" })));
    events
}

fn tool_events(events: &mut Vec<(String, Value)>, n: usize, index: usize, name: &str, json: &str) {
    events.push((
        "content_block_start".into(),
        json!({ "type": "content_block_start", "index": index, "content_block": { "type": "tool_use", "id": format!("toolu_{n}_{index}"), "name": name, "input": {} } }),
    ));
    // The real API starts with an empty partial_json, then sends the arguments in pieces.
    events.push(("content_block_delta".into(), json!({ "type": "content_block_delta", "index": index, "delta": { "type": "input_json_delta", "partial_json": "" } })));
    for piece in chunks(json, 7) {
        events.push(("content_block_delta".into(), json!({ "type": "content_block_delta", "index": index, "delta": { "type": "input_json_delta", "partial_json": piece } })));
    }
}

/// Splits text into pieces of at most `size` characters.
pub(super) fn chunks(text: &str, size: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

/// Anthropic's named events as an SSE body.
fn sse_response(events: Vec<(String, Value)>, drop_at_end: bool) -> Response {
    sse_body(
        events
            .into_iter()
            .map(|(name, data)| format!("event: {name}\ndata: {data}\n\n"))
            .collect(),
        drop_at_end,
    )
}

/// An SSE body of `frames`, written in pieces that ignore frame boundaries; `drop_at_end`
/// breaks the connection instead of ending the body.
pub(super) fn sse_body(frames: Vec<String>, drop_at_end: bool) -> Response {
    let wire: String = frames.concat();
    let bytes = wire.into_bytes();
    let pieces: Vec<Result<Bytes, std::io::Error>> = bytes.chunks(97).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    let body = futures_util::stream::iter(pieces);
    // A drop comes after the client has the headers and the first events, as a real one would.
    let end = futures_util::stream::iter(drop_at_end.then_some(())).then(|()| async {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        Err(std::io::Error::other("connection dropped by the fake"))
    });
    let stream = body.chain(end);
    Response::builder()
        .status(200)
        .header("content-type", "text/event-stream; charset=utf-8")
        .header("cache-control", "no-cache")
        .body(Body::from_stream(stream))
        .unwrap()
}

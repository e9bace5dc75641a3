//! A scripted fake LLM server on loopback, speaking two real wire formats from one script:
//!
//! - the Anthropic Messages API: `POST /v1/messages` with `stream: true` answers
//!   `text/event-stream` with `message_start`, `ping`, `content_block_start` /
//!   `content_block_delta` (`text_delta`, `input_json_delta`) / `content_block_stop`,
//!   `message_delta` and `message_stop`; errors are `{"type":"error","error":{...}}` bodies;
//! - OpenAI Chat Completions: `POST /v1/chat/completions` (see `openai_wire`).
//!
//! One dispatch ([`serve`]) takes the script's next reply for either endpoint; a [`Wire`] per
//! format checks the request as the real API would and encodes the reply. Streams are split
//! across network writes at arbitrary byte positions.
//!
//! A prompt's size is its request body's characters ÷ 4, reported as the answer's input tokens.
//! With a context window set ([`FakeLlm::set_context_window`]), a larger prompt gets the
//! provider's real "too long" error instead of an answer.

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

use super::openai_wire::ChatCompletionsWire;
pub use super::openai_wire::TokenField;

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
    /// A 200 stream of exactly these `(event, data)` pairs, however wrong (an empty event name
    /// writes a bare `data:` line, as Chat Completions does).
    Raw(Vec<(String, String)>),
    /// The inner reply, after a pause (a slow model).
    Slow(std::time::Duration, Box<Reply>),
    /// The inner reply, once the flag is raised (a model the test holds back).
    Held(&'static std::sync::atomic::AtomicBool, Box<Reply>),
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
    /// The prompt's size: the body's characters ÷ 4.
    pub prompt_tokens: u64,
    /// Refused as longer than the context window.
    pub too_long: bool,
}

#[derive(Default)]
pub(super) struct Script {
    replies: VecDeque<Reply>,
    received: Vec<Received>,
    served: usize,
    /// Answers computed from the request when the queue is empty (for concurrent chats).
    responder: Option<fn(&Value) -> Reply>,
    /// Which length-cap field the Chat Completions endpoint accepts.
    pub(super) token_field: TokenField,
    /// Longest prompt accepted, in tokens.
    context_window: Option<u64>,
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
            .route("/v1/messages", post(serve::<AnthropicWire>))
            .route("/v1/chat/completions", post(serve::<ChatCompletionsWire>))
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

    /// Refuses prompts longer than `tokens` with each provider's real "too long" error.
    pub fn set_context_window(&self, tokens: u64) {
        self.script.lock().unwrap().context_window = Some(tokens);
    }

    /// Sets which length-cap field the Chat Completions endpoint accepts.
    pub fn set_token_field(&self, token_field: TokenField) {
        self.script.lock().unwrap().token_field = token_field;
    }
}

/// One wire format's side of the fake: what the real API refuses, and how it writes answers.
pub(super) trait Wire {
    /// The API's name, for the fake's own errors.
    const NAME: &'static str;
    /// The error type of a failure of the API itself.
    const SERVER_ERROR: &'static str;
    /// Frames of an answer up to its first piece of text: where a mid-stream error or a dropped
    /// connection comes.
    const OPENING: usize;

    /// The answer a real server gives a request it refuses (authentication, shape), if it does.
    fn refuse(headers: &HeaderMap, body: &Value, script: &Script) -> Option<Response>;
    /// An error answer, with the API's error body.
    fn error_response(status: u16, kind: &str, message: &str) -> Response;
    /// The SSE frames of a complete answer to a prompt of `prompt_tokens`.
    fn answer(n: usize, model: &str, prompt_tokens: u64, blocks: &[Block]) -> Vec<String>;
    /// The API's answer to a prompt of `tokens` longer than its context `window`.
    fn too_long(tokens: u64, window: u64) -> Response;
    /// The SSE frame of an error sent inside a stream.
    fn stream_error(kind: &str, message: &str) -> String;
}

/// Both endpoints: checks the request as the real API would, takes the script's reply for it
/// and writes it in `W`'s wire format.
async fn serve<W: Wire>(State(script): State<Arc<Mutex<Script>>>, headers: HeaderMap, raw: Bytes) -> Response {
    let body: Value = match serde_json::from_slice(&raw) {
        Ok(v) => v,
        Err(e) => return W::error_response(400, "invalid_request_error", &format!("invalid JSON: {e}")),
    };
    let refused = W::refuse(&headers, &body, &script.lock().unwrap());
    if let Some(refused) = refused {
        return refused;
    }
    let prompt_tokens = String::from_utf8_lossy(&raw).chars().count() as u64 / 4;
    let window = script.lock().unwrap().context_window;
    if let Some(window) = window.filter(|&window| prompt_tokens > window) {
        script.lock().unwrap().received.push(Received {
            headers,
            body,
            prompt_tokens,
            too_long: true,
        });
        return W::too_long(prompt_tokens, window);
    }
    let (reply, n) = take_reply(&script, headers, &body, prompt_tokens);
    let reply = slowly(reply).await;
    let model = body["model"].as_str().unwrap_or("unknown").to_string();
    let opening = |text: &str| {
        let mut frames = W::answer(n, &model, prompt_tokens, &[Block::Text(text.into())]);
        frames.truncate(W::OPENING);
        frames
    };
    match reply {
        None => W::error_response(
            500,
            W::SERVER_ERROR,
            &format!("fake {}: the test's script has no reply left", W::NAME),
        ),
        Some(Reply::HttpError {
            status,
            kind,
            message,
            retry_after,
        }) => with_retry_after(W::error_response(status, &kind, &message), retry_after),
        Some(Reply::Answer(blocks)) => sse_body(W::answer(n, &model, prompt_tokens, &blocks), false),
        Some(Reply::StreamError { kind, message }) => {
            let mut frames = opening("partial answer");
            frames.push(W::stream_error(&kind, &message));
            sse_body(frames, false)
        }
        Some(Reply::Drop) => sse_body(opening("partial answer that never ends"), true),
        Some(Reply::Raw(events)) => sse_body(
            events
                .iter()
                .map(|(event, data)| match event.as_str() {
                    "" => format!("data: {data}\n\n"),
                    _ => format!("event: {event}\ndata: {data}\n\n"),
                })
                .collect(),
            false,
        ),
        Some(Reply::Slow(..) | Reply::Held(..)) => W::error_response(500, W::SERVER_ERROR, "fake: nested slow replies"),
    }
}

/// Records the request and takes the reply for it: the next scripted one, else the responder's.
fn take_reply(script: &Mutex<Script>, headers: HeaderMap, body: &Value, prompt_tokens: u64) -> (Option<Reply>, usize) {
    let mut script = script.lock().unwrap();
    script.received.push(Received {
        headers,
        body: body.clone(),
        prompt_tokens,
        too_long: false,
    });
    script.served += 1;
    let reply = script
        .replies
        .pop_front()
        .or_else(|| script.responder.map(|answer| answer(body)));
    (reply, script.served)
}

/// Adds a `retry-after` header (seconds) when there is one.
fn with_retry_after(mut response: Response, retry_after: Option<u64>) -> Response {
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert("retry-after", seconds.to_string().parse().unwrap());
    }
    response
}

/// Waits out a [`Reply::Slow`] or [`Reply::Held`] and returns what it wraps.
async fn slowly(reply: Option<Reply>) -> Option<Reply> {
    match reply {
        Some(Reply::Slow(pause, inner)) => {
            tokio::time::sleep(pause).await;
            Some(*inner)
        }
        Some(Reply::Held(released, inner)) => {
            while !released.load(std::sync::atomic::Ordering::Acquire) {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Some(*inner)
        }
        other => other,
    }
}

/// The Anthropic Messages API's side of the fake.
pub(super) struct AnthropicWire;

impl Wire for AnthropicWire {
    const NAME: &'static str = "Anthropic";
    const SERVER_ERROR: &'static str = "api_error";
    // message_start, ping, content_block_start and the first text_delta.
    const OPENING: usize = 4;

    fn refuse(headers: &HeaderMap, body: &Value, _script: &Script) -> Option<Response> {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        if header("x-api-key") != Some("test-key") {
            return Some(Self::error_response(401, "authentication_error", "invalid x-api-key"));
        }
        if header("anthropic-version") != Some("2023-06-01") {
            return Some(Self::error_response(
                400,
                "invalid_request_error",
                "anthropic-version header is required",
            ));
        }
        if body["stream"] != true || body["max_tokens"].as_u64().is_none() || !body["messages"].is_array() {
            return Some(Self::error_response(
                400,
                "invalid_request_error",
                "expected stream, max_tokens and messages",
            ));
        }
        None
    }

    fn error_response(status: u16, kind: &str, message: &str) -> Response {
        error_response(status, kind, message)
    }

    fn answer(n: usize, model: &str, prompt_tokens: u64, blocks: &[Block]) -> Vec<String> {
        answer_events(n, model, prompt_tokens, blocks)
            .into_iter()
            .map(|(name, data)| format!("event: {name}\ndata: {data}\n\n"))
            .collect()
    }

    fn too_long(tokens: u64, window: u64) -> Response {
        error_response(
            400,
            "invalid_request_error",
            &format!("prompt is too long: {tokens} tokens > {window} maximum"),
        )
    }

    fn stream_error(kind: &str, message: &str) -> String {
        let data = json!({ "type": "error", "error": { "type": kind, "message": message } });
        format!("event: error\ndata: {data}\n\n")
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
fn answer_events(n: usize, model: &str, prompt_tokens: u64, blocks: &[Block]) -> Vec<(String, Value)> {
    let mut events = vec![
        (
            "message_start".to_string(),
            json!({ "type": "message_start", "message": {
                "id": format!("msg_fake_{n}"), "type": "message", "role": "assistant", "model": model,
                "content": [], "stop_reason": null, "stop_sequence": null,
                "usage": { "input_tokens": prompt_tokens, "output_tokens": 1, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0 },
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

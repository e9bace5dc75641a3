//! The Anthropic Messages API, streaming (`stream: true`, server-sent events).

use serde_json::{Value, json};
use std::collections::HashMap;

use super::retry::{self, RetryPolicy};
use super::sse;
use super::{EventStream, LlmError, LlmProvider, LlmRequest, StopReason, StreamEvent, StreamFuture};
use crate::message::{ContentBlock, Message, Role, ToolCall, Usage};

/// The API version this client speaks (`anthropic-version` header).
pub const API_VERSION: &str = "2023-06-01";

/// A client of the Anthropic Messages API.
#[derive(Debug, Clone)]
pub struct AnthropicProvider {
    client: reqwest::Client,
    base_url: String,
    api_key: String,
    retry: RetryPolicy,
}

impl AnthropicProvider {
    /// A provider talking to `base_url` (for example `https://api.anthropic.com`) with `api_key`.
    pub fn new(base_url: &str, api_key: &str, retry: RetryPolicy) -> Result<Self, LlmError> {
        let client = super::streaming_client()?;
        Ok(Self {
            client,
            base_url: base_url.trim_end_matches('/').to_string(),
            api_key: api_key.to_string(),
            retry,
        })
    }

    async fn start(&self, request: LlmRequest) -> Result<EventStream, LlmError> {
        let body = request_body(&request).to_string();
        let build = || {
            self.client
                .post(format!("{}/v1/messages", self.base_url))
                .header("x-api-key", &self.api_key)
                .header("anthropic-version", API_VERSION)
                .header("content-type", "application/json")
                .header("accept", "text/event-stream")
                .body(body.clone())
        };
        let response = retry::send(&self.retry, "Anthropic", build, error_message).await?;
        Ok(sse::decode(response, Decoder::default()))
    }
}

impl LlmProvider for AnthropicProvider {
    fn stream(&self, request: LlmRequest) -> StreamFuture<'_> {
        Box::pin(self.start(request))
    }
}

/// The JSON body of a streaming Messages request.
///
/// Prompt caching: the tools, the system prompt and the conversation up to its last message each
/// end with a `cache_control` breakpoint, so each turn of a long session reads the unchanged
/// prefix from Anthropic's cache instead of paying for it again (3 of the 4 breakpoints allowed).
pub fn request_body(request: &LlmRequest) -> Value {
    let cache = json!({ "type": "ephemeral" });
    let mut tools: Vec<Value> = request
        .tools
        .iter()
        .map(|t| json!({ "name": t.name, "description": t.description, "input_schema": t.input_schema }))
        .collect();
    if let Some(last) = tools.last_mut() {
        last["cache_control"] = cache.clone();
    }
    let mut messages: Vec<Value> = request.messages.iter().filter_map(message_json).collect();
    if let Some(block) = messages
        .last_mut()
        .and_then(|m| m["content"].as_array_mut())
        .and_then(|c| c.last_mut())
    {
        block["cache_control"] = cache.clone();
    }
    let mut body = json!({
        "model": request.model,
        "max_tokens": request.max_tokens,
        "messages": messages,
        "stream": true,
    });
    if !request.system.is_empty() {
        body["system"] = json!([{ "type": "text", "text": request.system, "cache_control": cache }]);
    }
    if !tools.is_empty() {
        body["tools"] = json!(tools);
    }
    body
}

/// One message in Anthropic's shape; `None` for a message with nothing to send.
fn message_json(message: &Message) -> Option<Value> {
    let content: Vec<Value> = message
        .content
        .iter()
        .filter_map(|block| match block {
            // Anthropic refuses empty text blocks.
            ContentBlock::Text { text } if text.is_empty() => None,
            ContentBlock::Text { text } => Some(json!({ "type": "text", "text": text })),
            ContentBlock::ToolCall(call) => {
                // Arguments the model garbled are sent back as an empty object; the tool result
                // already told the model what was wrong with them.
                let input = serde_json::from_str::<Value>(&call.arguments)
                    .ok()
                    .filter(Value::is_object)
                    .unwrap_or_else(|| json!({}));
                Some(json!({ "type": "tool_use", "id": call.id, "name": call.name, "input": input }))
            }
            ContentBlock::ToolResult(result) => Some(json!({
                "type": "tool_result",
                "tool_use_id": result.call_id,
                "content": result.content,
                "is_error": result.is_error,
            })),
        })
        .collect();
    if content.is_empty() {
        return None;
    }
    let role = match message.role {
        Role::User => "user",
        Role::Assistant => "assistant",
    };
    Some(json!({ "role": role, "content": content }))
}

/// The readable part of an Anthropic error body (`{"type":"error","error":{"type","message"}}`).
fn error_message(body: &str) -> String {
    match serde_json::from_str::<Value>(body) {
        Ok(v) => match (v["error"]["type"].as_str(), v["error"]["message"].as_str()) {
            (Some(kind), Some(message)) => format!("{kind}: {message}"),
            _ => body.to_string(),
        },
        Err(_) if body.is_empty() => "empty error body".into(),
        Err(_) => body.chars().take(500).collect(),
    }
}

/// The HTTP status an Anthropic error type stands for (used for errors sent inside a stream).
fn status_of_error_type(kind: &str) -> u16 {
    match kind {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "overloaded_error" => 529,
        _ => 500,
    }
}

#[derive(Debug)]
enum Block {
    Text,
    ToolUse { id: String, name: String, json: String },
    Other,
}

/// Turns the Messages API's server-sent events into [`StreamEvent`]s.
#[derive(Debug, Default)]
struct Decoder {
    blocks: HashMap<u64, Block>,
    usage: Usage,
    stop_reason: Option<String>,
}

impl sse::Decoder for Decoder {
    const END: &'static str = "`message_stop`";

    fn decode(&mut self, event: &str, data: &str) -> Result<Vec<StreamEvent>, LlmError> {
        Ok(self.event(event, data)?.into_iter().collect())
    }
}

fn field<'a>(value: &'a Value, name: &str) -> Result<&'a Value, LlmError> {
    value
        .get(name)
        .ok_or_else(|| LlmError::Protocol(format!("event without `{name}`")))
}

fn usage_into(usage: &Value, into: &mut Usage) {
    let get = |name: &str| usage.get(name).and_then(Value::as_u64);
    if let Some(n) = get("input_tokens") {
        into.input_tokens = n;
    }
    if let Some(n) = get("output_tokens") {
        into.output_tokens = n;
    }
    if let Some(n) = get("cache_read_input_tokens") {
        into.cache_read_tokens = n;
    }
    if let Some(n) = get("cache_creation_input_tokens") {
        into.cache_write_tokens = n;
    }
}

impl Decoder {
    /// Decodes one event; `Ok(None)` for events that carry nothing for the agent.
    fn event(&mut self, event: &str, data: &str) -> Result<Option<StreamEvent>, LlmError> {
        if event == "ping" {
            return Ok(None);
        }
        let value: Value = serde_json::from_str(data)
            .map_err(|e| LlmError::Protocol(format!("`{event}` event with invalid JSON data: {e}")))?;
        match event {
            "message_start" => {
                if let Some(usage) = value.get("message").and_then(|m| m.get("usage")) {
                    usage_into(usage, &mut self.usage);
                }
                Ok(None)
            }
            "content_block_start" => {
                let index = field(&value, "index")?.as_u64().unwrap_or(0);
                let block = field(&value, "content_block")?;
                let block = match block["type"].as_str() {
                    Some("text") => Block::Text,
                    Some("tool_use") => Block::ToolUse {
                        id: block["id"].as_str().unwrap_or_default().to_string(),
                        name: block["name"].as_str().unwrap_or_default().to_string(),
                        json: String::new(),
                    },
                    _ => Block::Other,
                };
                let initial_text = value["content_block"]["text"].as_str().unwrap_or_default().to_string();
                self.blocks.insert(index, block);
                Ok((!initial_text.is_empty()).then_some(StreamEvent::TextDelta(initial_text)))
            }
            "content_block_delta" => {
                let index = field(&value, "index")?.as_u64().unwrap_or(0);
                let delta = field(&value, "delta")?;
                match (delta["type"].as_str(), self.blocks.get_mut(&index)) {
                    (Some("text_delta"), Some(Block::Text)) => Ok(Some(StreamEvent::TextDelta(
                        delta["text"].as_str().unwrap_or_default().to_string(),
                    ))),
                    (Some("input_json_delta"), Some(Block::ToolUse { json, .. })) => {
                        json.push_str(delta["partial_json"].as_str().unwrap_or_default());
                        Ok(None)
                    }
                    (_, None) => Err(LlmError::Protocol(format!("delta for unknown content block {index}"))),
                    // Thinking, signatures, citations: nothing the agent uses.
                    _ => Ok(None),
                }
            }
            "content_block_stop" => {
                let index = field(&value, "index")?.as_u64().unwrap_or(0);
                match self.blocks.remove(&index) {
                    Some(Block::ToolUse { id, name, json }) => Ok(Some(StreamEvent::ToolCall(ToolCall {
                        id,
                        name,
                        arguments: if json.trim().is_empty() { "{}".into() } else { json },
                    }))),
                    Some(_) => Ok(None),
                    None => Err(LlmError::Protocol(format!("stop for unknown content block {index}"))),
                }
            }
            "message_delta" => {
                if let Some(reason) = value["delta"]["stop_reason"].as_str() {
                    self.stop_reason = Some(reason.to_string());
                }
                if let Some(usage) = value.get("usage") {
                    usage_into(usage, &mut self.usage);
                }
                Ok(None)
            }
            "message_stop" => {
                let stop_reason = match self.stop_reason.as_deref() {
                    Some("end_turn") => StopReason::EndTurn,
                    Some("tool_use") => StopReason::ToolUse,
                    Some("max_tokens") => StopReason::MaxTokens,
                    Some("stop_sequence") => StopReason::StopSequence,
                    Some("refusal") => StopReason::Refusal,
                    _ => StopReason::Other,
                };
                Ok(Some(StreamEvent::Finish {
                    stop_reason,
                    usage: self.usage,
                }))
            }
            "error" => {
                let kind = value["error"]["type"].as_str().unwrap_or("api_error");
                let message = value["error"]["message"].as_str().unwrap_or("unknown error");
                Err(LlmError::Provider {
                    status: status_of_error_type(kind),
                    message: format!("{kind}: {message}"),
                })
            }
            // New event types may appear; the API promises they can be ignored.
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::ToolSpec;
    use crate::message::ToolResult;

    fn decode_all(events: &[(&str, &str)]) -> Vec<Result<Option<StreamEvent>, LlmError>> {
        let mut decoder = Decoder::default();
        events.iter().map(|(e, d)| decoder.event(e, d)).collect()
    }

    #[test]
    fn decodes_text_and_tool_use_with_usage() {
        let out = decode_all(&[
            (
                "message_start",
                r#"{"type":"message_start","message":{"usage":{"input_tokens":10,"output_tokens":1,"cache_read_input_tokens":4}}}"#,
            ),
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            ),
            ("ping", r#"{"type":"ping"}"#),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
            ),
            ("content_block_stop", r#"{"type":"content_block_stop","index":0}"#),
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"read","input":{}}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"pa"}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"th\":\"/a\"}"}}"#,
            ),
            ("content_block_stop", r#"{"type":"content_block_stop","index":1}"#),
            (
                "message_delta",
                r#"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":7}}"#,
            ),
            ("some_future_event", r#"{}"#),
            ("message_stop", r#"{"type":"message_stop"}"#),
        ]);
        let events: Vec<StreamEvent> = out.into_iter().filter_map(|r| r.unwrap()).collect();
        assert_eq!(
            events,
            vec![
                StreamEvent::TextDelta("Hi".into()),
                StreamEvent::ToolCall(ToolCall {
                    id: "toolu_1".into(),
                    name: "read".into(),
                    arguments: r#"{"path":"/a"}"#.into()
                }),
                StreamEvent::Finish {
                    stop_reason: StopReason::ToolUse,
                    usage: Usage {
                        input_tokens: 10,
                        output_tokens: 7,
                        cache_read_tokens: 4,
                        cache_write_tokens: 0
                    },
                },
            ]
        );
    }

    #[test]
    fn stream_errors_and_garbage_are_errors() {
        let out = decode_all(&[(
            "error",
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        )]);
        assert_eq!(
            out[0],
            Err(LlmError::Provider {
                status: 529,
                message: "overloaded_error: Overloaded".into()
            })
        );
        let out = decode_all(&[("content_block_delta", "not json")]);
        assert!(matches!(out[0], Err(LlmError::Protocol(_))));
        let out = decode_all(&[("content_block_stop", r#"{"index":3}"#)]);
        assert!(matches!(out[0], Err(LlmError::Protocol(_))));
    }

    #[test]
    fn body_has_tools_tool_results_and_skips_empty_text() {
        let request = LlmRequest {
            model: "m".into(),
            system: "sys".into(),
            messages: vec![
                Message {
                    role: Role::User,
                    content: vec![ContentBlock::Text { text: "go".into() }],
                },
                Message {
                    role: Role::Assistant,
                    content: vec![
                        ContentBlock::Text { text: String::new() },
                        ContentBlock::ToolCall(ToolCall {
                            id: "t".into(),
                            name: "ls".into(),
                            arguments: "not json".into(),
                        }),
                    ],
                },
                Message {
                    role: Role::User,
                    content: vec![ContentBlock::ToolResult(ToolResult {
                        call_id: "t".into(),
                        content: "x".into(),
                        is_error: true,
                    })],
                },
            ],
            tools: vec![ToolSpec {
                name: "ls".into(),
                description: "d".into(),
                input_schema: json!({"type":"object"}),
            }],
            max_tokens: 100,
        };
        let body = request_body(&request);
        assert_eq!(body["stream"], true);
        assert_eq!(
            body["system"],
            json!([{ "type": "text", "text": "sys", "cache_control": { "type": "ephemeral" } }])
        );
        assert_eq!(body["tools"][0]["cache_control"]["type"], "ephemeral");
        assert_eq!(body["messages"][2]["content"][0]["cache_control"]["type"], "ephemeral");
        assert!(body["messages"][0]["content"][0].get("cache_control").is_none());
        assert_eq!(body["tools"][0]["input_schema"]["type"], "object");
        assert_eq!(body["messages"][1]["content"].as_array().unwrap().len(), 1);
        assert_eq!(body["messages"][1]["content"][0]["input"], json!({}));
        assert_eq!(body["messages"][2]["content"][0]["tool_use_id"], "t");
        assert_eq!(body["messages"][2]["content"][0]["is_error"], true);
        assert_eq!(
            error_message(r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow"}}"#),
            "rate_limit_error: slow"
        );
    }
}

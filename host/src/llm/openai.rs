//! OpenAI-compatible Chat Completions, streaming: OpenAI, Ollama, vLLM, llama.cpp's server,
//! OpenRouter and others speak it.

use serde_json::{Value, json};
use std::collections::BTreeMap;

use super::retry::{self, RetryPolicy};
use super::sse;
use super::{EventStream, LlmError, LlmProvider, LlmRequest, StopReason, StreamEvent, StreamFuture};
use crate::message::{ContentBlock, Message, Role, ToolCall, Usage};

/// A client of an OpenAI-compatible Chat Completions API.
#[derive(Debug, Clone)]
pub struct OpenAiProvider {
    client: reqwest::Client,
    base_url: String,
    api_key: Option<String>,
    retry: RetryPolicy,
}

impl OpenAiProvider {
    /// A provider at `base_url` (for example `https://api.openai.com/v1`). Local servers such as
    /// Ollama need no key.
    pub fn new(base_url: &str, api_key: Option<&str>, retry: RetryPolicy) -> Result<Self, LlmError> {
        let client = super::streaming_client()?;
        Ok(Self {
            client,
            base_url: base_url.trim_end_matches('/').to_string(),
            api_key: api_key.map(str::to_string),
            retry,
        })
    }

    async fn start(&self, request: LlmRequest) -> Result<EventStream, LlmError> {
        let body = request_body(&request).to_string();
        let build = || {
            let mut builder = self
                .client
                .post(format!("{}/chat/completions", self.base_url))
                .header("content-type", "application/json")
                .header("accept", "text/event-stream")
                .body(body.clone());
            if let Some(key) = &self.api_key {
                builder = builder.bearer_auth(key);
            }
            builder
        };
        let response = retry::send(&self.retry, "the OpenAI-compatible API", build, error_message).await?;
        Ok(sse::decode(response, Decoder::default()))
    }
}

impl LlmProvider for OpenAiProvider {
    fn stream(&self, request: LlmRequest) -> StreamFuture<'_> {
        Box::pin(self.start(request))
    }
}

/// The JSON body of a streaming Chat Completions request.
pub fn request_body(request: &LlmRequest) -> Value {
    let mut messages = Vec::new();
    if !request.system.is_empty() {
        messages.push(json!({ "role": "system", "content": request.system }));
    }
    for message in &request.messages {
        messages.extend(message_json(message));
    }
    let mut body = json!({
        "model": request.model,
        "max_tokens": request.max_tokens,
        "messages": messages,
        "stream": true,
        "stream_options": { "include_usage": true },
    });
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|t| {
                json!({ "type": "function", "function": {
                    "name": t.name, "description": t.description, "parameters": t.input_schema,
                }})
            })
            .collect();
        body["tools"] = json!(tools);
    }
    body
}

/// One stored message as Chat Completions messages: tool results become `tool` messages.
fn message_json(message: &Message) -> Vec<Value> {
    let text: String = message
        .content
        .iter()
        .filter_map(|b| match b {
            ContentBlock::Text { text } => Some(text.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n\n");
    match message.role {
        Role::Assistant => {
            let calls: Vec<Value> = message
                .content
                .iter()
                .filter_map(|b| match b {
                    ContentBlock::ToolCall(c) => Some(json!({
                        "id": c.id, "type": "function",
                        "function": { "name": c.name, "arguments": c.arguments },
                    })),
                    _ => None,
                })
                .collect();
            if text.is_empty() && calls.is_empty() {
                return Vec::new();
            }
            let mut out =
                json!({ "role": "assistant", "content": if text.is_empty() { Value::Null } else { json!(text) } });
            if !calls.is_empty() {
                out["tool_calls"] = json!(calls);
            }
            vec![out]
        }
        Role::User => {
            let mut out: Vec<Value> = message
                .content
                .iter()
                .filter_map(|b| match b {
                    ContentBlock::ToolResult(r) => {
                        let content = if r.is_error {
                            format!("Error: {}", r.content)
                        } else {
                            r.content.clone()
                        };
                        Some(json!({ "role": "tool", "tool_call_id": r.call_id, "content": content }))
                    }
                    _ => None,
                })
                .collect();
            if !text.is_empty() {
                out.push(json!({ "role": "user", "content": text }));
            }
            out
        }
    }
}

/// The readable part of an error body (`{"error": {"message", "type", "code"}}`).
fn error_message(body: &str) -> String {
    match serde_json::from_str::<Value>(body) {
        Ok(v) if v["error"]["message"].is_string() => {
            let kind = v["error"]["type"]
                .as_str()
                .or(v["error"]["code"].as_str())
                .unwrap_or("error");
            format!("{kind}: {}", v["error"]["message"].as_str().unwrap_or_default())
        }
        Ok(v) if v["error"].is_string() => v["error"].as_str().unwrap_or_default().to_string(),
        _ if body.is_empty() => "empty error body".into(),
        _ => body.chars().take(500).collect(),
    }
}

#[derive(Debug, Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

/// Turns Chat Completions chunks into [`StreamEvent`]s: text as it comes, tool calls once the
/// choice finishes, and the finish (with usage, sent last) at `[DONE]`.
#[derive(Debug, Default)]
struct Decoder {
    calls: BTreeMap<u64, PartialCall>,
    finish_reason: Option<String>,
    usage: Usage,
}

impl sse::Decoder for Decoder {
    const END: &'static str = "`data: [DONE]`";

    fn decode(&mut self, _event: &str, data: &str) -> Result<Vec<StreamEvent>, LlmError> {
        if data.trim() == "[DONE]" {
            let stop_reason = match self.finish_reason.as_deref() {
                Some("stop") => StopReason::EndTurn,
                Some("tool_calls" | "function_call") => StopReason::ToolUse,
                Some("length") => StopReason::MaxTokens,
                Some("content_filter") => StopReason::Refusal,
                _ => StopReason::Other,
            };
            let mut out = self.take_calls();
            out.push(StreamEvent::Finish {
                stop_reason,
                usage: self.usage,
            });
            return Ok(out);
        }
        let chunk: Value =
            serde_json::from_str(data).map_err(|e| LlmError::Protocol(format!("chunk with invalid JSON data: {e}")))?;
        if let Some(error) = chunk.get("error") {
            let message = error["message"].as_str().unwrap_or("unknown error");
            let message = match error["type"].as_str() {
                Some(kind) => format!("{kind}: {message}"),
                None => message.to_string(),
            };
            let status = error["code"]
                .as_u64()
                .and_then(|c| u16::try_from(c).ok())
                .unwrap_or(500);
            return Err(LlmError::Provider { status, message });
        }
        if let Some(usage) = chunk.get("usage").filter(|u| u.is_object()) {
            let cached = usage["prompt_tokens_details"]["cached_tokens"].as_u64().unwrap_or(0);
            self.usage.input_tokens = usage["prompt_tokens"].as_u64().unwrap_or(0).saturating_sub(cached);
            self.usage.cache_read_tokens = cached;
            self.usage.output_tokens = usage["completion_tokens"].as_u64().unwrap_or(0);
        }
        let mut out = Vec::new();
        for choice in chunk["choices"].as_array().into_iter().flatten() {
            let delta = &choice["delta"];
            if let Some(text) = delta["content"].as_str().filter(|t| !t.is_empty()) {
                out.push(StreamEvent::TextDelta(text.to_string()));
            }
            for call in delta["tool_calls"].as_array().into_iter().flatten() {
                let index = call["index"].as_u64().unwrap_or(0);
                let partial = self.calls.entry(index).or_default();
                if let Some(id) = call["id"].as_str() {
                    partial.id = id.to_string();
                }
                if let Some(name) = call["function"]["name"].as_str() {
                    partial.name.push_str(name);
                }
                if let Some(arguments) = call["function"]["arguments"].as_str() {
                    partial.arguments.push_str(arguments);
                }
            }
            if let Some(reason) = choice["finish_reason"].as_str() {
                self.finish_reason = Some(reason.to_string());
                out.extend(self.take_calls());
            }
        }
        Ok(out)
    }
}

impl Decoder {
    fn take_calls(&mut self) -> Vec<StreamEvent> {
        std::mem::take(&mut self.calls)
            .into_values()
            .map(|c| {
                StreamEvent::ToolCall(ToolCall {
                    id: c.id,
                    name: c.name,
                    arguments: if c.arguments.trim().is_empty() {
                        "{}".into()
                    } else {
                        c.arguments
                    },
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::ToolSpec;
    use crate::message::ToolResult;
    use sse::Decoder as _;

    #[test]
    fn decodes_text_tool_calls_and_usage() {
        let mut d = Decoder::default();
        let chunks = [
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"read","arguments":""}}]},"finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"path\":"}}]},"finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"/a\"}"}}]},"finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":4}}}"#,
            "[DONE]",
        ];
        let events: Vec<StreamEvent> = chunks.iter().flat_map(|c| d.decode("", c).unwrap()).collect();
        assert_eq!(
            events,
            vec![
                StreamEvent::TextDelta("Hi".into()),
                StreamEvent::ToolCall(ToolCall {
                    id: "call_1".into(),
                    name: "read".into(),
                    arguments: r#"{"path":"/a"}"#.into()
                }),
                StreamEvent::Finish {
                    stop_reason: StopReason::ToolUse,
                    usage: Usage {
                        input_tokens: 6,
                        output_tokens: 5,
                        cache_read_tokens: 4,
                        cache_write_tokens: 0
                    },
                },
            ]
        );
        assert!(matches!(d.decode("", "{bad"), Err(LlmError::Protocol(_))));
        assert!(matches!(
            d.decode("", r#"{"error":{"message":"boom","code":503}}"#),
            Err(LlmError::Provider { status: 503, .. })
        ));
    }

    #[test]
    fn body_maps_tool_results_to_tool_messages() {
        let request = LlmRequest {
            model: "gpt-test".into(),
            system: "sys".into(),
            messages: vec![
                Message {
                    role: Role::User,
                    content: vec![ContentBlock::Text { text: "go".into() }],
                },
                Message {
                    role: Role::Assistant,
                    content: vec![ContentBlock::ToolCall(ToolCall {
                        id: "c1".into(),
                        name: "ls".into(),
                        arguments: "{}".into(),
                    })],
                },
                Message {
                    role: Role::User,
                    content: vec![ContentBlock::ToolResult(ToolResult {
                        call_id: "c1".into(),
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
        assert_eq!(body["messages"][0], json!({ "role": "system", "content": "sys" }));
        assert_eq!(body["messages"][2]["content"], Value::Null);
        assert_eq!(body["messages"][2]["tool_calls"][0]["function"]["name"], "ls");
        assert_eq!(
            body["messages"][3],
            json!({ "role": "tool", "tool_call_id": "c1", "content": "Error: x" })
        );
        assert_eq!(body["tools"][0]["function"]["parameters"]["type"], "object");
        assert_eq!(body["stream_options"]["include_usage"], true);
        assert_eq!(
            error_message(r#"{"error":{"message":"no","type":"invalid_request_error"}}"#),
            "invalid_request_error: no"
        );
    }
}

//! The Anthropic Messages API, streaming (`stream: true`, server-sent events): the request body,
//! the headers and the error bodies. The answer's events are read by its `decoder` module.

mod decoder;

use std::fmt;

use reqwest::RequestBuilder;
use serde_json::{Value, json};

use super::{HttpProvider, LlmError, LlmRequest, WireFormat};
use crate::message::{ContentBlock, Message, Role};

/// The API version this client speaks (`anthropic-version` header).
pub const API_VERSION: &str = "2023-06-01";

/// A client of the Anthropic Messages API.
pub type AnthropicProvider = HttpProvider<AnthropicMessages>;

/// The Anthropic Messages API's wire format, with the key it authenticates with.
#[derive(Clone)]
pub struct AnthropicMessages {
    api_key: String,
}

impl fmt::Debug for AnthropicMessages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnthropicMessages").finish_non_exhaustive()
    }
}

impl AnthropicMessages {
    /// The wire format, authenticating with `api_key`.
    pub fn new(api_key: &str) -> Self {
        Self {
            api_key: api_key.to_string(),
        }
    }
}

impl WireFormat for AnthropicMessages {
    const NAME: &'static str = "Anthropic";
    type Decoder = decoder::Decoder;

    fn endpoint(&self, base_url: &str, _request: &LlmRequest) -> String {
        format!("{base_url}/v1/messages")
    }

    fn headers(&self, builder: RequestBuilder) -> RequestBuilder {
        builder
            .header("x-api-key", &self.api_key)
            .header("anthropic-version", API_VERSION)
    }

    fn request_body(&self, request: &LlmRequest) -> Value {
        request_body(request)
    }

    fn error(status: u16, body: &str) -> LlmError {
        let message = error_message(body);
        // "prompt is too long: 208000 tokens > 200000 maximum", or "input length and `max_tokens`
        // exceed context limit: …", both `invalid_request_error`s.
        let overflow = status == 400
            && message.starts_with("invalid_request_error: ")
            && (message.contains("prompt is too long") || message.contains("exceed context limit"));
        if overflow {
            LlmError::ContextOverflow(message)
        } else {
            LlmError::Provider { status, message }
        }
    }
}

/// The JSON body of a streaming Messages request.
///
/// Prompt caching: the tools, the system prompt and the conversation up to its last message each
/// end with a `cache_control` breakpoint, so each turn of a long session reads the unchanged
/// prefix from Anthropic's cache instead of paying for it again (3 of the 4 breakpoints allowed).
fn request_body(request: &LlmRequest) -> Value {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::ToolSpec;
    use crate::message::{ToolCall, ToolResult};

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

    #[test]
    fn a_prompt_too_long_is_a_context_overflow() {
        let too_long = r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 208432 tokens > 200000 maximum"}}"#;
        assert_eq!(
            AnthropicMessages::error(400, too_long),
            LlmError::ContextOverflow(
                "invalid_request_error: prompt is too long: 208432 tokens > 200000 maximum".into()
            )
        );
        let other =
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"messages: roles must alternate"}}"#;
        assert!(matches!(
            AnthropicMessages::error(400, other),
            LlmError::Provider { status: 400, .. }
        ));
    }
}

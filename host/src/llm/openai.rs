//! OpenAI-compatible Chat Completions, streaming: OpenAI, Ollama, vLLM, llama.cpp's server,
//! OpenRouter and others speak it. This file holds the request body, the headers and the error
//! bodies; the answer's chunks are read by its `decoder` module.

mod decoder;

use std::fmt;
use std::str::FromStr;

use reqwest::RequestBuilder;
use serde_json::{Value, json};

use super::{HttpProvider, LlmError, LlmRequest, WireFormat};
use crate::message::{ContentBlock, Message, Role};

/// OpenAI's own API, where [`MaxTokensField::MaxCompletionTokens`] is the default.
pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

/// A client of an OpenAI-compatible Chat Completions API.
pub type OpenAiProvider = HttpProvider<ChatCompletions>;

/// The request field that caps the answer's length. Servers differ: OpenAI's current models
/// (GPT-5, the o-series) refuse `max_tokens` with HTTP 400 and want `max_completion_tokens`, which
/// OpenAI's older models take too; many OpenAI-compatible servers know only `max_tokens`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxTokensField {
    /// `max_tokens`, the field OpenAI-compatible servers know.
    MaxTokens,
    /// `max_completion_tokens`, the field OpenAI's API wants.
    MaxCompletionTokens,
}

impl MaxTokensField {
    /// The field's name in the request body.
    pub fn name(self) -> &'static str {
        match self {
            Self::MaxTokens => "max_tokens",
            Self::MaxCompletionTokens => "max_completion_tokens",
        }
    }

    /// The field to send to `base_url` unless configured otherwise: `max_completion_tokens` for
    /// OpenAI's own API (`api.openai.com`), `max_tokens` for any other server.
    pub fn default_for(base_url: &str) -> Self {
        let host = reqwest::Url::parse(base_url).ok();
        if host.as_ref().and_then(reqwest::Url::host_str) == Some("api.openai.com") {
            Self::MaxCompletionTokens
        } else {
            Self::MaxTokens
        }
    }
}

/// A [`MaxTokensField`] name that is neither `max_tokens` nor `max_completion_tokens`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown field '{0}': expected max_tokens or max_completion_tokens")]
pub struct UnknownMaxTokensField(pub String);

impl FromStr for MaxTokensField {
    type Err = UnknownMaxTokensField;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "max_tokens" => Ok(Self::MaxTokens),
            "max_completion_tokens" => Ok(Self::MaxCompletionTokens),
            other => Err(UnknownMaxTokensField(other.to_string())),
        }
    }
}

/// The Chat Completions wire format: the key (if the server wants one) and the server's
/// length-cap field.
#[derive(Clone)]
pub struct ChatCompletions {
    api_key: Option<String>,
    max_tokens_field: MaxTokensField,
}

impl fmt::Debug for ChatCompletions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatCompletions")
            .field("max_tokens_field", &self.max_tokens_field)
            .finish_non_exhaustive()
    }
}

impl ChatCompletions {
    /// The wire format, authenticating with `api_key` when there is one (local servers such as
    /// Ollama need none) and capping answers with `max_tokens_field`.
    pub fn new(api_key: Option<&str>, max_tokens_field: MaxTokensField) -> Self {
        Self {
            api_key: api_key.map(str::to_string),
            max_tokens_field,
        }
    }
}

impl WireFormat for ChatCompletions {
    const NAME: &'static str = "the OpenAI-compatible API";
    type Decoder = decoder::Decoder;

    fn endpoint(&self, base_url: &str, _request: &LlmRequest) -> String {
        format!("{base_url}/chat/completions")
    }

    fn headers(&self, builder: RequestBuilder) -> RequestBuilder {
        match &self.api_key {
            Some(key) => builder.bearer_auth(key),
            None => builder,
        }
    }

    fn request_body(&self, request: &LlmRequest) -> Value {
        let mut messages = Vec::new();
        if !request.system.is_empty() {
            messages.push(json!({ "role": "system", "content": request.system }));
        }
        for message in &request.messages {
            messages.extend(message_json(message));
        }
        let mut body = json!({
            "model": request.model,
            "messages": messages,
            "stream": true,
            "stream_options": { "include_usage": true },
        });
        body[self.max_tokens_field.name()] = json!(request.max_tokens);
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

    fn error(status: u16, body: &str) -> LlmError {
        let code = serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|v| v["error"]["code"].as_str().map(String::from));
        let message = error_message(body);
        // OpenAI says `context_length_exceeded`; compatible servers (vLLM, llama.cpp) often only
        // "This model's maximum context length is … tokens".
        if code.as_deref() == Some("context_length_exceeded") || message.contains("maximum context length") {
            LlmError::ContextOverflow(message)
        } else {
            LlmError::Provider { status, message }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::ToolSpec;
    use crate::message::{ToolCall, ToolResult};

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
        let body = ChatCompletions::new(None, MaxTokensField::MaxTokens).request_body(&request);
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

    #[test]
    fn context_length_exceeded_is_a_context_overflow() {
        let too_long = r#"{"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 130536 tokens. Please reduce the length of the messages.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#;
        assert!(
            matches!(ChatCompletions::error(400, too_long), LlmError::ContextOverflow(m) if m.contains("130536 tokens"))
        );
        let other = r#"{"error":{"message":"no","type":"invalid_request_error","param":null,"code":null}}"#;
        assert!(matches!(
            ChatCompletions::error(400, other),
            LlmError::Provider { status: 400, .. }
        ));
    }

    #[test]
    fn body_caps_the_answer_with_the_configured_field() {
        let request = LlmRequest {
            model: "gpt-5.1".into(),
            system: String::new(),
            messages: Vec::new(),
            tools: Vec::new(),
            max_tokens: 321,
        };
        let body = ChatCompletions::new(None, MaxTokensField::MaxCompletionTokens).request_body(&request);
        assert_eq!(body["max_completion_tokens"], 321);
        assert!(body.get("max_tokens").is_none(), "{body}");
        let body = ChatCompletions::new(None, MaxTokensField::MaxTokens).request_body(&request);
        assert_eq!(body["max_tokens"], 321);
        assert!(body.get("max_completion_tokens").is_none(), "{body}");
    }

    #[test]
    fn openai_itself_gets_max_completion_tokens_by_default() {
        assert_eq!(
            MaxTokensField::default_for(OPENAI_BASE_URL),
            MaxTokensField::MaxCompletionTokens
        );
        assert_eq!(
            MaxTokensField::default_for("https://api.openai.com/v1/"),
            MaxTokensField::MaxCompletionTokens
        );
        for other in [
            "http://127.0.0.1:11434/v1",
            "https://openrouter.ai/api/v1",
            "https://api.openai.com.example.net/v1",
            "not a url",
        ] {
            assert_eq!(MaxTokensField::default_for(other), MaxTokensField::MaxTokens, "{other}");
        }
        assert_eq!("max_tokens".parse(), Ok(MaxTokensField::MaxTokens));
        assert_eq!("max_completion_tokens".parse(), Ok(MaxTokensField::MaxCompletionTokens));
        assert_eq!(
            "maxTokens".parse::<MaxTokensField>(),
            Err(UnknownMaxTokensField("maxTokens".into()))
        );
    }
}

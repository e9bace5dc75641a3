//! Reading Chat Completions chunks: `choices[].delta` with `content` and `tool_calls`, a
//! `finish_reason`, a usage-only chunk, `data: [DONE]`, and `{"error"}` chunks. A tool call
//! without the index, id or name the format requires is a protocol error, never a default.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::llm::{LlmError, StopReason, StreamEvent, sse};
use crate::message::{ToolCall, Usage};

/// A tool call whose pieces are still arriving.
#[derive(Debug, Default)]
struct PartialCall {
    id: Option<String>,
    name: String,
    arguments: String,
}

/// Turns Chat Completions chunks into [`StreamEvent`]s: text as it comes, tool calls once the
/// choice finishes, and the finish (with usage, sent last) at `[DONE]`.
#[derive(Debug, Default)]
pub struct Decoder {
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
            let mut out = self.take_calls()?;
            out.push(StreamEvent::Finish {
                stop_reason,
                usage: self.usage,
            });
            return Ok(out);
        }
        let chunk: Value =
            serde_json::from_str(data).map_err(|e| LlmError::Protocol(format!("chunk with invalid JSON data: {e}")))?;
        if let Some(error) = chunk.get("error") {
            // The call failed either way; a malformed error still reads as one.
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
        // Usage is optional: compatible servers may leave out any part of it.
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
                self.add_call_delta(call)?;
            }
            if let Some(reason) = choice["finish_reason"].as_str() {
                self.finish_reason = Some(reason.to_string());
                out.extend(self.take_calls()?);
            }
        }
        Ok(out)
    }
}

impl Decoder {
    /// Adds one `tool_calls[]` delta to the call its `index` names.
    fn add_call_delta(&mut self, call: &Value) -> Result<(), LlmError> {
        let index = call
            .get("index")
            .ok_or_else(|| LlmError::Protocol("tool call delta without `index`".into()))?
            .as_u64()
            .ok_or_else(|| LlmError::Protocol("tool call delta whose `index` is not a number".into()))?;
        let partial = self.calls.entry(index).or_default();
        if let Some(id) = call["id"].as_str() {
            partial.id = Some(id.to_string());
        }
        if let Some(name) = call["function"]["name"].as_str() {
            partial.name.push_str(name);
        }
        if let Some(arguments) = call["function"]["arguments"].as_str() {
            partial.arguments.push_str(arguments);
        }
        Ok(())
    }

    /// The finished tool calls, in index order.
    fn take_calls(&mut self) -> Result<Vec<StreamEvent>, LlmError> {
        std::mem::take(&mut self.calls)
            .into_iter()
            .map(|(index, call)| {
                let id = call
                    .id
                    .ok_or_else(|| LlmError::Protocol(format!("tool call {index} finished without an `id`")))?;
                if call.name.is_empty() {
                    return Err(LlmError::Protocol(format!(
                        "tool call {index} finished without a `name`"
                    )));
                }
                Ok(StreamEvent::ToolCall(ToolCall {
                    id,
                    name: call.name,
                    arguments: if call.arguments.trim().is_empty() {
                        "{}".into()
                    } else {
                        call.arguments
                    },
                }))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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

    /// The protocol error the last of `chunks` causes, after the ones before it decoded fine.
    fn last_error(chunks: &[&str]) -> String {
        let mut d = Decoder::default();
        let (last, before) = chunks.split_last().unwrap();
        for chunk in before {
            d.decode("", chunk).unwrap();
        }
        match d.decode("", last) {
            Err(LlmError::Protocol(message)) => message,
            other => panic!("expected a protocol error, got {other:?}"),
        }
    }

    #[test]
    fn tool_calls_without_index_id_or_name_are_protocol_errors() {
        let call = |delta: &str, finish: &str| {
            format!(r#"{{"choices":[{{"index":0,"delta":{{"tool_calls":[{delta}]}},"finish_reason":{finish}}}]}}"#)
        };
        let no_index = call(
            r#"{"id":"c","type":"function","function":{"name":"ls","arguments":"{}"}}"#,
            "null",
        );
        assert_eq!(last_error(&[no_index.as_str()]), "tool call delta without `index`");
        let bad_index = call(r#"{"index":"0","id":"c","function":{"name":"ls"}}"#, "null");
        assert_eq!(
            last_error(&[bad_index.as_str()]),
            "tool call delta whose `index` is not a number"
        );
        let no_id = call(
            r#"{"index":0,"type":"function","function":{"name":"ls","arguments":"{}"}}"#,
            r#""tool_calls""#,
        );
        assert_eq!(last_error(&[no_id.as_str()]), "tool call 0 finished without an `id`");
        let no_name = call(
            r#"{"index":1,"id":"c","type":"function","function":{"arguments":"{}"}}"#,
            r#""tool_calls""#,
        );
        assert_eq!(last_error(&[no_name.as_str()]), "tool call 1 finished without a `name`");
        // A call still open when the stream ends is checked at `[DONE]`.
        let open = call(r#"{"index":0,"function":{"name":"ls","arguments":"{}"}}"#, "null");
        assert_eq!(
            last_error(&[open.as_str(), "[DONE]"]),
            "tool call 0 finished without an `id`"
        );
    }
}

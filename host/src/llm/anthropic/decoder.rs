//! Reading the Messages API's server-sent events: `message_start`, `content_block_start` /
//! `content_block_delta` / `content_block_stop`, `message_delta`, `message_stop`, `ping` and
//! `error`. A field the API always sends that is missing is a protocol error, never a default.

use std::collections::HashMap;

use serde_json::Value;

use crate::llm::{LlmError, StopReason, StreamEvent, sse};
use crate::message::{ToolCall, Usage};

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
    ToolUse {
        id: String,
        name: String,
        json: String,
    },
    /// Thinking, server tools and block types to come: nothing the agent uses.
    Other,
}

/// Turns the Messages API's server-sent events into [`StreamEvent`]s.
#[derive(Debug, Default)]
pub struct Decoder {
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

/// `value[name]`, which the API always sends with `event`.
fn field<'a>(event: &str, value: &'a Value, name: &str) -> Result<&'a Value, LlmError> {
    value
        .get(name)
        .ok_or_else(|| LlmError::Protocol(format!("`{event}` event without `{name}`")))
}

/// `value[name]` as a string, which the API always sends with `event`.
fn string<'a>(event: &str, value: &'a Value, name: &str) -> Result<&'a str, LlmError> {
    field(event, value, name)?
        .as_str()
        .ok_or_else(|| LlmError::Protocol(format!("`{event}` event whose `{name}` is not a string")))
}

/// The content block index of `event`.
fn index(event: &str, value: &Value) -> Result<u64, LlmError> {
    field(event, value, "index")?
        .as_u64()
        .ok_or_else(|| LlmError::Protocol(format!("`{event}` event whose `index` is not a number")))
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
            "content_block_start" => self.block_start(event, &value),
            "content_block_delta" => self.block_delta(event, &value),
            "content_block_stop" => {
                let index = index(event, &value)?;
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
                // The call failed either way; a malformed error still reads as one.
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

    fn block_start(&mut self, event: &str, value: &Value) -> Result<Option<StreamEvent>, LlmError> {
        let index = index(event, value)?;
        let block = field(event, value, "content_block")?;
        let (block, initial_text) = match string(event, block, "type")? {
            "text" => (Block::Text, string(event, block, "text")?),
            "tool_use" => {
                let tool_use = Block::ToolUse {
                    id: string(event, block, "id")?.to_string(),
                    name: string(event, block, "name")?.to_string(),
                    json: String::new(),
                };
                (tool_use, "")
            }
            _ => (Block::Other, ""),
        };
        if self.blocks.insert(index, block).is_some() {
            return Err(LlmError::Protocol(format!("content block {index} started twice")));
        }
        Ok((!initial_text.is_empty()).then(|| StreamEvent::TextDelta(initial_text.to_string())))
    }

    fn block_delta(&mut self, event: &str, value: &Value) -> Result<Option<StreamEvent>, LlmError> {
        let index = index(event, value)?;
        let delta = field(event, value, "delta")?;
        let kind = string(event, delta, "type")?;
        let block = self
            .blocks
            .get_mut(&index)
            .ok_or_else(|| LlmError::Protocol(format!("delta for unknown content block {index}")))?;
        match (kind, block) {
            ("text_delta", Block::Text) => Ok(Some(StreamEvent::TextDelta(string(event, delta, "text")?.to_string()))),
            ("input_json_delta", Block::ToolUse { json, .. }) => {
                json.push_str(string(event, delta, "partial_json")?);
                Ok(None)
            }
            ("text_delta" | "input_json_delta", block) => Err(LlmError::Protocol(format!(
                "`{kind}` for content block {index}, which is {}",
                match block {
                    Block::Text => "text",
                    Block::ToolUse { .. } => "a tool use",
                    Block::Other => "neither text nor a tool use",
                }
            ))),
            // Thinking, signatures, citations: nothing the agent uses.
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// The error for `events`' last event, after the ones before it decoded fine.
    fn last_error(events: &[(&str, &str)]) -> String {
        let mut out = decode_all(events);
        let last = out.pop().unwrap();
        assert!(out.iter().all(Result::is_ok), "{out:?}");
        match last {
            Err(LlmError::Protocol(message)) => message,
            other => panic!("expected a protocol error, got {other:?}"),
        }
    }

    const TEXT_START: (&str, &str) = (
        "content_block_start",
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
    );
    const TOOL_START: (&str, &str) = (
        "content_block_start",
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"ls","input":{}}}"#,
    );

    #[test]
    fn missing_fields_are_protocol_errors() {
        let start = |block: &str| format!(r#"{{"type":"content_block_start","index":0,"content_block":{block}}}"#);
        let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
            (
                vec![(
                    "content_block_start",
                    r#"{"content_block":{"type":"text","text":""}}"#.into(),
                )],
                "`content_block_start` event without `index`",
            ),
            (
                vec![(
                    "content_block_start",
                    r#"{"index":"0","content_block":{"type":"text","text":""}}"#.into(),
                )],
                "`content_block_start` event whose `index` is not a number",
            ),
            (
                vec![(
                    "content_block_start",
                    start(r#"{"type":"tool_use","name":"ls","input":{}}"#),
                )],
                "`content_block_start` event without `id`",
            ),
            (
                vec![(
                    "content_block_start",
                    start(r#"{"type":"tool_use","id":"t","input":{}}"#),
                )],
                "`content_block_start` event without `name`",
            ),
            (
                vec![("content_block_start", start(r#"{"type":"text"}"#))],
                "`content_block_start` event without `text`",
            ),
            (
                vec![("content_block_start", start(r#"{"text":""}"#))],
                "`content_block_start` event without `type`",
            ),
            (
                vec![(TEXT_START.0, TEXT_START.1.into()), (TEXT_START.0, TEXT_START.1.into())],
                "content block 0 started twice",
            ),
            (
                vec![
                    (TEXT_START.0, TEXT_START.1.into()),
                    (
                        "content_block_delta",
                        r#"{"delta":{"type":"text_delta","text":"x"}}"#.into(),
                    ),
                ],
                "`content_block_delta` event without `index`",
            ),
            (
                vec![
                    (TEXT_START.0, TEXT_START.1.into()),
                    (
                        "content_block_delta",
                        r#"{"index":0,"delta":{"type":"text_delta"}}"#.into(),
                    ),
                ],
                "`content_block_delta` event without `text`",
            ),
            (
                vec![
                    (TEXT_START.0, TEXT_START.1.into()),
                    ("content_block_delta", r#"{"index":0,"delta":{"text":"x"}}"#.into()),
                ],
                "`content_block_delta` event without `type`",
            ),
            (
                vec![
                    (TOOL_START.0, TOOL_START.1.into()),
                    (
                        "content_block_delta",
                        r#"{"index":0,"delta":{"type":"input_json_delta"}}"#.into(),
                    ),
                ],
                "`content_block_delta` event without `partial_json`",
            ),
            (
                vec![
                    (TOOL_START.0, TOOL_START.1.into()),
                    (
                        "content_block_delta",
                        r#"{"index":0,"delta":{"type":"text_delta","text":"x"}}"#.into(),
                    ),
                ],
                "`text_delta` for content block 0, which is a tool use",
            ),
            (
                vec![
                    (TEXT_START.0, TEXT_START.1.into()),
                    ("content_block_stop", r#"{"type":"content_block_stop"}"#.into()),
                ],
                "`content_block_stop` event without `index`",
            ),
        ];
        for (events, expected) in cases {
            let events: Vec<(&str, &str)> = events.iter().map(|(e, d)| (*e, d.as_str())).collect();
            assert_eq!(last_error(&events), expected, "{events:?}");
        }
    }

    #[test]
    fn unknown_deltas_and_blocks_are_ignored() {
        let out = decode_all(&[
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"s"}}"#,
            ),
            ("content_block_stop", r#"{"type":"content_block_stop","index":0}"#),
        ]);
        assert!(out.iter().all(|r| matches!(r, Ok(None))), "{out:?}");
    }
}

//! The agent loop: model → tool calls → results → model, until the model stops or the turn limit.

use crate::bindings::exports::pi::worker::agent::{AgentError, ChatOutcome, ChatRequest, ChatResponse, ToolCallRecord};
use crate::bindings::pi::worker::llm::{
    self, ContentBlock, Message, Request, Role, StreamEvent, ToolCall, ToolResult, ToolSpec, Usage,
};
use crate::bindings::pi::worker::session::{self, AgentEvent, ToolEnd, ToolStart};
use crate::host::{Host, Imports};
use crate::prompt::{MAX_TOKENS, SYSTEM_PROMPT};
use crate::tools::{self, Tool};

/// One model answer, collected from its stream.
struct Answer {
    text: String,
    calls: Vec<ToolCall>,
    usage: Usage,
    /// The chat was aborted while the answer streamed: `text` is what arrived before.
    aborted: bool,
}

/// What an aborted chat says, and stores when the model had said nothing yet.
const ABORTED: &str = "[Aborted: the chat was stopped on request.]";

/// Ends an aborted chat: persists what is not yet, and answers with what was produced. Turns
/// already persisted are whole (every tool call has its result); when the unpersisted part ends
/// with the user's message, a short assistant note follows it, so it is answered.
fn aborted(
    mut unsaved: Vec<Message>,
    mut texts: Vec<String>,
    records: Vec<ToolCallRecord>,
    usage: Usage,
) -> ChatResponse {
    if unsaved.last().is_some_and(|m| matches!(m.role, Role::User)) {
        unsaved.push(Message {
            role: Role::Assistant,
            content: vec![ContentBlock::Text(ABORTED.into())],
        });
    }
    if !unsaved.is_empty() {
        session::append(&unsaved);
    }
    texts.push(ABORTED.into());
    ChatResponse {
        response: texts.join("\n\n"),
        tool_calls: records,
        usage,
        outcome: ChatOutcome::Aborted,
    }
}

/// Runs one chat.
pub fn chat(req: ChatRequest) -> Result<ChatResponse, AgentError> {
    if req.message.trim().is_empty() {
        return Err(AgentError::InvalidRequest("the message is empty".into()));
    }
    let tools = tools::all();
    let specs: Vec<ToolSpec> = tools
        .iter()
        .map(|t| ToolSpec {
            name: t.name.into(),
            description: t.description.into(),
            input_schema: t.schema.to_string(),
        })
        .collect();
    let mut messages = session::history();
    let user = Message {
        role: Role::User,
        content: vec![ContentBlock::Text(req.message.clone())],
    };
    messages.push(user.clone());
    // Messages not yet persisted: a turn is stored whole (call and results together) or not at all.
    let mut unsaved = vec![user];
    let mut texts: Vec<String> = Vec::new();
    let mut records = Vec::new();
    let mut usage = zero_usage();
    let mut host = Imports::default();
    let mut guard = RepeatGuard::default();

    for _turn in 0..req.max_turns {
        if session::aborted() {
            return Ok(aborted(unsaved, texts, records, usage));
        }
        let request = Request {
            model: req.model.clone(),
            system: SYSTEM_PROMPT.into(),
            messages: messages.clone(),
            tools: specs.clone(),
            max_tokens: MAX_TOKENS,
        };
        let answer = ask(&request)?;
        add_usage(&mut usage, &answer.usage);
        if answer.aborted {
            // What the model said before the abort stands; the calls it began are not run.
            if !answer.text.is_empty() {
                texts.push(answer.text.clone());
                unsaved.push(Message {
                    role: Role::Assistant,
                    content: vec![ContentBlock::Text(answer.text)],
                });
            }
            return Ok(aborted(unsaved, texts, records, usage));
        }
        if !answer.text.is_empty() {
            texts.push(answer.text.clone());
        }
        let mut content = Vec::new();
        if !answer.text.is_empty() {
            content.push(ContentBlock::Text(answer.text));
        }
        content.extend(answer.calls.iter().cloned().map(ContentBlock::ToolCall));
        let assistant = Message {
            role: Role::Assistant,
            content,
        };
        messages.push(assistant.clone());
        unsaved.push(assistant);

        if answer.calls.is_empty() {
            session::append(&unsaved);
            return Ok(ChatResponse {
                response: texts.join("\n\n"),
                tool_calls: records,
                usage,
                outcome: ChatOutcome::Done,
            });
        }
        let repeated = guard.observe(&answer.calls);
        let limit = req.max_tool_output_bytes as usize;
        let results = run_tools(&tools, &mut host, &answer.calls, &mut records, limit);
        let results = Message {
            role: Role::User,
            content: results,
        };
        messages.push(results.clone());
        unsaved.push(results);
        session::append(&unsaved);
        unsaved.clear();
        if repeated {
            texts.push(format!(
                "[Stopped: the model made the same tool call with the same arguments {REPEAT_LIMIT} times in a row.]"
            ));
            return Ok(ChatResponse {
                response: texts.join("\n\n"),
                tool_calls: records,
                usage,
                outcome: ChatOutcome::RepeatGuard,
            });
        }
    }
    texts.push(format!(
        "[Stopped: this chat reached its limit of {} model turns. Send another message to continue.]",
        req.max_turns
    ));
    Ok(ChatResponse {
        response: texts.join("\n\n"),
        tool_calls: records,
        usage,
        outcome: ChatOutcome::TurnLimit,
    })
}

/// Calls the model and collects its streamed answer, forwarding text to the client as it comes.
fn ask(request: &Request) -> Result<Answer, AgentError> {
    let mut answer = Answer {
        text: String::new(),
        calls: Vec::new(),
        usage: zero_usage(),
        aborted: false,
    };
    let stream = match llm::complete(request) {
        Ok(stream) => stream,
        Err(llm::LlmError::Aborted) => {
            answer.aborted = true;
            return Ok(answer);
        }
        Err(e) => return Err(AgentError::Llm(e)),
    };
    loop {
        let event = match stream.next() {
            Ok(event) => event,
            Err(llm::LlmError::Aborted) => {
                answer.aborted = true;
                return Ok(answer);
            }
            Err(e) => return Err(AgentError::Llm(e)),
        };
        match event {
            Some(StreamEvent::TextDelta(delta)) => {
                session::emit(&AgentEvent::TextDelta(delta.clone()));
                answer.text.push_str(&delta);
            }
            Some(StreamEvent::ToolCall(call)) => answer.calls.push(call),
            Some(StreamEvent::Finish(finish)) => {
                answer.usage = finish.usage;
                return Ok(answer);
            }
            None => {
                return Err(AgentError::Llm(llm::LlmError::Transport(
                    "the answer ended without finishing".into(),
                )));
            }
        }
    }
}

/// Identical consecutive turns (same calls, same arguments) that stop a chat.
const REPEAT_LIMIT: usize = 4;

/// Spots a model stuck calling the same tools with the same arguments, turn after turn.
#[derive(Default)]
struct RepeatGuard {
    last: Vec<(String, String)>,
    times: usize,
}

impl RepeatGuard {
    /// Records a turn's calls; true once the same calls came [`REPEAT_LIMIT`] turns in a row.
    fn observe(&mut self, calls: &[ToolCall]) -> bool {
        let now: Vec<(String, String)> = calls.iter().map(|c| (c.name.clone(), c.arguments.clone())).collect();
        if now == self.last {
            self.times += 1;
        } else {
            self.last = now;
            self.times = 1;
        }
        self.times >= REPEAT_LIMIT
    }
}

/// Cuts a tool result to `limit` bytes (at a character boundary), saying so.
fn cap_output(mut text: String, limit: usize) -> String {
    if text.len() <= limit {
        return text;
    }
    let mut cut = limit;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let total = text.len();
    text.truncate(cut);
    text.push_str(&format!(
        "\n\n[Output cut to {cut} of {total} bytes by the server's tool-output limit.]"
    ));
    text
}

/// Runs tool calls one after another; every call gets a result, failures as error results. Once
/// the chat is aborted, the calls not yet started are not run: their results say so (a call
/// that started always finishes).
fn run_tools(
    tools: &[Tool],
    host: &mut dyn Host,
    calls: &[ToolCall],
    records: &mut Vec<ToolCallRecord>,
    output_limit: usize,
) -> Vec<ContentBlock> {
    calls
        .iter()
        .map(|call| {
            if session::aborted() {
                return ContentBlock::ToolResult(ToolResult {
                    call_id: call.id.clone(),
                    content: "Not run: the chat was aborted.".into(),
                    is_error: true,
                });
            }
            session::emit(&AgentEvent::ToolStart(ToolStart {
                id: call.id.clone(),
                tool: call.name.clone(),
                args: call.arguments.clone(),
            }));
            records.push(ToolCallRecord {
                tool: call.name.clone(),
                args: call.arguments.clone(),
            });
            let (content, is_error) = match tools::dispatch(tools, host, &call.name, &call.arguments) {
                Ok(text) => (cap_output(text, output_limit), false),
                Err(text) => (cap_output(text, output_limit), true),
            };
            session::emit(&AgentEvent::ToolEnd(ToolEnd {
                id: call.id.clone(),
                tool: call.name.clone(),
                is_error,
                result: content.clone(),
            }));
            ContentBlock::ToolResult(ToolResult {
                call_id: call.id.clone(),
                content,
                is_error,
            })
        })
        .collect()
}

fn zero_usage() -> Usage {
    Usage {
        input_tokens: 0,
        output_tokens: 0,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
    }
}

fn add_usage(total: &mut Usage, more: &Usage) {
    total.input_tokens += more.input_tokens;
    total.output_tokens += more.output_tokens;
    total.cache_read_tokens += more.cache_read_tokens;
    total.cache_write_tokens += more.cache_write_tokens;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: &str) -> ToolCall {
        ToolCall {
            id: "x".into(),
            name: name.into(),
            arguments: args.into(),
        }
    }

    #[test]
    fn repeat_guard_trips_on_identical_turns_only() {
        let mut guard = RepeatGuard::default();
        let same = [call("read", "{\"path\":\"a\"}")];
        assert!(!guard.observe(&same));
        assert!(!guard.observe(&same));
        assert!(!guard.observe(&[call("read", "{\"path\":\"b\"}")]));
        assert!(!guard.observe(&same));
        assert!(!guard.observe(&same));
        assert!(!guard.observe(&same));
        assert!(guard.observe(&same));
    }

    #[test]
    fn output_is_cut_at_a_char_boundary_with_a_notice() {
        assert_eq!(cap_output("short".into(), 10), "short");
        let cut = cap_output("ééé".into(), 3);
        assert!(cut.starts_with("é\n\n[Output cut to 2 of 6 bytes"), "{cut}");
    }
}

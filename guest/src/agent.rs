//! The agent loop: model → tool calls → results → model, until the model stops or the turn limit.

use crate::bindings::exports::pi::worker::agent::{AgentError, ChatOutcome, ChatRequest, ChatResponse, ToolCallRecord};
use crate::bindings::pi::worker::llm::{
    self, ContentBlock, LlmError, Message, Request, Role, StreamEvent, ToolCall, ToolResult, ToolSpec, Usage,
};
use crate::bindings::pi::worker::process;
use crate::bindings::pi::worker::session::{self, AgentEvent, ToolEnd, ToolStart};
use crate::compaction::{Compacted, Window, compact};
use crate::conversation::{Conversation, tokens_of_text};
use crate::host::{Host, Imports};
use crate::prompt::SYSTEM_PROMPT;
use crate::tools::{self, Tool};

/// One model answer, collected from its stream.
pub struct Answer {
    pub text: String,
    pub calls: Vec<ToolCall>,
    pub usage: Usage,
    /// The chat was aborted while the answer streamed: `text` is what arrived before.
    pub aborted: bool,
}

impl Answer {
    /// The size of the prompt as the provider counted it.
    fn prompt_tokens(&self) -> u64 {
        self.usage.input_tokens + self.usage.cache_read_tokens + self.usage.cache_write_tokens
    }
}

/// What an aborted chat says, and stores when the model had said nothing yet.
const ABORTED: &str = "[Aborted: the chat was stopped on request.]";

/// The chat's answer so far.
struct Progress {
    texts: Vec<String>,
    records: Vec<ToolCallRecord>,
    usage: Usage,
}

impl Progress {
    fn end(self, outcome: ChatOutcome) -> ChatResponse {
        ChatResponse {
            response: self.texts.join("\n\n"),
            tool_calls: self.records,
            usage: self.usage,
            outcome,
        }
    }
}

/// Ends an aborted chat: stores what is not stored yet, and answers with what was produced.
/// Stored turns are whole (every tool call has its result); when the unstored part ends with the
/// user's message, a short assistant note follows it, so it is answered.
fn aborted(conversation: &mut Conversation, mut progress: Progress) -> ChatResponse {
    if conversation.ends_with_unanswered_user() {
        conversation.push(
            Message {
                role: Role::Assistant,
                content: vec![ContentBlock::Text(ABORTED.into())],
            },
            0,
        );
    }
    conversation.save();
    progress.texts.push(ABORTED.into());
    progress.end(ChatOutcome::Aborted)
}

/// Runs one chat.
pub fn chat(req: ChatRequest) -> Result<ChatResponse, AgentError> {
    if req.message.trim().is_empty() {
        return Err(AgentError::InvalidRequest("the message is empty".into()));
    }
    let tools = tools::all();
    let builtins = process::builtins();
    let specs: Vec<ToolSpec> = tools
        .iter()
        .map(|t| ToolSpec {
            name: t.name.into(),
            description: match t.name {
                tools::run::NAME => tools::run::description(&builtins),
                _ => t.description.into(),
            },
            input_schema: t.schema.to_string(),
        })
        .collect();
    let fixed = tokens_of_text(SYSTEM_PROMPT)
        + specs
            .iter()
            .map(|s| tokens_of_text(&s.name) + tokens_of_text(&s.description) + tokens_of_text(&s.input_schema))
            .sum::<u64>();
    let window = Window {
        tokens: req.context_tokens,
        compact_at_percent: req.compact_at_percent,
    };
    // A turn is stored whole (call and results together) or not at all.
    let mut conversation = Conversation::load();
    conversation.push(
        Message {
            role: Role::User,
            content: vec![ContentBlock::Text(req.message.clone())],
        },
        0,
    );
    let mut progress = Progress {
        texts: Vec::new(),
        records: Vec::new(),
        usage: zero_usage(),
    };
    let mut host = Imports::default();
    let mut guard = RepeatGuard::default();

    for _turn in 0..req.max_turns {
        if session::aborted() {
            return Ok(aborted(&mut conversation, progress));
        }
        if conversation.estimate(fixed) > window.threshold() {
            let compacted = compact(
                &mut conversation,
                &window,
                &req.model,
                false,
                fixed,
                &mut progress.usage,
            )?;
            if matches!(compacted, Compacted::Aborted) {
                return Ok(aborted(&mut conversation, progress));
            }
        }
        let request = |conversation: &Conversation| Request {
            model: req.model.clone(),
            system: SYSTEM_PROMPT.into(),
            messages: conversation.messages(),
            tools: specs.clone(),
            max_tokens: window.answer_tokens(),
        };
        let answer = match ask(&request(&conversation), true) {
            // Too long after all (the estimate was short): compact harder and retry once.
            Err(AgentError::Llm(LlmError::ContextOverflow(message))) => {
                match compact(&mut conversation, &window, &req.model, true, fixed, &mut progress.usage)? {
                    Compacted::Done => ask(&request(&conversation), true)?,
                    Compacted::Nothing => return Err(AgentError::Llm(LlmError::ContextOverflow(message))),
                    Compacted::Aborted => return Ok(aborted(&mut conversation, progress)),
                }
            }
            answer => answer?,
        };
        add_usage(&mut progress.usage, &answer.usage);
        let prompt_tokens = answer.prompt_tokens();
        if answer.aborted {
            // What the model said before the abort stands; the calls it began are not run.
            if !answer.text.is_empty() {
                progress.texts.push(answer.text.clone());
                conversation.push(
                    Message {
                        role: Role::Assistant,
                        content: vec![ContentBlock::Text(answer.text)],
                    },
                    prompt_tokens,
                );
            }
            return Ok(aborted(&mut conversation, progress));
        }
        let mut content = Vec::new();
        if !answer.text.is_empty() {
            progress.texts.push(answer.text.clone());
            content.push(ContentBlock::Text(answer.text));
        }
        content.extend(answer.calls.iter().cloned().map(ContentBlock::ToolCall));
        conversation.push(
            Message {
                role: Role::Assistant,
                content,
            },
            prompt_tokens,
        );

        if answer.calls.is_empty() {
            conversation.save();
            return Ok(progress.end(ChatOutcome::Done));
        }
        let repeated = guard.observe(&answer.calls);
        let limit = req.max_tool_output_bytes as usize;
        let results = run_tools(&tools, &mut host, &answer.calls, &mut progress.records, limit);
        conversation.push(
            Message {
                role: Role::User,
                content: results,
            },
            0,
        );
        conversation.save();
        if repeated {
            progress.texts.push(format!(
                "[Stopped: the model made the same tool call with the same arguments {REPEAT_LIMIT} times in a row.]"
            ));
            return Ok(progress.end(ChatOutcome::RepeatGuard));
        }
    }
    progress.texts.push(format!(
        "[Stopped: this chat reached its limit of {} model turns. Send another message to continue.]",
        req.max_turns
    ));
    Ok(progress.end(ChatOutcome::TurnLimit))
}

/// Calls the model and collects its streamed answer, forwarding its text to the client as it
/// comes when `live`.
pub fn ask(request: &Request, live: bool) -> Result<Answer, AgentError> {
    let mut answer = Answer {
        text: String::new(),
        calls: Vec::new(),
        usage: zero_usage(),
        aborted: false,
    };
    let stream = match llm::complete(request) {
        Ok(stream) => stream,
        Err(LlmError::Aborted) => {
            answer.aborted = true;
            return Ok(answer);
        }
        Err(e) => return Err(AgentError::Llm(e)),
    };
    loop {
        let event = match stream.next() {
            Ok(event) => event,
            Err(LlmError::Aborted) => {
                answer.aborted = true;
                return Ok(answer);
            }
            Err(e) => return Err(AgentError::Llm(e)),
        };
        match event {
            Some(StreamEvent::TextDelta(delta)) => {
                if live {
                    session::emit(&AgentEvent::TextDelta(delta.clone()));
                }
                answer.text.push_str(&delta);
            }
            Some(StreamEvent::ToolCall(call)) => answer.calls.push(call),
            Some(StreamEvent::Finish(finish)) => {
                answer.usage = finish.usage;
                return Ok(answer);
            }
            None => {
                return Err(AgentError::Llm(LlmError::Transport(
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
    let cut = text.floor_char_boundary(limit);
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

/// Adds `more` to `total`.
pub fn add_usage(total: &mut Usage, more: &Usage) {
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

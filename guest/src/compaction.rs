//! Compaction: when the prompt nears the model's context window, older turns are summarised by
//! the model into one message, and the most recent turns stay verbatim.
//!
//! The policy, after pi's:
//! - the threshold is a share of the window (`compact-at-percent`); a provider's "too long"
//!   answer compacts harder (fewer recent turns kept) and the call is retried once;
//! - the recent turns kept are about a fifth of the window (a twentieth when compacting harder),
//!   cut only where a turn starts, never between a tool call and its result;
//! - the older turns go to the model as text, each large tool result and argument cut down
//!   first, in as many chunks as the window needs, each chunk folded into the summary so far;
//! - the session stores a marker and keeps every message; the model's view becomes the summary
//!   and the turns kept.

use crate::bindings::exports::pi::worker::agent::AgentError;
use crate::bindings::pi::worker::llm::{ContentBlock, Message, Request, Role, Usage};
use crate::bindings::pi::worker::session::{self, AgentEvent, CompactionEvent};
use crate::conversation::{Conversation, Item, is_tool_results, tokens_of, tokens_of_text};
use crate::prompt::{MAX_TOKENS, SUMMARY_INSTRUCTIONS, SUMMARY_SYSTEM_PROMPT};
use crate::truncate::cut_chars;

/// The longest tool result or tool-call argument text kept in the summariser's input, in bytes.
const SUMMARY_INPUT_FIELD_BYTES: usize = 2_000;

/// The model's context window and how full it may get.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    /// The window, in tokens.
    pub tokens: u64,
    /// How full it may get before compacting, in percent.
    pub compact_at_percent: u8,
}

impl Window {
    /// The prompt size past which the agent compacts, in tokens.
    pub fn threshold(&self) -> u64 {
        self.tokens * u64::from(self.compact_at_percent.clamp(1, 100)) / 100
    }

    /// Most tokens an answer may use: what the window leaves above the threshold, at most
    /// [`MAX_TOKENS`].
    pub fn answer_tokens(&self) -> u32 {
        self.tokens
            .saturating_sub(self.threshold())
            .clamp(256, u64::from(MAX_TOKENS)) as u32
    }

    /// Tokens of recent turns kept verbatim.
    fn keep_recent(&self, harder: bool) -> u64 {
        if harder {
            self.threshold() / 8
        } else {
            (self.tokens / 5).min(self.threshold() / 2)
        }
    }

    /// Most tokens a summary may use.
    fn summary_tokens(&self) -> u32 {
        (self.tokens / 10).clamp(512, u64::from(MAX_TOKENS)) as u32
    }

    /// Tokens of old turns sent to the summariser at once.
    fn chunk_tokens(&self) -> u64 {
        let overhead = u64::from(self.summary_tokens()) * 2 + tokens_of_text(SUMMARY_SYSTEM_PROMPT) + 1_000;
        self.threshold().saturating_sub(overhead).max(1_000)
    }
}

/// Where to cut a conversation: `items[..cut]` are summarised, the rest kept.
#[derive(Debug, PartialEq, Eq)]
pub struct Cut {
    pub cut: usize,
    /// The first stored message kept (0: none is).
    pub keep_from: u64,
}

/// Where to cut `items` to keep about `keep` tokens of recent turns: at the start of a turn,
/// never before the first unstored message (this chat's question), and when not `harder` never
/// past the start of the latest turn. `None` when nothing would be summarised.
pub fn plan(items: &[Item], keep: u64, harder: bool) -> Option<Cut> {
    let first_unsaved = items.iter().position(|i| i.seq.is_none()).unwrap_or(items.len());
    let mut cut = items.len();
    let mut kept = 0;
    for (at, item) in items.iter().enumerate().rev() {
        kept += tokens_of(&item.message);
        if kept > keep {
            break;
        }
        cut = at;
    }
    while cut < items.len() && is_tool_results(&items[cut].message) {
        cut += 1;
    }
    let mut limit = first_unsaved;
    if !harder {
        let latest_turn = items.iter().rposition(|i| !is_tool_results(&i.message)).unwrap_or(0);
        limit = limit.min(latest_turn);
    }
    let cut = cut.min(limit);
    if cut == 0 {
        return None;
    }
    let keep_from = items.get(cut).and_then(|item| item.seq).unwrap_or(0);
    Some(Cut { cut, keep_from })
}

/// A message as text for the summariser, long tool results and arguments cut down.
pub fn serialize(message: &Message) -> String {
    let mut out = String::new();
    for block in &message.content {
        let line = match (block, &message.role) {
            (ContentBlock::Text(text), Role::User) => format!("[User]: {text}"),
            (ContentBlock::Text(text), Role::Assistant) => format!("[Assistant]: {text}"),
            (ContentBlock::ToolCall(call), _) => format!(
                "[Assistant called {}]: {}",
                call.name,
                cut_chars(&call.arguments, SUMMARY_INPUT_FIELD_BYTES)
            ),
            (ContentBlock::ToolResult(result), _) => format!(
                "[Tool result{}]: {}",
                if result.is_error { ", an error" } else { "" },
                cut_chars(&result.content, SUMMARY_INPUT_FIELD_BYTES)
            ),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The summariser's input for `items`, in chunks of about `budget` tokens (one message alone
/// longer than that is cut to fit).
pub fn chunks(items: &[Item], budget: u64) -> Vec<String> {
    let budget_bytes = (budget * 4) as usize;
    let mut chunks = vec![String::new()];
    for item in items {
        let text = serialize(&item.message);
        let text = cut_chars(&text, budget_bytes);
        let current = chunks.last_mut().expect("never empty");
        if !current.is_empty() && current.len() + text.len() > budget_bytes {
            chunks.push(text);
        } else {
            current.push_str(&text);
        }
    }
    chunks
}

/// The summariser's request for one chunk, folding in the summary so far.
pub fn summary_request(model: Option<String>, previous: Option<&str>, chunk: &str, max_tokens: u32) -> Request {
    let previous = previous.map_or(String::new(), |s| {
        format!("<previous-summary>\n{s}\n</previous-summary>\n\n")
    });
    Request {
        model,
        system: SUMMARY_SYSTEM_PROMPT.into(),
        messages: vec![Message {
            role: Role::User,
            content: vec![ContentBlock::Text(format!(
                "{previous}<conversation>\n{chunk}</conversation>\n\n{SUMMARY_INSTRUCTIONS}"
            ))],
        }],
        tools: Vec::new(),
        max_tokens,
    }
}

/// What a compaction came to.
pub enum Compacted {
    /// The view is now the summary and the turns kept.
    Done,
    /// Nothing could be summarised (the view is the current turn alone).
    Nothing,
    /// The chat was aborted while the model summarised; nothing changed.
    Aborted,
}

/// Summarises the older turns of `conversation` and records the compaction in the session.
/// `fixed` is the size of the system prompt and tools; `usage` collects the summariser's tokens.
pub fn compact(
    conversation: &mut Conversation,
    window: &Window,
    model: &Option<String>,
    harder: bool,
    fixed: u64,
    usage: &mut Usage,
) -> Result<Compacted, AgentError> {
    let Some(Cut { cut, keep_from }) = plan(&conversation.items, window.keep_recent(harder), harder) else {
        return Ok(Compacted::Nothing);
    };
    let before = conversation.estimate(fixed);
    let mut summary = conversation.summary.clone();
    for chunk in chunks(&conversation.items[..cut], window.chunk_tokens()) {
        let request = summary_request(model.clone(), summary.as_deref(), &chunk, window.summary_tokens());
        let answer = crate::agent::ask(&request, false)?;
        crate::agent::add_usage(usage, &answer.usage);
        if answer.aborted {
            return Ok(Compacted::Aborted);
        }
        summary = Some(match answer.text.trim() {
            "" => summary.unwrap_or_default(),
            text => text.to_string(),
        });
    }
    let summary = summary.unwrap_or_default();
    if let Err(refused) = session::compact(&summary, keep_from, before) {
        panic!("the session refused a compaction the agent planned: {refused}");
    }
    conversation.summary = Some(summary);
    conversation.items.drain(..cut);
    // Providers' counts measured prompts that began with turns now summarised.
    for item in &mut conversation.items {
        item.prompt_tokens = 0;
    }
    let after = conversation.estimate(fixed);
    session::emit(&AgentEvent::Compaction(CompactionEvent {
        tokens_before: before,
        tokens_after: after,
    }));
    Ok(Compacted::Done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::pi::worker::llm::{ToolCall, ToolResult};

    fn item(seq: Option<u64>, message: Message) -> Item {
        Item {
            seq,
            message,
            prompt_tokens: 0,
        }
    }

    fn text(role: Role, text: &str) -> Message {
        Message {
            role,
            content: vec![ContentBlock::Text(text.into())],
        }
    }

    fn call(id: &str) -> Message {
        Message {
            role: Role::Assistant,
            content: vec![ContentBlock::ToolCall(ToolCall {
                id: id.into(),
                name: "read".into(),
                arguments: "{\"path\":\"a\"}".into(),
            })],
        }
    }

    fn result(id: &str, size: usize) -> Message {
        Message {
            role: Role::User,
            content: vec![ContentBlock::ToolResult(ToolResult {
                call_id: id.into(),
                content: "r".repeat(size),
                is_error: false,
            })],
        }
    }

    /// Chats of a question, a tool turn with a 4 KB result, and an answer; stored from seq 1.
    fn chats(n: usize) -> Vec<Item> {
        let mut items = Vec::new();
        for chat in 0..n {
            let id = format!("c{chat}");
            for message in [
                text(Role::User, "q"),
                call(&id),
                result(&id, 4_000),
                text(Role::Assistant, "a"),
            ] {
                items.push(item(Some(items.len() as u64 + 1), message));
            }
        }
        items
    }

    #[test]
    fn the_cut_keeps_recent_turns_whole() {
        let mut items = chats(10);
        items.push(item(None, text(Role::User, "now")));
        // About two chats' worth of tokens (each ~1 040).
        let Cut { cut, keep_from } = plan(&items, 2_500, false).unwrap();
        assert!(!is_tool_results(&items[cut].message));
        assert_eq!(keep_from, items[cut].seq.unwrap());
        let kept: u64 = items[cut..].iter().map(|i| tokens_of(&i.message)).sum();
        assert!(kept <= 2_500 && kept > 1_000, "{kept}");
        // A cut that lands on a tool result moves past it, to the answer after it.
        let from_result: u64 = items[38..].iter().map(|i| tokens_of(&i.message)).sum();
        assert!(is_tool_results(&items[38].message));
        assert_eq!(plan(&items, from_result, false).unwrap().cut, 39);
        assert_eq!(plan(&items, from_result - 1, false).unwrap().cut, 39);
    }

    #[test]
    fn the_current_question_and_the_latest_turn_stay() {
        let mut items = chats(3);
        items.push(item(None, text(Role::User, "now")));
        // Nothing fits the budget: only the unanswered question stays, and its seq is unknown.
        assert_eq!(plan(&items, 0, true), Some(Cut { cut: 12, keep_from: 0 }));
        // In a chat's tool loop (all stored), a normal compaction keeps the latest turn.
        let items = chats(3);
        assert_eq!(plan(&items, 0, false).unwrap().cut, 11);
        assert_eq!(plan(&items, 0, true).unwrap().cut, 12);
        // Only the question: nothing to summarise.
        assert_eq!(plan(&[item(None, text(Role::User, "q"))], 0, true), None);
    }

    #[test]
    fn the_summariser_sees_cut_down_results_in_chunks() {
        let items = chats(6);
        let serialized = serialize(&items[2].message);
        assert!(
            serialized.len() < SUMMARY_INPUT_FIELD_BYTES + 200,
            "{}",
            serialized.len()
        );
        assert!(serialized.starts_with("[Tool result]: rrr"));
        let all = chunks(&items, 1_000_000);
        assert_eq!(all.len(), 1);
        let small = chunks(&items, 1_200);
        assert!(small.len() >= 3, "{}", small.len());
        assert!(
            small.iter().all(|c| c.len() <= 4_800),
            "{:?}",
            small.iter().map(String::len).collect::<Vec<_>>()
        );
        assert_eq!(small.concat(), all[0]);
        let request = summary_request(None, Some("Ada"), &small[0], 900);
        let ContentBlock::Text(prompt) = &request.messages[0].content[0] else {
            panic!()
        };
        assert!(prompt.starts_with("<previous-summary>\nAda\n</previous-summary>"));
        assert!(request.tools.is_empty());
    }

    #[test]
    fn the_window_sets_threshold_answer_room_and_budgets() {
        let window = Window {
            tokens: 200_000,
            compact_at_percent: 80,
        };
        assert_eq!(window.threshold(), 160_000);
        assert_eq!(window.answer_tokens(), MAX_TOKENS);
        assert_eq!(window.keep_recent(false), 40_000);
        assert_eq!(window.keep_recent(true), 20_000);
        let small = Window {
            tokens: 8_192,
            compact_at_percent: 80,
        };
        assert_eq!(small.answer_tokens(), 1_639);
        assert!(small.keep_recent(false) < small.threshold());
    }
}

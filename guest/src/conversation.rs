//! The conversation as the agent holds it during a chat: the model's view as the session stored
//! it (the latest summary, then the messages after it), and what this chat added and has not
//! stored yet.

use crate::bindings::pi::worker::llm::{ContentBlock, Message, Role};
use crate::bindings::pi::worker::session::{self, Context, NewEntry};
use crate::prompt::summary_for_model;

/// Structure around each block of a message (its type, ids, the JSON around it), in bytes.
const BLOCK_OVERHEAD_BYTES: usize = 24;

/// Estimated tokens of `text`: one per four bytes (conservative for non-ASCII text).
pub fn tokens_of_text(text: &str) -> u64 {
    text.len().div_ceil(4) as u64
}

/// Estimated tokens of a message.
pub fn tokens_of(message: &Message) -> u64 {
    let bytes: usize = message
        .content
        .iter()
        .map(|block| {
            BLOCK_OVERHEAD_BYTES
                + match block {
                    ContentBlock::Text(text) => text.len(),
                    ContentBlock::ToolCall(call) => call.id.len() + call.name.len() + call.arguments.len(),
                    ContentBlock::ToolResult(result) => result.call_id.len() + result.content.len(),
                }
        })
        .sum();
    bytes.div_ceil(4) as u64
}

/// Whether a message carries tool results (and so must stay right after its calls).
pub fn is_tool_results(message: &Message) -> bool {
    message.content.iter().any(|b| matches!(b, ContentBlock::ToolResult(_)))
}

/// One message of the view.
#[derive(Clone, Debug)]
pub struct Item {
    /// Its `seq` in the session's record, once stored.
    pub seq: Option<u64>,
    pub message: Message,
    /// For a model's answer: the size of the prompt behind it as the provider counted it, while
    /// that prompt is still a prefix of the view (0 otherwise).
    pub prompt_tokens: u64,
}

/// The model's view of the conversation during a chat.
#[derive(Clone, Debug, Default)]
pub struct Conversation {
    /// What the model is told of the compacted turns.
    pub summary: Option<String>,
    /// The messages after the summary, oldest first; the unstored ones last.
    pub items: Vec<Item>,
}

impl Conversation {
    /// The view the session stored.
    pub fn load() -> Self {
        Self::from_context(session::history())
    }

    /// The view in `context`. A provider's count of a prompt from before the summary measured
    /// turns that are gone: it is dropped.
    pub fn from_context(context: Context) -> Self {
        let since = context.summary.as_ref().map_or(0, |s| s.seq);
        Self {
            summary: context.summary.map(|s| s.text),
            items: context
                .entries
                .into_iter()
                .map(|entry| Item {
                    seq: Some(entry.seq),
                    message: entry.message,
                    prompt_tokens: if entry.seq > since { entry.prompt_tokens } else { 0 },
                })
                .collect(),
        }
    }

    /// Adds a message this chat made; `prompt_tokens` as in [`Item`].
    pub fn push(&mut self, message: Message, prompt_tokens: u64) {
        self.items.push(Item {
            seq: None,
            message,
            prompt_tokens,
        });
    }

    /// Index of the first message not stored yet (the length when all are).
    pub fn first_unsaved(&self) -> usize {
        self.items
            .iter()
            .position(|item| item.seq.is_none())
            .unwrap_or(self.items.len())
    }

    /// Whether the last message is an unstored user message (one the model has not answered).
    pub fn ends_with_unanswered_user(&self) -> bool {
        self.items
            .last()
            .is_some_and(|item| item.seq.is_none() && matches!(item.message.role, Role::User))
    }

    /// Stores the messages not stored yet, all together.
    pub fn save(&mut self) {
        let from = self.first_unsaved();
        if from == self.items.len() {
            return;
        }
        let entries: Vec<NewEntry> = self.items[from..]
            .iter()
            .map(|item| NewEntry {
                message: item.message.clone(),
                prompt_tokens: item.prompt_tokens,
            })
            .collect();
        let last = session::append(&entries);
        let first = last + 1 - entries.len() as u64;
        for (item, seq) in self.items[from..].iter_mut().zip(first..) {
            item.seq = Some(seq);
        }
    }

    /// The messages to send the model: the summary (merged into the first message when that is
    /// the user's, so roles keep alternating), then the view's messages.
    pub fn messages(&self) -> Vec<Message> {
        let mut messages: Vec<Message> = self.items.iter().map(|item| item.message.clone()).collect();
        if let Some(summary) = &self.summary {
            let block = ContentBlock::Text(summary_for_model(summary));
            match messages.first_mut() {
                Some(first) if matches!(first.role, Role::User) => first.content.insert(0, block),
                _ => messages.insert(
                    0,
                    Message {
                        role: Role::User,
                        content: vec![block],
                    },
                ),
            }
        }
        messages
    }

    /// Estimated size of the next prompt, in tokens: the provider's count of the latest prompt
    /// still in the view plus estimates of what came after it; with no count, `fixed` (the
    /// system prompt and tools) plus estimates of everything.
    pub fn estimate(&self, fixed: u64) -> u64 {
        let measured = self.items.iter().rposition(|item| item.prompt_tokens > 0);
        let after = |from: usize| -> u64 { self.items[from..].iter().map(|i| tokens_of(&i.message)).sum() };
        match measured {
            Some(at) => self.items[at].prompt_tokens + after(at),
            None => {
                fixed
                    + self
                        .summary
                        .as_deref()
                        .map_or(0, |s| tokens_of_text(&summary_for_model(s)))
                    + after(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::pi::worker::llm::{ToolCall, ToolResult};
    use crate::bindings::pi::worker::session::{Entry, Summary};

    pub fn text(role: Role, text: &str) -> Message {
        Message {
            role,
            content: vec![ContentBlock::Text(text.into())],
        }
    }

    fn entry(seq: u64, message: Message, prompt_tokens: u64) -> Entry {
        Entry {
            seq,
            message,
            prompt_tokens,
        }
    }

    #[test]
    fn the_summary_leads_the_view_without_breaking_alternation() {
        let mut conversation = Conversation::from_context(Context {
            summary: Some(Summary {
                seq: 5,
                text: "the user is Ada".into(),
            }),
            entries: vec![entry(3, text(Role::User, "go on"), 0)],
        });
        let messages = conversation.messages();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].content.len(), 2);
        assert!(matches!(&messages[0].content[0], ContentBlock::Text(t) if t.contains("the user is Ada")));
        conversation.items[0].message = text(Role::Assistant, "ok");
        let messages = conversation.messages();
        assert_eq!(messages.len(), 2);
        assert!(matches!(messages[0].role, Role::User));
    }

    #[test]
    fn estimates_start_from_the_latest_count_that_is_still_valid() {
        let answer = text(Role::Assistant, &"a".repeat(400));
        let conversation = Conversation::from_context(Context {
            summary: Some(Summary {
                seq: 10,
                text: String::new(),
            }),
            // Counted before the summary (seq 4 < 10): ignored; after it (seq 11): used.
            entries: vec![entry(4, answer.clone(), 9_000), entry(11, answer.clone(), 700)],
        });
        assert_eq!(conversation.estimate(50), 700 + tokens_of(&answer));
        let mut uncounted = conversation.clone();
        uncounted.items[1].prompt_tokens = 0;
        let summary = tokens_of_text(&summary_for_model(""));
        assert_eq!(uncounted.estimate(50), 50 + summary + 2 * tokens_of(&answer));
        assert_eq!(tokens_of(&answer), (400 + BLOCK_OVERHEAD_BYTES as u64).div_ceil(4));
    }

    #[test]
    fn tool_results_are_recognised() {
        let results = Message {
            role: Role::User,
            content: vec![ContentBlock::ToolResult(ToolResult {
                call_id: "c".into(),
                content: "x".into(),
                is_error: false,
            })],
        };
        let call = Message {
            role: Role::Assistant,
            content: vec![ContentBlock::ToolCall(ToolCall {
                id: "c".into(),
                name: "ls".into(),
                arguments: "{}".into(),
            })],
        };
        assert!(is_tool_results(&results));
        assert!(!is_tool_results(&call));
    }
}

//! `pi:worker/session`: the persisted conversation and the live event stream of a chat.
//!
//! Live events go to an [`EventSink`] (the chat service's bounded per-session buffer): `emit`
//! never blocks the guest and never grows host memory past the sink's bound.

use std::sync::Arc;

use wasmtime::component::{HasData, Linker};

use super::llm::{message_from_wit, message_to_wit};
use crate::abort::AbortSignal;
use crate::bindings::pi::worker::session::{self as wit, Host};
use crate::git::Repo;
use crate::storage::SessionDb;
use crate::storage::conversation::{Compaction, NewMessage, RecordEntry};

/// Progress of a chat, as the client sees it live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatEvent {
    /// More of the model's text.
    TextDelta(String),
    /// A tool call starting.
    ToolStart {
        /// The call's id.
        id: String,
        /// The tool's name.
        tool: String,
        /// Arguments as JSON text.
        args: String,
    },
    /// A tool call finished.
    ToolEnd {
        /// The call's id.
        id: String,
        /// The tool's name.
        tool: String,
        /// Whether it failed.
        is_error: bool,
        /// What it returned.
        result: String,
    },
    /// Output of a program a tool call is running (`pi:worker/process`), as it is written.
    ToolOutput {
        /// The id of the tool call running it.
        id: String,
        /// `stdout` or `stderr`.
        stream: &'static str,
        /// The text written (a write's bytes, invalid UTF-8 replaced).
        text: String,
    },
    /// Older turns were summarised.
    Compaction {
        /// The estimated prompt size before, in tokens.
        tokens_before: u64,
        /// The estimated prompt size after, in tokens.
        tokens_after: u64,
    },
}

/// Where a chat's live events go.
pub trait EventSink: Send + Sync + std::fmt::Debug {
    /// Takes one event. Must not wait (for a viewer, a lock held across I/O, …) and must keep
    /// its memory bounded whatever the guest emits.
    fn emit(&self, event: ChatEvent);
}

/// State behind `pi:worker/session` that is not the database.
#[derive(Debug, Default)]
pub struct SessionCtx {
    /// Where live events go; `None` when nobody can watch.
    pub events: Option<Arc<dyn EventSink>>,
    /// Raised when someone asks the chat to stop.
    pub abort: Arc<AbortSignal>,
    /// The tool call in flight (from the last `tool-start` without its `tool-end`): what a
    /// program's live output belongs to.
    pub tool_call: Option<String>,
}

/// Borrowed access to what `pi:worker/session` needs.
pub struct SessionCtxView<'a> {
    /// Event delivery.
    pub ctx: &'a mut SessionCtx,
    /// The session's database (conversation storage).
    pub db: &'a mut SessionDb,
}

/// A store type that can hand out a [`SessionCtxView`].
pub trait SessionView: Send {
    /// The view used by the `session` host functions.
    fn session(&mut self) -> SessionCtxView<'_>;
}

/// [`HasData`] marker for `pi:worker/session`.
pub struct HasSession;

impl HasData for HasSession {
    type Data<'a> = SessionCtxView<'a>;
}

/// Adds `pi:worker/session` to `linker`.
pub fn add_to_linker<T: SessionView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, HasSession>(linker, T::session)
}

impl Host for SessionCtxView<'_> {
    fn history(&mut self) -> wasmtime::Result<wit::Context> {
        let view = self.db.read(|s| s.conversation().view())?;
        let mut context = wit::Context {
            summary: None,
            entries: Vec::with_capacity(view.len()),
        };
        for row in view {
            match row.entry {
                RecordEntry::Compaction(compaction) => {
                    context.summary = Some(wit::Summary {
                        seq: row.seq,
                        text: compaction.summary,
                    })
                }
                RecordEntry::Message(message) => context.entries.push(wit::Entry {
                    seq: row.seq,
                    message: message_to_wit(message),
                    prompt_tokens: row.prompt_tokens,
                }),
                RecordEntry::Revert { .. } => {}
            }
        }
        Ok(context)
    }

    fn append(&mut self, entries: Vec<wit::NewEntry>) -> wasmtime::Result<u64> {
        let messages: Vec<_> = entries
            .into_iter()
            .map(|entry| NewMessage {
                message: message_from_wit(entry.message),
                prompt_tokens: entry.prompt_tokens,
            })
            .collect();
        // The turn and the checkpoint of the files it left, together.
        let seq = self.db.write(|s| {
            let seq = s.conversation().append(&messages)?;
            Repo::new(s).record_checkpoint(seq)?;
            Ok::<_, crate::git::GitError>(seq)
        })?;
        Ok(seq)
    }

    fn compact(&mut self, summary: String, keep_from: u64, tokens_before: u64) -> wasmtime::Result<Result<(), String>> {
        let compaction = Compaction {
            summary,
            keep_from,
            tokens_before,
        };
        let outcome = self.db.write(|s| s.conversation().append_compaction(&compaction))?;
        Ok(outcome.map(drop).map_err(|refused| refused.to_string()))
    }

    fn aborted(&mut self) -> wasmtime::Result<bool> {
        Ok(self.ctx.abort.is_aborted())
    }

    fn emit(&mut self, event: wit::AgentEvent) -> wasmtime::Result<()> {
        match &event {
            wit::AgentEvent::ToolStart(start) => self.ctx.tool_call = Some(start.id.clone()),
            wit::AgentEvent::ToolEnd(end) => {
                crate::telemetry::tool_call(&end.tool, end.is_error);
                self.ctx.tool_call = None;
            }
            _ => {}
        }
        let Some(events) = &self.ctx.events else {
            return Ok(());
        };
        let event = match event {
            wit::AgentEvent::TextDelta(text) => ChatEvent::TextDelta(text),
            wit::AgentEvent::ToolStart(s) => ChatEvent::ToolStart {
                id: s.id,
                tool: s.tool,
                args: s.args,
            },
            wit::AgentEvent::ToolEnd(e) => ChatEvent::ToolEnd {
                id: e.id,
                tool: e.tool,
                is_error: e.is_error,
                result: e.result,
            },
            wit::AgentEvent::Compaction(c) => ChatEvent::Compaction {
                tokens_before: c.tokens_before,
                tokens_after: c.tokens_after,
            },
        };
        events.emit(event);
        Ok(())
    }
}

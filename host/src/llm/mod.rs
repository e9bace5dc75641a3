//! Language-model providers behind one small trait, so the agent never sees a key or a wire format.
//!
//! A [`ProviderRegistry`] picks the provider for a model by its prefix (`openai/gpt-4o`). Each
//! HTTP provider is an [`HttpProvider`] over a [`WireFormat`] ([`AnthropicMessages`],
//! [`ChatCompletions`]), which shares sending, retries and stream decoding.

pub mod anthropic;
pub mod config;
pub mod context;
pub mod http_provider;
pub mod openai;
pub mod registry;
pub mod retry;
pub mod sse;

use std::future::Future;
use std::pin::Pin;

use futures_util::Stream;

pub use self::anthropic::{AnthropicMessages, AnthropicProvider};
pub use self::config::LlmConfig;
pub use self::context::ContextWindows;
pub use self::http_provider::{HttpProvider, WireFormat};
pub use self::openai::{ChatCompletions, MaxTokensField, OpenAiProvider};
pub use self::registry::{KnownProvider, ProviderRegistry, ProviderRegistryBuilder};
use crate::message::{Message, ToolCall, Usage};

/// A tool the model may call.
#[derive(Debug, Clone)]
pub struct ToolSpec {
    /// The tool's name.
    pub name: String,
    /// What the tool does, for the model.
    pub description: String,
    /// JSON Schema of the arguments.
    pub input_schema: serde_json::Value,
}

/// One model call, provider-neutral.
#[derive(Debug, Clone)]
pub struct LlmRequest {
    /// The provider's model name (without any provider prefix).
    pub model: String,
    /// The system prompt.
    pub system: String,
    /// The conversation, oldest first.
    pub messages: Vec<Message>,
    /// Tools the model may call.
    pub tools: Vec<ToolSpec>,
    /// Most tokens the answer may have.
    pub max_tokens: u32,
}

/// Why the model stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The answer is complete.
    EndTurn,
    /// The model wants tool results.
    ToolUse,
    /// The answer hit `max_tokens`.
    MaxTokens,
    /// A stop sequence matched.
    StopSequence,
    /// The model declined to answer.
    Refusal,
    /// Anything else the provider reported.
    Other,
}

/// One piece of a streamed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// More text.
    TextDelta(String),
    /// A complete tool call.
    ToolCall(ToolCall),
    /// The answer is complete; always the last event.
    Finish {
        /// Why the model stopped.
        stop_reason: StopReason,
        /// Tokens of this call.
        usage: Usage,
    },
}

/// Why a model call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    /// No provider is configured for the model.
    #[error("{0}")]
    NotConfigured(String),
    /// The provider answered with an error.
    #[error("provider error (HTTP {status}): {message}")]
    Provider {
        /// HTTP status (for errors inside a stream, the status the error type stands for).
        status: u16,
        /// The provider's error type and message.
        message: String,
    },
    /// The connection failed or the stream ended early.
    #[error("transport error: {0}")]
    Transport(String),
    /// The provider broke its wire format.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The chat was aborted while the model answered.
    #[error("the chat was aborted during the model call")]
    Aborted,
    /// The provider refused the prompt as longer than the model's context window.
    #[error("the conversation does not fit the model's context window, even after compacting it: {0}")]
    ContextOverflow(String),
}

impl LlmError {
    /// A short fixed name for the kind of failure (a metrics label).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NotConfigured(_) => "model_not_configured",
            Self::Provider { .. } => "provider",
            Self::Transport(_) => "transport",
            Self::Protocol(_) => "protocol",
            Self::Aborted => "aborted",
            Self::ContextOverflow(_) => "context_overflow",
        }
    }
}

/// A streamed answer.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<StreamEvent, LlmError>> + Send>>;

/// A boxed future returned by [`LlmProvider::stream`].
pub type StreamFuture<'a> = Pin<Box<dyn Future<Output = Result<EventStream, LlmError>> + Send + 'a>>;

/// A language-model provider.
pub trait LlmProvider: Send + Sync {
    /// Starts a model call; the answer streams.
    fn stream(&self, request: LlmRequest) -> StreamFuture<'_>;
}

//! `pi:worker/llm`: model calls for the guest, through the configured [`ProviderRegistry`] (an
//! embedder may instead implement the generated [`Host`] itself, streaming [`ResponseStream`]s).
//!
//! Both functions are `async` on the host: the chat's fiber is suspended while the provider
//! answers, so a chat waiting for the model holds no thread (and, with a session database to
//! suspend, no open files). The time spent waiting is recorded, so the guest's CPU budget does
//! not count model latency.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tracing::Instrument;
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

use crate::abort::AbortSignal;
use crate::bindings::pi::worker::llm::{self as wit, Host, HostResponseStream};
use crate::llm::{EventStream, LlmError, LlmRequest, ProviderRegistry, StopReason, StreamEvent, ToolSpec};
use crate::message::{ContentBlock, Message, Role, ToolCall, ToolResult, Usage};
use crate::open_dbs::{self, DbPermit};
use crate::storage::SessionDb;
use crate::telemetry;

/// A streamed answer held for the guest: the `response-stream` resource of `pi:worker/llm`.
///
/// An embedder implementing the generated [`Host`] trait with its own model makes one with
/// [`ResponseStream::new`] and reads it back in its [`HostResponseStream::next`] with
/// [`ResponseStream::next_event`] (see `host/examples/embed.rs`).
pub struct ResponseStream {
    events: EventStream,
    finished: bool,
    /// The model answering, when the call began, and whether text or a tool call came yet.
    model: String,
    started: Instant,
    answered: bool,
}

impl ResponseStream {
    /// An answer from `model`, its events read from `events`.
    pub fn new(model: impl Into<String>, events: EventStream) -> Self {
        Self {
            events,
            finished: false,
            model: model.into(),
            started: Instant::now(),
            answered: false,
        }
    }

    /// The next event in its WIT form, `Ok(None)` once the answer ended (after `finish`, a
    /// failure, or the end of the events).
    pub async fn next_event(&mut self) -> Result<Option<wit::StreamEvent>, wit::LlmError> {
        if self.finished {
            return Ok(None);
        }
        match self.events.next().await {
            Some(Ok(event)) => {
                self.finished = matches!(event, StreamEvent::Finish { .. });
                self.observe(&event);
                Ok(Some(event_to_wit(event)))
            }
            Some(Err(e)) => {
                self.finished = true;
                telemetry::model_failed(&self.model, e.kind());
                tracing::warn!(error = %e, "model stream failed");
                Err(e.into())
            }
            None => {
                self.finished = true;
                Ok(None)
            }
        }
    }

    /// Counts `event` in the call's metrics.
    fn observe(&mut self, event: &StreamEvent) {
        match event {
            StreamEvent::TextDelta(_) | StreamEvent::ToolCall(_) if !self.answered => {
                self.answered = true;
                telemetry::model_first_token(&self.model, self.started.elapsed());
            }
            StreamEvent::Finish { usage, .. } => telemetry::model_finished(&self.model, self.started.elapsed(), usage),
            _ => {}
        }
    }
}

/// State behind `pi:worker/llm`.
pub struct LlmCtx {
    providers: Arc<ProviderRegistry>,
    waited: Duration,
    abort: Arc<AbortSignal>,
}

impl LlmCtx {
    /// A context calling `providers`.
    pub fn new(providers: Arc<ProviderRegistry>) -> Self {
        Self {
            providers,
            waited: Duration::ZERO,
            abort: Arc::default(),
        }
    }

    /// The same, its model calls ending with `llm-error.aborted` once `abort` is raised.
    pub fn with_abort(self, abort: Arc<AbortSignal>) -> Self {
        Self { abort, ..self }
    }

    /// Total time spent waiting for providers so far.
    pub fn waited(&self) -> Duration {
        self.waited
    }

    /// Waits for a provider future unless the chat is (or gets) aborted first (`None` then),
    /// counting the time as waiting.
    async fn wait_unless_aborted<F: Future>(&mut self, future: F) -> Option<F::Output> {
        let abort = self.abort.clone();
        if abort.is_aborted() {
            return None;
        }
        let start = Instant::now();
        let out = tokio::select! {
            out = future => Some(out),
            () = abort.aborted() => None,
        };
        self.waited += start.elapsed();
        out
    }
}

/// Borrowed access to what `pi:worker/llm` needs.
pub struct LlmCtxView<'a> {
    /// ProviderRegistry and wait accounting.
    pub ctx: &'a mut LlmCtx,
    /// Where response streams live.
    pub table: &'a mut ResourceTable,
    /// The chat's session database and its [permit](crate::open_dbs): while the model
    /// answers, kept open, or (when permits run short) suspended and the permit given back.
    pub idle_db: Option<(&'a mut SessionDb, &'a mut Option<DbPermit>)>,
}

impl LlmCtxView<'_> {
    /// Before a wait: under pressure, suspends the chat's database and gives its permit back.
    /// Returns whether it did.
    fn idle(&mut self) -> bool {
        match &mut self.idle_db {
            Some((db, permit)) if open_dbs::under_pressure() => {
                db.suspend();
                permit.take();
                true
            }
            _ => false,
        }
    }

    /// After a wait: takes a permit again for a suspended database (it reopens when next used).
    async fn resume(&mut self, suspended: bool) {
        if let Some((_, permit)) = &mut self.idle_db
            && suspended
        {
            **permit = Some(open_dbs::acquire().await);
        }
    }
}

/// A store type that can hand out an [`LlmCtxView`].
pub trait LlmView: Send {
    /// The view used by the `llm` host functions.
    fn llm(&mut self) -> LlmCtxView<'_>;
}

/// [`HasData`] marker for `pi:worker/llm`.
pub struct HasLlm;

impl HasData for HasLlm {
    type Data<'a> = LlmCtxView<'a>;
}

/// Adds `pi:worker/llm` to `linker`.
pub fn add_to_linker<T: LlmView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, HasLlm>(linker, T::llm)
}

impl From<LlmError> for wit::LlmError {
    fn from(e: LlmError) -> Self {
        match e {
            LlmError::NotConfigured(m) => Self::NotConfigured(m),
            LlmError::Provider { status, message } => Self::Provider(wit::ProviderError { status, message }),
            LlmError::Transport(m) => Self::Transport(m),
            LlmError::Protocol(m) => Self::Protocol(m),
            LlmError::Aborted => Self::Aborted,
            LlmError::ContextOverflow(m) => Self::ContextOverflow(m),
        }
    }
}

impl From<wit::LlmError> for LlmError {
    fn from(e: wit::LlmError) -> Self {
        match e {
            wit::LlmError::NotConfigured(m) => Self::NotConfigured(m),
            wit::LlmError::Provider(p) => Self::Provider {
                status: p.status,
                message: p.message,
            },
            wit::LlmError::Transport(m) => Self::Transport(m),
            wit::LlmError::Protocol(m) => Self::Protocol(m),
            wit::LlmError::Aborted => Self::Aborted,
            wit::LlmError::ContextOverflow(m) => Self::ContextOverflow(m),
        }
    }
}

/// Converts a stored message to its WIT form.
pub fn message_to_wit(m: Message) -> wit::Message {
    wit::Message {
        role: match m.role {
            Role::User => wit::Role::User,
            Role::Assistant => wit::Role::Assistant,
        },
        content: m
            .content
            .into_iter()
            .map(|block| match block {
                ContentBlock::Text { text } => wit::ContentBlock::Text(text),
                ContentBlock::ToolCall(c) => wit::ContentBlock::ToolCall(wit::ToolCall {
                    id: c.id,
                    name: c.name,
                    arguments: c.arguments,
                }),
                ContentBlock::ToolResult(r) => wit::ContentBlock::ToolResult(wit::ToolResult {
                    call_id: r.call_id,
                    content: r.content,
                    is_error: r.is_error,
                }),
            })
            .collect(),
    }
}

/// Converts a WIT message to its stored form.
pub fn message_from_wit(m: wit::Message) -> Message {
    Message {
        role: match m.role {
            wit::Role::User => Role::User,
            wit::Role::Assistant => Role::Assistant,
        },
        content: m
            .content
            .into_iter()
            .map(|block| match block {
                wit::ContentBlock::Text(text) => ContentBlock::Text { text },
                wit::ContentBlock::ToolCall(c) => ContentBlock::ToolCall(ToolCall {
                    id: c.id,
                    name: c.name,
                    arguments: c.arguments,
                }),
                wit::ContentBlock::ToolResult(r) => ContentBlock::ToolResult(ToolResult {
                    call_id: r.call_id,
                    content: r.content,
                    is_error: r.is_error,
                }),
            })
            .collect(),
    }
}

/// Converts token counts to their WIT form.
pub fn usage_to_wit(u: Usage) -> wit::Usage {
    wit::Usage {
        input_tokens: u.input_tokens,
        output_tokens: u.output_tokens,
        cache_read_tokens: u.cache_read_tokens,
        cache_write_tokens: u.cache_write_tokens,
    }
}

fn event_to_wit(event: StreamEvent) -> wit::StreamEvent {
    match event {
        StreamEvent::TextDelta(text) => wit::StreamEvent::TextDelta(text),
        StreamEvent::ToolCall(c) => wit::StreamEvent::ToolCall(wit::ToolCall {
            id: c.id,
            name: c.name,
            arguments: c.arguments,
        }),
        StreamEvent::Finish { stop_reason, usage } => wit::StreamEvent::Finish(wit::Finish {
            stop_reason: match stop_reason {
                StopReason::EndTurn => wit::StopReason::EndTurn,
                StopReason::ToolUse => wit::StopReason::ToolUse,
                StopReason::MaxTokens => wit::StopReason::MaxTokens,
                StopReason::StopSequence => wit::StopReason::StopSequence,
                StopReason::Refusal => wit::StopReason::Refusal,
                StopReason::Other => wit::StopReason::Other,
            },
            usage: usage_to_wit(usage),
        }),
    }
}

fn request_from_wit(req: wit::Request, model: String) -> Result<LlmRequest, LlmError> {
    let tools = req
        .tools
        .into_iter()
        .map(|t| {
            let input_schema = serde_json::from_str(&t.input_schema)
                .map_err(|e| LlmError::Protocol(format!("tool '{}' has an invalid input schema: {e}", t.name)))?;
            Ok(ToolSpec {
                name: t.name,
                description: t.description,
                input_schema,
            })
        })
        .collect::<Result<_, LlmError>>()?;
    Ok(LlmRequest {
        model,
        system: req.system,
        messages: req.messages.into_iter().map(message_from_wit).collect(),
        tools,
        max_tokens: req.max_tokens,
    })
}

impl Host for LlmCtxView<'_> {
    async fn complete(
        &mut self,
        req: wit::Request,
    ) -> wasmtime::Result<Result<Resource<ResponseStream>, wit::LlmError>> {
        let (provider, model) = match self.ctx.providers.resolve(req.model.as_deref()) {
            Ok(found) => found,
            Err(e) => return Ok(Err(e.into())),
        };
        let request = match request_from_wit(req, model) {
            Ok(request) => request,
            Err(e) => return Ok(Err(e.into())),
        };
        let span = tracing::info_span!("llm_call", model = %request.model, messages = request.messages.len());
        let (model, called) = (request.model.clone(), Instant::now());
        let suspended = self.idle();
        let started = self
            .ctx
            .wait_unless_aborted(provider.stream(request))
            .instrument(span)
            .await;
        self.resume(suspended).await;
        let Some(started) = started else {
            return Ok(Err(wit::LlmError::Aborted));
        };
        match started {
            Ok(events) => Ok(Ok(self.table.push(ResponseStream {
                started: called,
                ..ResponseStream::new(model, events)
            })?)),
            Err(e) => {
                telemetry::model_failed(&model, e.kind());
                tracing::warn!(error = %e, "model call failed");
                Ok(Err(e.into()))
            }
        }
    }
}

impl HostResponseStream for LlmCtxView<'_> {
    async fn next(
        &mut self,
        stream_handle: Resource<ResponseStream>,
    ) -> wasmtime::Result<Result<Option<wit::StreamEvent>, wit::LlmError>> {
        if self.table.get(&stream_handle)?.finished {
            return Ok(Ok(None));
        }
        let suspended = self.idle();
        let stream = self.table.get_mut(&stream_handle)?;
        let next = self.ctx.wait_unless_aborted(stream.next_event()).await;
        self.resume(suspended).await;
        match next {
            Some(event) => Ok(event),
            None => {
                self.table.get_mut(&stream_handle)?.finished = true;
                Ok(Err(wit::LlmError::Aborted))
            }
        }
    }

    fn drop(&mut self, stream: Resource<ResponseStream>) -> wasmtime::Result<()> {
        self.table.delete(stream)?;
        Ok(())
    }
}

//! The steps every HTTP provider shares: build the JSON body, post it with retries, decode the
//! server-sent events. A [`WireFormat`] supplies what differs between providers, and
//! [`HttpProvider`] does the rest, so a new provider is one `WireFormat` implementation.

use std::fmt;
use std::time::Duration;

use reqwest::RequestBuilder;
use serde_json::Value;

use super::retry::{self, RetryPolicy};
use super::sse;
use super::{EventStream, LlmError, LlmProvider, LlmRequest, StreamFuture};

/// What one provider's streaming API looks like on the wire.
pub trait WireFormat: Send + Sync + 'static {
    /// The provider's name, for errors and logs (for example `Anthropic`).
    const NAME: &'static str;

    /// Turns the provider's server-sent events into stream events, one answer per decoder.
    type Decoder: sse::Decoder + Default;

    /// The URL the request is posted to; `base_url` has no trailing slash.
    fn endpoint(&self, base_url: &str, request: &LlmRequest) -> String;

    /// Adds the provider's own headers (authentication, API version) to a request.
    fn headers(&self, builder: RequestBuilder) -> RequestBuilder;

    /// The JSON body of a streaming request.
    fn request_body(&self, request: &LlmRequest) -> Value;

    /// The error an error answer (not success) stands for: [`LlmError::ContextOverflow`] when
    /// the provider says the prompt is too long, else [`LlmError::Provider`] with the readable
    /// part of the body.
    fn error(status: u16, body: &str) -> LlmError;
}

/// A provider reached over HTTP that streams its answers as server-sent events.
pub struct HttpProvider<W> {
    client: reqwest::Client,
    base_url: String,
    wire: W,
    retry: RetryPolicy,
}

impl<W> fmt::Debug for HttpProvider<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The wire format holds the key: it stays out of logs.
        f.debug_struct("HttpProvider")
            .field("base_url", &self.base_url)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl<W: WireFormat> HttpProvider<W> {
    /// A provider speaking `wire` to `base_url`, retrying as `retry` allows.
    pub fn new(wire: W, base_url: &str, retry: RetryPolicy) -> Result<Self, LlmError> {
        // A stream that stalls this long between reads is treated as dropped.
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(300))
            .build()
            .map_err(|e| LlmError::Transport(format!("cannot build the HTTP client for {}: {e}", W::NAME)))?;
        Ok(Self {
            client,
            base_url: base_url.trim_end_matches('/').to_string(),
            wire,
            retry,
        })
    }

    async fn start(&self, request: LlmRequest) -> Result<EventStream, LlmError> {
        let url = self.wire.endpoint(&self.base_url, &request);
        let body = self.wire.request_body(&request).to_string();
        let build = || {
            self.wire
                .headers(self.client.post(&url))
                .header("content-type", "application/json")
                .header("accept", "text/event-stream")
                .body(body.clone())
        };
        let response = retry::send(&self.retry, W::NAME, build, W::error).await?;
        Ok(sse::decode(response, W::Decoder::default()))
    }
}

impl<W: WireFormat> LlmProvider for HttpProvider<W> {
    fn stream(&self, request: LlmRequest) -> StreamFuture<'_> {
        Box::pin(self.start(request))
    }
}

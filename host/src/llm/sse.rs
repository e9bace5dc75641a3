//! Turning a provider's server-sent events into [`StreamEvent`]s, one wire format per decoder.

use std::collections::VecDeque;

use eventsource_stream::Eventsource;
use futures_util::StreamExt;

use super::{EventStream, LlmError, StreamEvent};

/// A provider's wire format.
pub trait Decoder: Send + 'static {
    /// What the decoder calls its end-of-answer marker, for the error when a stream stops short.
    const END: &'static str;

    /// Decodes one event (`event` is its name, empty when unnamed) into zero or more outputs.
    fn decode(&mut self, event: &str, data: &str) -> Result<Vec<StreamEvent>, LlmError>;
}

struct State<S, D> {
    events: S,
    decoder: D,
    pending: VecDeque<StreamEvent>,
    done: bool,
}

/// The answer stream of a successful streaming response. It ends after [`StreamEvent::Finish`];
/// a stream that breaks or stops before it is reported, never taken as complete.
pub fn decode<D: Decoder>(response: reqwest::Response, decoder: D) -> EventStream {
    let state = State {
        events: response.bytes_stream().eventsource(),
        decoder,
        pending: VecDeque::new(),
        done: false,
    };
    Box::pin(futures_util::stream::unfold(state, |mut state| async move {
        loop {
            if let Some(event) = state.pending.pop_front() {
                state.done |= matches!(event, StreamEvent::Finish { .. });
                return Some((Ok(event), state));
            }
            if state.done {
                return None;
            }
            let failure = match state.events.next().await {
                None => LlmError::Transport(format!("the answer stream ended before {}", D::END)),
                Some(Err(e)) => LlmError::Transport(format!("the answer stream broke: {e}")),
                Some(Ok(event)) => match state.decoder.decode(&event.event, &event.data) {
                    Ok(out) => {
                        state.pending.extend(out);
                        continue;
                    }
                    Err(e) => e,
                },
            };
            state.done = true;
            return Some((Err(failure), state));
        }
    }))
}

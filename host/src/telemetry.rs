//! What the server counts and times, for `GET /metrics` (Prometheus text format).
//!
//! The functions here record through the [`metrics`] facade: they cost next to nothing and do
//! nothing until a recorder is installed, which the server does with [`prometheus`]. An
//! embedder can install its own recorder first and get the same series.
//!
//! Label values that come from clients or guests (model names, tool names) are bounded: past
//! [`MAX_LABEL_VALUES`] distinct values of one label, or for a value that is not a plain name,
//! the series is recorded as `other`, so a hostile client cannot grow the registry without end.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};

use crate::message::Usage;

/// Most distinct values one client-chosen label may take before the rest are `other`.
pub const MAX_LABEL_VALUES: usize = 64;

/// Chats accepted (counted when a chat starts waiting for its session).
pub const CHATS_STARTED: &str = "pi_worker_chats_started_total";
/// Chats that ended with an answer, by `stop_reason`.
pub const CHATS_FINISHED: &str = "pi_worker_chats_finished_total";
/// Chats that ended with an error, by `error_kind`.
pub const CHATS_FAILED: &str = "pi_worker_chats_failed_total";
/// Chats running now.
pub const CHATS_IN_FLIGHT: &str = "pi_worker_chats_in_flight";
/// Chats waiting for a free slot or for their session.
pub const CHATS_QUEUED: &str = "pi_worker_chats_queued";
/// Seconds from a chat's start to its end, queueing included, by `outcome`.
pub const CHAT_DURATION: &str = "pi_worker_chat_duration_seconds";
/// Seconds from a model call to its last event, by `model`.
pub const MODEL_LATENCY: &str = "pi_worker_model_latency_seconds";
/// Seconds from a model call to its first text or tool call, by `model`.
pub const MODEL_FIRST_TOKEN: &str = "pi_worker_model_time_to_first_token_seconds";
/// Model calls that failed, by `model` and `error_kind`.
pub const MODEL_ERRORS: &str = "pi_worker_model_errors_total";
/// Tokens, by `model` and `kind` (`input`, `output`, `cache_read`, `cache_write`).
pub const TOKENS: &str = "pi_worker_tokens_total";
/// Tool calls that finished, by `tool` and `outcome` (`ok`, `error`).
pub const TOOL_CALLS: &str = "pi_worker_tool_calls_total";
/// Seconds to instantiate the guest component for a chat.
pub const GUEST_INSTANTIATION: &str = "pi_worker_guest_instantiation_seconds";
/// Sessions on disk.
pub const SESSIONS: &str = "pi_worker_sessions";
/// HTTP requests answered, by `method`, `route` (the router's pattern) and `status`.
pub const HTTP_REQUESTS: &str = "pi_worker_http_requests_total";
/// Seconds to the response's head, by `method` and `route`.
pub const HTTP_DURATION: &str = "pi_worker_http_request_duration_seconds";

/// How often histogram samples are folded into their buckets when nobody scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The process-wide Prometheus recorder, installed on first use (with a thread that keeps its
/// memory bounded between scrapes); `None` when another recorder was installed first.
pub fn prometheus() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| match install() {
            Ok(handle) => {
                let upkeep = handle.clone();
                let spawned = std::thread::Builder::new()
                    .name("metrics-upkeep".into())
                    .spawn(move || {
                        loop {
                            std::thread::sleep(UPKEEP_EVERY);
                            upkeep.run_upkeep();
                        }
                    });
                if let Err(e) = spawned {
                    tracing::warn!("cannot start the metrics upkeep thread: {e}");
                }
                Some(handle)
            }
            Err(e) => {
                tracing::warn!("not serving /metrics: {e}");
                None
            }
        })
        .clone()
}

/// Installs the recorder and describes every series.
fn install() -> Result<PrometheusHandle, BuildError> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(CHAT_DURATION.into()),
            &[0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0],
        )?
        .set_buckets_for_metric(
            Matcher::Full(MODEL_LATENCY.into()),
            &[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0],
        )?
        .set_buckets_for_metric(
            Matcher::Full(MODEL_FIRST_TOKEN.into()),
            &[0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0],
        )?
        .set_buckets_for_metric(
            Matcher::Full(GUEST_INSTANTIATION.into()),
            &[
                0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 1.0,
            ],
        )?
        .set_buckets_for_metric(
            Matcher::Full(HTTP_DURATION.into()),
            &[0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0],
        )?
        .install_recorder()?;
    describe();
    Ok(handle)
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(CHATS_STARTED, "Chats accepted.");
    describe_counter!(CHATS_FINISHED, "Chats that ended with an answer, by stop reason.");
    describe_counter!(CHATS_FAILED, "Chats that ended with an error, by error kind.");
    describe_gauge!(CHATS_IN_FLIGHT, "Chats running now.");
    describe_gauge!(CHATS_QUEUED, "Chats waiting for a slot or for their session.");
    describe_histogram!(CHAT_DURATION, Unit::Seconds, "Chat duration, queueing included.");
    describe_histogram!(MODEL_LATENCY, Unit::Seconds, "Model call duration, to its last event.");
    describe_histogram!(
        MODEL_FIRST_TOKEN,
        Unit::Seconds,
        "Model call time to first text or tool call."
    );
    describe_counter!(MODEL_ERRORS, "Model calls that failed, by error kind.");
    describe_counter!(
        TOKENS,
        "Tokens by model and kind (input, output, cache_read, cache_write)."
    );
    describe_counter!(TOOL_CALLS, "Tool calls by tool and outcome.");
    describe_histogram!(GUEST_INSTANTIATION, Unit::Seconds, "Guest instantiation time per chat.");
    describe_gauge!(SESSIONS, "Sessions on disk.");
    describe_counter!(HTTP_REQUESTS, "HTTP requests by method, route and status.");
    describe_histogram!(HTTP_DURATION, Unit::Seconds, "HTTP time to response head, by route.");
}

/// The distinct values seen per client-chosen label.
static SEEN: Mutex<Vec<(&'static str, HashSet<String>)>> = Mutex::new(Vec::new());

/// `value` when it is a plain name and one of the first [`MAX_LABEL_VALUES`] of `label`;
/// `other` otherwise.
fn bounded(label: &'static str, value: &str) -> String {
    let plain = !value.is_empty()
        && value.len() <= 128
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:@".contains(&b));
    if !plain {
        return "other".into();
    }
    let mut seen = SEEN.lock().unwrap_or_else(PoisonError::into_inner);
    let index = match seen.iter().position(|(name, _)| *name == label) {
        Some(index) => index,
        None => {
            seen.push((label, HashSet::new()));
            seen.len() - 1
        }
    };
    let values = &mut seen[index].1;
    if values.contains(value) || values.len() < MAX_LABEL_VALUES && values.insert(value.to_string()) {
        value.to_string()
    } else {
        "other".into()
    }
}

/// A chat was accepted.
pub fn chat_started() {
    counter!(CHATS_STARTED).increment(1);
}

/// A chat ended with an answer.
pub fn chat_finished(stop_reason: &str, took: Duration) {
    counter!(CHATS_FINISHED, "stop_reason" => stop_reason.to_string()).increment(1);
    histogram!(CHAT_DURATION, "outcome" => "finished").record(took.as_secs_f64());
}

/// A chat ended with an error of `kind` (a fixed name, see `ChatError::kind`).
pub fn chat_failed(kind: &'static str, took: Duration) {
    counter!(CHATS_FAILED, "error_kind" => kind).increment(1);
    histogram!(CHAT_DURATION, "outcome" => "failed").record(took.as_secs_f64());
}

/// The chats running and waiting now.
pub fn chats_now(in_flight: u64, queued: u64) {
    gauge!(CHATS_IN_FLIGHT).set(in_flight as f64);
    gauge!(CHATS_QUEUED).set(queued as f64);
}

/// The sessions on disk now.
pub fn sessions_now(count: u64) {
    gauge!(SESSIONS).set(count as f64);
}

/// A model call's first text or tool call arrived `after` its start.
pub fn model_first_token(model: &str, after: Duration) {
    histogram!(MODEL_FIRST_TOKEN, "model" => bounded("model", model)).record(after.as_secs_f64());
}

/// A model call finished `after` its start, using `usage`.
pub fn model_finished(model: &str, after: Duration, usage: &Usage) {
    let model = bounded("model", model);
    histogram!(MODEL_LATENCY, "model" => model.clone()).record(after.as_secs_f64());
    for (kind, tokens) in [
        ("input", usage.input_tokens),
        ("output", usage.output_tokens),
        ("cache_read", usage.cache_read_tokens),
        ("cache_write", usage.cache_write_tokens),
    ] {
        counter!(TOKENS, "model" => model.clone(), "kind" => kind).increment(tokens);
    }
}

/// A model call failed with an error of `kind`.
pub fn model_failed(model: &str, kind: &'static str) {
    counter!(MODEL_ERRORS, "model" => bounded("model", model), "error_kind" => kind).increment(1);
}

/// A tool call finished.
pub fn tool_call(tool: &str, is_error: bool) {
    let outcome = if is_error { "error" } else { "ok" };
    counter!(TOOL_CALLS, "tool" => bounded("tool", tool), "outcome" => outcome).increment(1);
}

/// The guest was instantiated for a chat in `took`.
pub fn guest_instantiated(took: Duration) {
    histogram!(GUEST_INSTANTIATION).record(took.as_secs_f64());
}

/// An HTTP request was answered (its response head) after `took`.
pub fn http_request(method: &str, route: &str, status: u16, took: Duration) {
    let (method, route) = (method.to_string(), route.to_string());
    counter!(HTTP_REQUESTS, "method" => method.clone(), "route" => route.clone(), "status" => status.to_string())
        .increment(1);
    histogram!(HTTP_DURATION, "method" => method, "route" => route).record(took.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_chosen_labels_are_bounded() {
        assert_eq!(bounded("test-label", "claude-sonnet-4-5"), "claude-sonnet-4-5");
        assert_eq!(bounded("test-label", "a b"), "other");
        assert_eq!(bounded("test-label", ""), "other");
        for i in 1..MAX_LABEL_VALUES {
            assert_eq!(bounded("test-label", &format!("m{i}")), format!("m{i}"));
        }
        assert_eq!(bounded("test-label", "one-too-many"), "other");
        assert_eq!(
            bounded("test-label", "claude-sonnet-4-5"),
            "claude-sonnet-4-5",
            "seen values stay"
        );
        assert_eq!(bounded("another-label", "one-too-many"), "one-too-many", "per label");
    }
}

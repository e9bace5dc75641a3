//! Resilient sending: retries with exponential backoff and jitter on 408, 429 and 5xx answers
//! (Anthropic's 529 `overloaded_error` included) and on connection failures, honouring
//! `retry-after` and `x-should-retry`, within a bound on the total wait.

use std::time::Duration;

use reqwest::{RequestBuilder, Response, StatusCode};

use super::LlmError;

/// How hard to try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The first backoff; each retry doubles it (with jitter).
    pub base_delay: Duration,
    /// Most time spent waiting between attempts, in all.
    pub max_total_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 4,
            base_delay: Duration::from_millis(500),
            max_total_wait: Duration::from_secs(60),
        }
    }
}

fn retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 500..=599)
}

/// `retry-after` as seconds or an HTTP date; `retry-after-ms` (sent by some providers) first.
fn retry_after(response: &Response) -> Option<Duration> {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return Some(Duration::from_secs_f64(ms.max(0.0) / 1000.0));
    }
    let value = header("retry-after")?;
    if let Ok(seconds) = value.parse::<f64>() {
        return Some(Duration::from_secs_f64(seconds.max(0.0)));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(std::time::SystemTime::now()).unwrap_or_default())
}

/// Exponential backoff with "equal jitter": half fixed, half random.
fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    let full = policy.base_delay.saturating_mul(2u32.saturating_pow(attempt.min(16)));
    let random = f64::from(getrandom::u32().unwrap_or(u32::MAX / 2)) / f64::from(u32::MAX);
    full / 2 + full.mul_f64(random / 2.0)
}

/// Sends the request `build()` makes, retrying as the policy allows. A non-success answer that is
/// not retried (or whose retries ran out) becomes the error `error` reads from its status and
/// body.
pub async fn send(
    policy: &RetryPolicy,
    provider: &str,
    build: impl Fn() -> RequestBuilder,
    error: fn(u16, &str) -> LlmError,
) -> Result<Response, LlmError> {
    let mut waited = Duration::ZERO;
    let mut attempt = 0;
    loop {
        let (error, delay) = match build().send().await {
            Ok(response) if response.status().is_success() => return Ok(response),
            Ok(response) => {
                let status = response.status();
                let should_retry = match response.headers().get("x-should-retry").and_then(|v| v.to_str().ok()) {
                    Some("true") => true,
                    Some("false") => false,
                    _ => retryable(status),
                };
                let delay = retry_after(&response);
                let text = response.text().await.unwrap_or_default();
                let error = error(status.as_u16(), &text);
                if !should_retry {
                    return Err(error);
                }
                (error, delay)
            }
            Err(e) => (LlmError::Transport(format!("request to {provider} failed: {e}")), None),
        };
        let delay = delay.unwrap_or_else(|| backoff(policy, attempt));
        if attempt >= policy.max_retries || waited + delay > policy.max_total_wait {
            tracing::warn!(attempts = attempt + 1, error = %error, "giving up on the model call");
            return Err(error);
        }
        tracing::info!(attempt = attempt + 1, delay_ms = delay.as_millis() as u64, error = %error, "retrying the model call");
        tokio::time::sleep(delay).await;
        waited += delay;
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_bounded_jitter() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(100),
            ..RetryPolicy::default()
        };
        for attempt in 0..5 {
            let full = Duration::from_millis(100 * 2u64.pow(attempt));
            let d = backoff(&policy, attempt);
            assert!(d >= full / 2 && d <= full, "{attempt}: {d:?}");
        }
        assert!(retryable(StatusCode::TOO_MANY_REQUESTS) && retryable(StatusCode::from_u16(529).unwrap()));
        assert!(!retryable(StatusCode::BAD_REQUEST) && !retryable(StatusCode::UNAUTHORIZED));
    }
}

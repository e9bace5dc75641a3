//! Telling a client's URL that a chat ended: the reply (or the error) POSTed as JSON, signed
//! with HMAC-SHA256, retried with backoff for a bounded time, never in the way of the next chat.
//!
//! Which URLs may be notified follows the rule of repository imports
//! ([`crate::import::remote::policy`]): `https://` to public hosts, anything else only to hosts
//! the operator lists with `--import-allow`; the host is resolved once and the connection pinned
//! to the addresses checked.

use std::time::Duration;

use serde_json::Value;

use crate::import::remote::RemoteError;
use crate::import::remote::policy::{self, AllowList, Target};

/// The header carrying the body's signature: `sha256=<hex HMAC-SHA256 of the body>`.
pub const SIGNATURE_HEADER: &str = "x-pi-worker-signature";
/// The wait before the first retry; it doubles after each failed attempt.
const FIRST_RETRY: Duration = Duration::from_secs(1);
/// Attempts end once this long has passed since the first.
const GIVE_UP_AFTER: Duration = Duration::from_secs(120);
/// The longest one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a notification URL was refused.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The server has no secret to sign with, so it sends nothing.
    #[error("notifications are off: the server has no --notify-secret")]
    NoSecret,
    /// The URL is malformed or the policy refuses it.
    #[error(transparent)]
    Url(#[from] RemoteError),
}

/// Sends chat-end notifications.
pub struct Notifier {
    key: Option<ring::hmac::Key>,
    allow: AllowList,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out of logs and debug output.
        f.debug_struct("Notifier")
            .field("signing", &self.key.is_some())
            .finish()
    }
}

/// The signature header's value for `body`.
fn sign(key: &ring::hmac::Key, body: &[u8]) -> String {
    let tag = ring::hmac::sign(key, body);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

impl Notifier {
    /// A notifier signing with `secret` (none: notifications are refused), allowed to reach
    /// what `allow` lists beyond the public internet.
    pub fn new(secret: Option<&str>, allow: AllowList) -> Self {
        Self {
            key: secret.map(|s| ring::hmac::Key::new(ring::hmac::HMAC_SHA256, s.as_bytes())),
            allow,
        }
    }

    /// Checks a client's notification URL against the policy, resolving its host once.
    pub async fn check(&self, url: &str) -> Result<Target, NotifyError> {
        if self.key.is_none() {
            return Err(NotifyError::NoSecret);
        }
        Ok(policy::check(url, &self.allow).await?)
    }

    /// POSTs `body` to `target` in the background, retrying a connection failure, a 429 or a
    /// 5xx with doubling waits for up to [`GIVE_UP_AFTER`]; gives up on any other answer.
    pub fn send(&self, target: Target, body: &Value) {
        let Some(key) = &self.key else { return };
        let body = body.to_string();
        let signature = sign(key, body.as_bytes());
        tokio::spawn(async move {
            let url = target.base.to_string();
            let client = match target.client(ATTEMPT_TIMEOUT) {
                Ok(client) => client,
                Err(e) => return tracing::warn!(%url, "cannot notify: {e}"),
            };
            let started = tokio::time::Instant::now();
            let mut wait = FIRST_RETRY;
            for attempt in 1.. {
                let sent = client
                    .post(&url)
                    .timeout(ATTEMPT_TIMEOUT)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header(SIGNATURE_HEADER, &signature)
                    .body(body.clone())
                    .send()
                    .await;
                let retry = match &sent {
                    Ok(response) if response.status().is_success() => return,
                    Ok(response) => response.status().is_server_error() || response.status().as_u16() == 429,
                    Err(_) => true,
                };
                let outcome = match sent {
                    Ok(response) => format!("answered {}", response.status()),
                    Err(e) => format!("failed: {e}"),
                };
                if !retry || started.elapsed() + wait > GIVE_UP_AFTER {
                    return tracing::warn!(%url, attempt, "gave up notifying: {outcome}");
                }
                tracing::info!(%url, attempt, "notification {outcome}; retrying in {wait:?}");
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_rfc_4231_hmac_sha256() {
        // RFC 4231, test case 2.
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"Jefe");
        assert_eq!(
            sign(&key, b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}

//! A response body as a blocking [`Read`]: a task forwards the network stream through a bounded
//! channel, so the pack is read (and indexed) on a blocking thread while it downloads. The task
//! enforces the byte cap and the deadline; when it fails, the reader sees an error and the
//! reason is kept for the caller ([`Download::failure`]).

use std::io::Read;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::StreamExt as _;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::RemoteError;
use crate::import::limits::LimitError;

enum Chunk {
    Data(Bytes),
    End,
}

type Failure = Arc<Mutex<Option<RemoteError>>>;

/// A response body being downloaded, read from a blocking thread.
pub struct Download {
    rx: mpsc::Receiver<Chunk>,
    current: Bytes,
    ended: bool,
    failure: Failure,
}

/// Why a download stopped early, once it has: the byte cap, the deadline or the network.
#[derive(Clone)]
pub struct FailureCell(Failure);

impl FailureCell {
    /// Takes the reason, if the download failed.
    pub fn take(&self) -> Option<RemoteError> {
        self.0.lock().ok().and_then(|mut f| f.take())
    }
}

impl Download {
    /// Starts forwarding `response`'s body, stopping with an error after `max_bytes` bytes or
    /// at `deadline`.
    pub fn start(response: reqwest::Response, max_bytes: u64, deadline: Instant, timeout_secs: u64) -> Self {
        let (tx, rx) = mpsc::channel(16);
        let failure: Failure = Arc::default();
        let failed = failure.clone();
        tokio::spawn(async move {
            let forward = async {
                let mut stream = response.bytes_stream();
                let mut total = 0u64;
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk.map_err(RemoteError::Unreachable)?;
                    total += chunk.len() as u64;
                    if total > max_bytes {
                        return Err(RemoteError::Limit(LimitError::PackTooLarge(max_bytes)));
                    }
                    if tx.send(Chunk::Data(chunk)).await.is_err() {
                        return Ok(());
                    }
                }
                let _ = tx.send(Chunk::End).await;
                Ok(())
            };
            let outcome = match tokio::time::timeout_at(deadline, forward).await {
                Ok(outcome) => outcome,
                Err(_) => Err(RemoteError::TimedOut(timeout_secs)),
            };
            if let Err(e) = outcome
                && let Ok(mut slot) = failed.lock()
            {
                *slot = Some(e);
            }
        });
        Self {
            rx,
            current: Bytes::new(),
            ended: false,
            failure,
        }
    }

    /// Where the reason for an early stop will be.
    pub fn failure(&self) -> FailureCell {
        FailureCell(self.failure.clone())
    }
}

impl Read for Download {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            if self.ended {
                return Ok(0);
            }
            match self.rx.blocking_recv() {
                Some(Chunk::Data(data)) => self.current = data,
                Some(Chunk::End) => self.ended = true,
                None => return Err(std::io::Error::other("the download stopped early")),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// Reads a whole (small) response body, refusing more than `max_bytes`.
pub async fn read_all(response: reqwest::Response, max_bytes: u64) -> Result<Vec<u8>, RemoteError> {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        body.extend_from_slice(&chunk.map_err(RemoteError::Unreachable)?);
        if body.len() as u64 > max_bytes {
            return Err(RemoteError::Protocol(format!("an answer over {max_bytes} bytes")));
        }
    }
    Ok(body)
}

//! A program's stdout and stderr, captured into one buffer in the order written and cut at a
//! byte limit: past it, writes still succeed (the program is not punished for talking) but
//! their bytes are dropped and the output is marked truncated. What is kept is also handed, as
//! it is written, to a [`LiveOutput`] (the chat's `tool_output` events).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// Receives each kept write as it happens: the stream's name (`stdout`, `stderr`) and the bytes.
pub type LiveOutput = Arc<dyn Fn(&'static str, &[u8]) + Send + Sync>;

/// The shared buffer behind a program's stdout and stderr, as one of them. Cloning shares it.
#[derive(Clone)]
pub struct CapturedOutput {
    inner: Arc<Mutex<Captured>>,
    stream: &'static str,
    live: Option<LiveOutput>,
}

#[derive(Debug, Default)]
struct Captured {
    bytes: Vec<u8>,
    limit: usize,
    truncated: bool,
}

impl CapturedOutput {
    /// An empty buffer that keeps at most `limit` bytes, as `stdout`; each kept write also goes
    /// to `live`.
    pub fn new(limit: usize, live: Option<LiveOutput>) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Captured {
                limit,
                ..Captured::default()
            })),
            stream: "stdout",
            live,
        }
    }

    /// The same buffer, written as the stream `name`.
    pub fn as_stream(&self, name: &'static str) -> Self {
        Self {
            stream: name,
            ..self.clone()
        }
    }

    /// What was kept, as text (invalid UTF-8 replaced), and whether anything was dropped.
    pub fn take(&self) -> (String, bool) {
        let captured = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        (
            String::from_utf8_lossy(&captured.bytes).into_owned(),
            captured.truncated,
        )
    }

    fn append(&self, buf: &[u8]) {
        let kept = {
            let mut captured = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            let room = captured.limit.saturating_sub(captured.bytes.len());
            if buf.len() > room {
                captured.truncated = true;
            }
            let kept = &buf[..buf.len().min(room)];
            captured.bytes.extend_from_slice(kept);
            kept
        };
        if let Some(live) = &self.live
            && !kept.is_empty()
        {
            live(self.stream, kept);
        }
    }
}

impl IsTerminal for CapturedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

/// Both streams write straight into the one buffer, synchronously: no background writer task,
/// so what the program wrote is there, in order, the moment a write returns.
impl StdoutStream for CapturedOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl OutputStream for CapturedOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.append(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        // Always room: past the limit, bytes are dropped rather than refused.
        Ok(64 * 1024)
    }
}

impl Pollable for CapturedOutput {
    fn ready<'a, 'b>(&'a mut self) -> Pin<Box<dyn Future<Output = ()> + Send + 'b>>
    where
        'a: 'b,
        Self: 'b,
    {
        Box::pin(std::future::ready(()))
    }
}

impl AsyncWrite for CapturedOutput {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.append(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_head_says_it_cut_and_streams_what_it_keeps() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let live: LiveOutput = Arc::new(move |stream, bytes| {
            log.lock()
                .unwrap()
                .push(format!("{stream}:{}", String::from_utf8_lossy(bytes)))
        });
        let out = CapturedOutput::new(5, Some(live));
        out.append(b"abc");
        assert_eq!(out.take(), ("abc".to_string(), false));
        out.as_stream("stderr").append(b"defg");
        out.append(b"h");
        assert_eq!(out.take(), ("abcde".to_string(), true));
        assert_eq!(*seen.lock().unwrap(), ["stdout:abc", "stderr:de"]);
    }
}

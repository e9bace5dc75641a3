//! A program's stdout and stderr, captured into one buffer in the order written and cut at a
//! byte limit: past it, writes still succeed (the program is not punished for talking) but
//! their bytes are dropped and the output is marked truncated. What is kept is also handed, as
//! it is written, to a [`LiveOutput`] (the chat's `tool_output` events) as text: a character
//! split across two writes waits for its end, so it is never shown as U+FFFD.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// Receives each kept write as it happens: the stream's name (`stdout`, `stderr`) and the text.
pub type LiveOutput = Arc<dyn Fn(&'static str, &str) + Send + Sync>;

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
    /// Per stream, the start of a character whose end is not written yet.
    pending: Vec<(&'static str, Vec<u8>)>,
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

    /// What was kept, as text (invalid UTF-8 replaced), and whether anything was dropped. A
    /// character left unfinished goes to the live output as it is.
    pub fn take(&self) -> (String, bool) {
        let mut captured = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        for (stream, bytes) in std::mem::take(&mut captured.pending) {
            if let Some(live) = &self.live {
                live(stream, &String::from_utf8_lossy(&bytes));
            }
        }
        (
            String::from_utf8_lossy(&captured.bytes).into_owned(),
            captured.truncated,
        )
    }

    fn append(&self, buf: &[u8]) {
        let mut captured = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let room = captured.limit.saturating_sub(captured.bytes.len());
        if buf.len() > room {
            captured.truncated = true;
        }
        let kept = &buf[..buf.len().min(room)];
        captured.bytes.extend_from_slice(kept);
        let Some(live) = &self.live else {
            return;
        };
        let mut text = match captured.pending.iter().position(|(s, _)| *s == self.stream) {
            Some(i) => captured.pending.swap_remove(i).1,
            None => Vec::new(),
        };
        text.extend_from_slice(kept);
        let cut = complete_prefix(&text);
        if cut < text.len() {
            captured.pending.push((self.stream, text.split_off(cut)));
        }
        drop(captured);
        if !text.is_empty() {
            live(self.stream, &String::from_utf8_lossy(&text));
        }
    }
}

/// The length of `bytes` without an unfinished UTF-8 character at its end.
fn complete_prefix(bytes: &[u8]) -> usize {
    let n = bytes.len();
    for back in 1..=n.min(4) {
        let byte = bytes[n - back];
        // Continuation bytes are 0b10xx_xxxx: walk back to the character's first byte.
        if byte & 0xC0 != 0x80 {
            let len = match byte {
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF7 => 4,
                _ => 1,
            };
            return if len > back { n - back } else { n };
        }
    }
    n
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
        let live: LiveOutput = Arc::new(move |stream, text| log.lock().unwrap().push(format!("{stream}:{text}")));
        let out = CapturedOutput::new(5, Some(live));
        out.append(b"abc");
        assert_eq!(out.take(), ("abc".to_string(), false));
        out.as_stream("stderr").append(b"defg");
        out.append(b"h");
        assert_eq!(out.take(), ("abcde".to_string(), true));
        assert_eq!(*seen.lock().unwrap(), ["stdout:abc", "stderr:de"]);
    }

    #[test]
    fn a_character_split_across_writes_goes_live_whole() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let live: LiveOutput = Arc::new(move |stream, text| log.lock().unwrap().push(format!("{stream}:{text}")));
        let out = CapturedOutput::new(100, Some(live));
        let euro = "€".as_bytes();
        out.append(&[b'a', euro[0]]);
        out.as_stream("stderr").append("é".as_bytes());
        out.append(&euro[1..2]);
        out.append(&[euro[2], b'b', 0xF0, 0x9F]);
        assert!(!out.take().1);
        assert_eq!(
            *seen.lock().unwrap(),
            ["stdout:a", "stderr:é", "stdout:€b", "stdout:\u{FFFD}"]
        );
    }
}

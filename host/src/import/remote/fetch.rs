//! The fetch (protocol v0/v1, stateless smart HTTP): one `POST <repo>/git-upload-pack` with the
//! wanted ref, an optional `deepen`, and `done` (the session has nothing to negotiate with); the
//! answer is the shallow boundary (when deepening), `NAK`, and the pack, demultiplexed from its
//! side band with `gix-packetline` and indexed with [`git::pack`](crate::git::pack).

use std::collections::BTreeSet;
use std::io::{BufReader, Read};
use std::path::Path;

use gix_hash::ObjectId;
use gix_packetline::PacketLineRef;
use gix_packetline::blocking_io::{StreamingPeekableIter, encode};

use super::RemoteError;
use super::discovery::Advertisement;
use super::policy::Target;
use crate::git::pack::{PackError, ReceivedPack, index_pack};

const REQUEST_TYPE: &str = "application/x-git-upload-pack-request";
const RESULT_TYPE: &str = "application/x-git-upload-pack-result";

/// How the remote will frame its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framing {
    /// The pack comes on side band 1 (progress on 2, errors on 3).
    pub sideband: bool,
    /// Shallow lines come first (a `deepen` was sent).
    pub deepen: bool,
}

/// The upload-pack request for `want`, `depth` commits deep (all history when `None`), with the
/// capabilities both sides support.
pub fn request(want: ObjectId, depth: Option<u32>, ad: &Advertisement) -> Result<(Vec<u8>, Framing), RemoteError> {
    let mut caps = Vec::new();
    let sideband = if ad.has("side-band-64k") {
        caps.push("side-band-64k");
        true
    } else if ad.has("side-band") {
        caps.push("side-band");
        true
    } else {
        false
    };
    for cap in ["ofs-delta", "no-progress"] {
        if ad.has(cap) {
            caps.push(cap);
        }
    }
    if depth.is_some() {
        if !ad.has("shallow") {
            return Err(RemoteError::Protocol(
                "the remote does not support shallow fetches (depth)".into(),
            ));
        }
        caps.push("shallow");
    }
    let agent = concat!("agent=pi-worker/", env!("CARGO_PKG_VERSION"));
    if ad.capabilities.iter().any(|c| c.starts_with("agent=")) {
        caps.push(agent);
    }
    let mut body = Vec::new();
    let io = |e: std::io::Error| RemoteError::Protocol(e.to_string());
    let want_line = if caps.is_empty() {
        format!("want {want}\n")
    } else {
        format!("want {want} {}\n", caps.join(" "))
    };
    encode::data_to_write(want_line.as_bytes(), &mut body).map_err(io)?;
    if let Some(depth) = depth {
        encode::data_to_write(format!("deepen {depth}\n").as_bytes(), &mut body).map_err(io)?;
    }
    encode::flush_to_write(&mut body).map_err(io)?;
    encode::data_to_write(b"done\n", &mut body).map_err(io)?;
    let framing = Framing {
        sideband,
        deepen: depth.is_some(),
    };
    Ok((body, framing))
}

/// Sends the request; returns the response once its status and type say a pack follows.
pub async fn post(client: &reqwest::Client, target: &Target, body: Vec<u8>) -> Result<reqwest::Response, RemoteError> {
    let url = target.url("git-upload-pack");
    let response = client
        .post(&url)
        .header(reqwest::header::CONTENT_TYPE, REQUEST_TYPE)
        .header(reqwest::header::ACCEPT, RESULT_TYPE)
        .body(body)
        .send()
        .await
        .map_err(RemoteError::Unreachable)?;
    let status = response.status();
    if !status.is_success() {
        return Err(RemoteError::Status {
            url,
            status: status.as_u16(),
        });
    }
    let kind = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if kind != RESULT_TYPE {
        return Err(RemoteError::Protocol(format!(
            "{url} answered '{kind}', not {RESULT_TYPE}"
        )));
    }
    Ok(response)
}

/// The answer, read: the indexed pack and the shallow boundary the remote reported.
pub struct Fetched {
    /// The pack, indexed on disk, not yet stored.
    pub pack: ReceivedPack,
    /// Commits whose parents were not sent (empty for a full fetch).
    pub shallow: BTreeSet<ObjectId>,
}

/// Why reading the answer failed.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    /// The remote broke the protocol or reported an error.
    #[error(transparent)]
    Remote(#[from] RemoteError),
    /// The pack was refused.
    #[error(transparent)]
    Pack(#[from] PackError),
}

/// Reads the answer to [`request`] from `answer` (blocking) and indexes its pack in `scratch`.
pub fn read_answer(answer: impl Read, framing: Framing, scratch: &Path) -> Result<Fetched, AnswerError> {
    let protocol = |what: String| RemoteError::Protocol(what);
    let mut lines = StreamingPeekableIter::new(answer, &[PacketLineRef::Flush], false);
    lines.fail_on_err_lines(true);
    let mut shallow = BTreeSet::new();
    if framing.deepen {
        while let Some(line) = lines.read_line() {
            let text = text(line)?;
            if let Some(hex) = text.strip_prefix("shallow ") {
                let id =
                    ObjectId::from_hex(hex.as_bytes()).map_err(|_| protocol(format!("bad shallow line '{text}'")))?;
                shallow.insert(id);
            } else if !text.starts_with("unshallow ") {
                return Err(protocol(format!("expected shallow lines, got '{text}'")).into());
            }
        }
        lines.reset();
    }
    match lines.read_line() {
        Some(line) => {
            let text = text(line)?;
            if text != "NAK" {
                return Err(protocol(format!("expected NAK, got '{text}'")).into());
            }
        }
        None => return Err(protocol("the answer ended before the pack".into()).into()),
    }
    let pack = if framing.sideband {
        let mut remote_error = None;
        let indexed = {
            let mut reader = lines.as_read_with_sidebands(|is_error, text: &[u8]| {
                if is_error {
                    remote_error = Some(String::from_utf8_lossy(text).trim().to_string());
                    std::ops::ControlFlow::Break(())
                } else {
                    std::ops::ControlFlow::Continue(())
                }
            });
            index_pack(&mut reader, scratch, gix_object::find::Never)
        };
        match (indexed, remote_error) {
            (_, Some(message)) => return Err(RemoteError::Remote(message).into()),
            (indexed, None) => indexed?,
        }
    } else {
        index_pack(
            &mut BufReader::new(lines.into_inner()),
            scratch,
            gix_object::find::Never,
        )?
    };
    Ok(Fetched { pack, shallow })
}

/// A pkt-line's text without its trailing newline; an `ERR` line or a broken stream is the
/// remote's error.
fn text(line: std::io::Result<gix_error::Result<PacketLineRef<'_>>>) -> Result<String, RemoteError> {
    let line = line
        .map_err(|e| RemoteError::Remote(e.to_string()))?
        .map_err(|e| RemoteError::Protocol(e.to_string()))?;
    let bytes = line
        .as_slice()
        .ok_or_else(|| RemoteError::Protocol("unexpected special pkt-line".into()))?;
    let text = String::from_utf8_lossy(bytes);
    Ok(text.strip_suffix('\n').unwrap_or(&text).to_string())
}

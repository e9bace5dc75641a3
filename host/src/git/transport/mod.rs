//! Git's pack protocol (version 0/1, stateless: one request, one answer), as smart HTTP carries
//! it: the ref advertisement, `upload-pack` (fetch and clone) and `receive-pack` (push). Packet
//! lines are read and written with `gix-packetline`; the packs themselves come from
//! [`super::pack`].

pub mod receive_pack;
pub mod upload_pack;

use gix_hash::ObjectId;
use gix_packetline::PacketLineRef;
use gix_packetline::blocking_io::encode;

use super::{GitError, Repo};
use crate::storage::RefValue;

/// What `agent=` says in our capabilities.
const AGENT: &str = concat!("agent=pi-worker/", env!("CARGO_PKG_VERSION"));

/// A git service a client asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// Fetch and clone.
    UploadPack,
    /// Push.
    ReceivePack,
}

impl Service {
    /// The service's name on the wire (`git-upload-pack`).
    pub fn name(self) -> &'static str {
        match self {
            Self::UploadPack => "git-upload-pack",
            Self::ReceivePack => "git-receive-pack",
        }
    }

    /// The service named `name`, if it is one.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "git-upload-pack" => Some(Self::UploadPack),
            "git-receive-pack" => Some(Self::ReceivePack),
            _ => None,
        }
    }
}

/// A request that does not follow the protocol.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    /// A packet line does not decode.
    #[error("malformed packet line: {0}")]
    PacketLine(#[source] gix_error::Error),
    /// The request ended before its flush packet.
    #[error("the request ended early")]
    Truncated,
    /// A line the protocol does not allow here.
    #[error("unexpected line '{0}'")]
    Unexpected(String),
    /// A line does not hold a valid object id where it must.
    #[error("invalid object id in '{0}'")]
    InvalidId(String),
    /// The client wants an object the session does not have.
    #[error("upload-pack: not our ref {0}")]
    NotOurRef(ObjectId),
    /// A feature the server did not advertise.
    #[error("{0} is not supported by this server")]
    Unsupported(&'static str),
}

/// Reads packet lines from a request held in memory.
pub(crate) struct Lines<'a> {
    rest: &'a [u8],
}

impl<'a> Lines<'a> {
    pub(crate) fn new(request: &'a [u8]) -> Self {
        Self { rest: request }
    }

    /// The next packet line; `None` at the end of the request.
    pub(crate) fn next_line(&mut self) -> Result<Option<PacketLineRef<'a>>, ProtocolError> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        match gix_packetline::decode::streaming(self.rest).map_err(ProtocolError::PacketLine)? {
            gix_packetline::decode::Stream::Complete { line, bytes_consumed } => {
                self.rest = &self.rest[bytes_consumed..];
                Ok(Some(line))
            }
            gix_packetline::decode::Stream::Incomplete { .. } => Err(ProtocolError::Truncated),
        }
    }

    /// The next line's text without its trailing newline, `None` at a flush packet; an error at
    /// the end of the request.
    pub(crate) fn next_text(&mut self) -> Result<Option<&'a [u8]>, ProtocolError> {
        match self.next_line()? {
            None => Err(ProtocolError::Truncated),
            Some(PacketLineRef::Flush) => Ok(None),
            Some(PacketLineRef::Data(data)) => Ok(Some(data.strip_suffix(b"\n").unwrap_or(data))),
            Some(other) => Err(ProtocolError::Unexpected(format!("{other:?}"))),
        }
    }

    /// What follows the lines read so far (a pack, after `receive-pack`'s commands).
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.rest
    }
}

/// An object id in hex.
pub(crate) fn parse_id(hex: &[u8], line: &[u8]) -> Result<ObjectId, ProtocolError> {
    ObjectId::from_hex(hex).map_err(|_| ProtocolError::InvalidId(String::from_utf8_lossy(line).into_owned()))
}

/// Appends `text` as one packet line.
pub(crate) fn push_line(out: &mut Vec<u8>, text: &str) {
    // Writing to a Vec fails only for lines over the packet size, which ours never are.
    if encode::data_to_write(text.as_bytes(), &mut *out).is_err() {
        tracing::error!("a protocol line too long for a packet: {text}");
    }
}

/// Appends a flush packet.
pub(crate) fn push_flush(out: &mut Vec<u8>) {
    out.extend_from_slice(b"0000");
}

/// The smart-HTTP ref advertisement of `service`: the `# service=` line and a flush, then one
/// line per ref (`HEAD` first for upload-pack) with the capabilities after the first, then (for
/// upload-pack from a shallow session, as git's own does) a `shallow <id>` line per commit where
/// its history ends, so a clone is shallow at the same place, then a flush. An empty repository
/// advertises `capabilities^{}` with the null id.
pub fn advertisement(repo: &Repo<'_>, service: Service) -> Result<Vec<u8>, GitError> {
    let mut refs: Vec<(String, ObjectId)> = Vec::new();
    let mut capabilities = match service {
        Service::UploadPack => {
            "multi_ack_detailed side-band-64k ofs-delta shallow no-progress allow-tip-sha1-in-want allow-reachable-sha1-in-want"
                .to_string()
        }
        Service::ReceivePack => "report-status delete-refs side-band-64k ofs-delta quiet atomic".to_string(),
    };
    if service == Service::UploadPack
        && let Some(head) = repo.head_commit()?
    {
        refs.push(("HEAD".into(), head));
        if let RefValue::Symbolic(target) = repo.head()? {
            capabilities.push_str(&format!(" symref=HEAD:{target}"));
        }
    }
    refs.extend(repo.advertised_refs()?);
    capabilities.push_str(" object-format=sha1 ");
    capabilities.push_str(AGENT);

    let mut out = Vec::new();
    push_line(&mut out, &format!("# service={}\n", service.name()));
    push_flush(&mut out);
    if refs.is_empty() {
        let null = ObjectId::null(gix_hash::Kind::Sha1);
        push_line(&mut out, &format!("{null} capabilities^{{}}\0{capabilities}\n"));
    }
    for (i, (name, id)) in refs.iter().enumerate() {
        if i == 0 {
            push_line(&mut out, &format!("{id} {name}\0{capabilities}\n"));
        } else {
            push_line(&mut out, &format!("{id} {name}\n"));
        }
    }
    if service == Service::UploadPack {
        for commit in repo.shallow()? {
            push_line(&mut out, &format!("shallow {commit}\n"));
        }
    }
    push_flush(&mut out);
    Ok(out)
}

/// A writer that wraps what it is given in side-band-64k packets: data on band 1 (at most
/// [`BAND_DATA_BYTES`] per packet), progress and errors on their own bands.
pub(crate) struct SideBand<W> {
    inner: W,
}

/// The most data bytes one side-band-64k packet carries.
const BAND_DATA_BYTES: usize = 65515;

impl<W: std::io::Write> SideBand<W> {
    pub(crate) fn new(inner: W) -> Self {
        Self { inner }
    }

    /// Writes `data` on the progress or error channel.
    pub(crate) fn write_band(&mut self, channel: gix_packetline::Channel, data: &[u8]) -> std::io::Result<()> {
        for piece in data.chunks(BAND_DATA_BYTES) {
            encode::band_to_write(channel, piece, &mut self.inner)?;
        }
        Ok(())
    }

    /// The writer underneath.
    pub(crate) fn inner_mut(&mut self) -> &mut W {
        &mut self.inner
    }
}

impl<W: std::io::Write> std::io::Write for SideBand<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let taken = data.len().min(BAND_DATA_BYTES);
        encode::band_to_write(gix_packetline::Channel::Data, &data[..taken], &mut self.inner)?;
        Ok(taken)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

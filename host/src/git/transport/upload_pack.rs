//! `git-upload-pack`, stateless: a request of `want`s, then `have`s, ending in `done` (send the
//! pack) or a flush (one more round of negotiation). Negotiation answers as git's own
//! `upload-pack` does with `multi_ack_detailed` (`ACK <id> common`, `ACK <id> ready`, `NAK`);
//! the pack holds only what the wants reach and the common commits do not.

use std::collections::HashSet;
use std::io::Write;

use gix_hash::ObjectId;
use gix_object::Kind;
use gix_packetline::Channel;

use super::{Lines, ProtocolError, SideBand, parse_id, push_line};
use crate::git::GitError;
use crate::git::pack::send::{objects_to_send, write_pack};
use crate::storage::ObjectDb;

/// How the client asked to be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Options {
    multi_ack_detailed: bool,
    side_band_64k: bool,
}

/// A parsed upload-pack request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRequest {
    wants: Vec<ObjectId>,
    haves: Vec<ObjectId>,
    done: bool,
    options: Options,
}

impl UploadRequest {
    /// Parses a request body (already un-gzipped).
    pub fn parse(body: &[u8]) -> Result<Self, ProtocolError> {
        let mut lines = Lines::new(body);
        let mut request = Self {
            wants: Vec::new(),
            haves: Vec::new(),
            done: false,
            options: Options::default(),
        };
        while let Some(line) = lines.next_text()? {
            // A shallow client (a clone of a shallow session) names where its history ends; it
            // asks for nothing older, so nothing changes.
            if let Some(hex) = line.strip_prefix(b"shallow ") {
                parse_id(hex, line)?;
                continue;
            }
            let Some(rest) = line.strip_prefix(b"want ") else {
                return Err(match line.split(|b| *b == b' ').next() {
                    Some(b"deepen" | b"deepen-since" | b"deepen-not") => {
                        ProtocolError::Unsupported("changing the depth of a clone (--depth, --deepen)")
                    }
                    Some(b"filter") => ProtocolError::Unsupported("partial clone (filter)"),
                    _ => ProtocolError::Unexpected(String::from_utf8_lossy(line).into_owned()),
                });
            };
            let (hex, capabilities) = rest.split_at(rest.len().min(40));
            request.wants.push(parse_id(hex, line)?);
            if request.wants.len() == 1 {
                for capability in capabilities.split(|b| *b == b' ') {
                    match capability {
                        b"multi_ack_detailed" => request.options.multi_ack_detailed = true,
                        b"side-band-64k" => request.options.side_band_64k = true,
                        _ => {}
                    }
                }
            }
        }
        loop {
            match lines.next_line()? {
                None => break,
                Some(gix_packetline::PacketLineRef::Flush) => continue,
                Some(gix_packetline::PacketLineRef::Data(data)) => {
                    let line = data.strip_suffix(b"\n").unwrap_or(data);
                    if line == b"done" {
                        request.done = true;
                        break;
                    }
                    let hex = line
                        .strip_prefix(b"have ")
                        .ok_or_else(|| ProtocolError::Unexpected(String::from_utf8_lossy(line).into_owned()))?;
                    request.haves.push(parse_id(hex, line)?);
                }
                Some(other) => return Err(ProtocolError::Unexpected(format!("{other:?}"))),
            }
        }
        if request.wants.is_empty() {
            return Err(ProtocolError::Unexpected("a request without wants".into()));
        }
        Ok(request)
    }
}

/// The answer to an upload-pack request: the negotiation lines, and when the client is done,
/// the objects of its pack.
#[derive(Debug)]
pub struct UploadPlan {
    /// The packet lines answering the negotiation.
    negotiation: Vec<u8>,
    /// The objects of the pack (`None`: the client is still negotiating).
    objects: Option<Vec<ObjectId>>,
    options: Options,
}

/// Negotiates: checks the wants, finds the common commits among the haves and, when the client
/// said `done`, counts the objects to send.
pub fn plan(odb: &ObjectDb<'_>, request: &UploadRequest) -> Result<UploadPlan, UploadError> {
    for want in &request.wants {
        if !odb.contains(want)? {
            return Err(ProtocolError::NotOurRef(*want).into());
        }
    }
    let mut out = Vec::new();
    let mut common = Vec::new();
    for have in &request.haves {
        if matches!(odb.header(have)?, Some((Kind::Commit, _))) {
            common.push(*have);
            if request.options.multi_ack_detailed {
                push_line(&mut out, &format!("ACK {have} common\n"));
            } else if common.len() == 1 {
                push_line(&mut out, &format!("ACK {have}\n"));
            }
        }
    }
    if !request.done {
        if let Some(last) = common.last()
            && request.options.multi_ack_detailed
            && all_reach(odb, &request.wants, &common)?
        {
            push_line(&mut out, &format!("ACK {last} ready\n"));
        }
        if common.is_empty() || request.options.multi_ack_detailed {
            push_line(&mut out, "NAK\n");
        }
        return Ok(UploadPlan {
            negotiation: out,
            objects: None,
            options: request.options,
        });
    }
    match common.last() {
        Some(last) if request.options.multi_ack_detailed => push_line(&mut out, &format!("ACK {last}\n")),
        Some(_) => {}
        None => push_line(&mut out, "NAK\n"),
    }
    Ok(UploadPlan {
        negotiation: out,
        objects: Some(objects_to_send(odb, &request.wants, &common)?),
        options: request.options,
    })
}

/// Whether every want reaches one of `common` (or is one): the client has told enough.
fn all_reach(odb: &ObjectDb<'_>, wants: &[ObjectId], common: &[ObjectId]) -> Result<bool, GitError> {
    let common: HashSet<&ObjectId> = common.iter().collect();
    let mut buf = Vec::new();
    for want in wants {
        let mut seen = HashSet::new();
        let mut stack = vec![*want];
        let mut reached = false;
        while let Some(id) = stack.pop() {
            if common.contains(&id) {
                reached = true;
                break;
            }
            if !seen.insert(id) {
                continue;
            }
            if let Some(data) = gix_object::Find::try_find(odb, &id, &mut buf)?
                && data.kind == Kind::Commit
            {
                stack.extend(gix_object::CommitRefIter::from_bytes(data.data, gix_hash::Kind::Sha1).parent_ids());
            }
        }
        if !reached {
            return Ok(false);
        }
    }
    Ok(true)
}

impl UploadPlan {
    /// How many objects the pack will hold (`None`: no pack, the client is still negotiating).
    pub fn object_count(&self) -> Option<usize> {
        self.objects.as_ref().map(Vec::len)
    }

    /// Writes the answer to `out`: the negotiation lines, then the pack (on side-band 1 when
    /// the client asked for side-band-64k, with a flush after it). A failure while the pack is
    /// made is reported on side-band 3, so git shows it, before it is returned.
    pub fn write(&self, odb: &ObjectDb<'_>, mut out: impl Write) -> Result<(), GitError> {
        out.write_all(&self.negotiation).map_err(io_error)?;
        let Some(objects) = &self.objects else {
            return Ok(());
        };
        if !self.options.side_band_64k {
            return write_pack(odb, objects, out);
        }
        let mut band = SideBand::new(&mut out);
        let written = {
            // Whole side-band packets: the pack writer's small writes are gathered first.
            let mut buffered = std::io::BufWriter::with_capacity(super::BAND_DATA_BYTES, &mut band);
            write_pack(odb, objects, &mut buffered).and_then(|()| buffered.flush().map_err(io_error))
        };
        if let Err(e) = &written {
            let _ = band.write_band(Channel::Error, format!("error: {e}\n").as_bytes());
        }
        written?;
        band.inner_mut().write_all(b"0000").map_err(io_error)
    }
}

fn io_error(e: std::io::Error) -> GitError {
    GitError::Objects(gix_error::Error::from_error(e))
}

/// Why an upload-pack request failed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The request broke the protocol or asked for what is not here: the client is told with an
    /// `ERR` packet line.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// A git or storage failure (a host fault).
    #[error(transparent)]
    Git(#[from] GitError),
}

impl From<crate::storage::StorageError> for UploadError {
    fn from(e: crate::storage::StorageError) -> Self {
        Self::Git(e.into())
    }
}

/// The `ERR` packet line telling the client why its request failed.
pub fn error_line(e: &ProtocolError) -> Vec<u8> {
    let mut out = Vec::new();
    // `ERR <message>` without a newline, as git writes it.
    if gix_packetline::blocking_io::encode::error_to_write(e.to_string().as_bytes(), &mut out).is_err() {
        tracing::error!("an ERR line too long for a packet: {e}");
    }
    out
}

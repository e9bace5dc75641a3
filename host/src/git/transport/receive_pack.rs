//! `git-receive-pack`: ref update commands, a flush, then the pack (absent when every command
//! deletes). The pack is indexed first ([`crate::git::pack::index_pack`]); [`apply`] then
//! stores it and updates the refs in the caller's one write transaction, and the answer is
//! git's `report-status` (`unpack ok` / `unpack <error>`, then `ok <ref>` / `ng <ref> <reason>`).

use super::{Lines, ProtocolError, SideBand, parse_id, push_flush, push_line};
use crate::git::pack::{ReceivedPack, StoredPack};
use crate::git::push::{RefUpdate, Rejection};
use crate::git::{GitError, Repo};
use crate::storage::{StorageError, Stores};

/// What the client asked of the answer and the updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Options {
    report_status: bool,
    side_band_64k: bool,
    atomic: bool,
}

/// A parsed receive-pack request; the pack follows it in the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushRequest {
    /// The ref updates, in the client's order.
    pub updates: Vec<RefUpdate>,
    options: Options,
}

impl PushRequest {
    /// Parses the commands of a request body; returns them and the bytes after their flush
    /// (the pack).
    pub fn parse(body: &[u8]) -> Result<(Self, &[u8]), ProtocolError> {
        let mut lines = Lines::new(body);
        let mut request = Self {
            updates: Vec::new(),
            options: Options::default(),
        };
        while let Some(line) = lines.next_text()? {
            let (command, capabilities) = match line.iter().position(|b| *b == 0) {
                Some(nul) => (&line[..nul], Some(&line[nul + 1..])),
                None => (line, None),
            };
            if request.updates.is_empty()
                && let Some(capabilities) = capabilities
            {
                for capability in capabilities.split(|b| *b == b' ') {
                    match capability {
                        b"report-status" => request.options.report_status = true,
                        b"side-band-64k" => request.options.side_band_64k = true,
                        b"atomic" => request.options.atomic = true,
                        _ => {}
                    }
                }
            }
            let unexpected = || ProtocolError::Unexpected(String::from_utf8_lossy(line).into_owned());
            // A shallow client names where its history ends. Nothing to do: every pushed tip
            // must still reach only objects in the pack or the session.
            if let Some(hex) = command.strip_prefix(b"shallow ") {
                parse_id(hex, line)?;
                continue;
            }
            let mut parts = command.splitn(3, |b| *b == b' ');
            let (Some(old), Some(new), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(unexpected());
            };
            request.updates.push(RefUpdate {
                old: parse_id(old, line)?,
                new: parse_id(new, line)?,
                name: String::from_utf8(name.to_vec()).map_err(|_| unexpected())?,
            });
        }
        // As git's receive-pack: one push updates a ref at most once.
        let mut names = std::collections::HashSet::new();
        if let Some(twice) = request.updates.iter().find(|u| !names.insert(&u.name)) {
            return Err(ProtocolError::Unexpected(format!(
                "multiple updates for ref '{}'",
                twice.name
            )));
        }
        Ok((request, lines.rest()))
    }

    /// Whether a pack must follow (some update is not a deletion).
    pub fn needs_pack(&self) -> bool {
        self.updates.iter().any(|u| !u.is_delete())
    }

    /// The report when the pack could not be read: every update refused.
    pub fn unpack_failed(&self, error: &str) -> PushReport {
        PushReport {
            unpack: Err(error.to_string()),
            refs: self
                .updates
                .iter()
                .map(|u| (u.name.clone(), Err("unpacker error".to_string())))
                .collect(),
            options: self.options,
        }
    }
}

/// The outcome of a push, per ref.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushReport {
    /// `Err`: the pack was refused.
    pub unpack: Result<(), String>,
    /// Each ref, with its refusal if it was refused.
    pub refs: Vec<(String, Result<(), String>)>,
    options: Options,
}

impl PushReport {
    /// Whether any ref was updated.
    pub fn any_applied(&self) -> bool {
        self.unpack.is_ok() && self.refs.iter().any(|(_, r)| r.is_ok())
    }

    /// The answer's body: `report-status` lines (in side-band 1 when asked) and a flush, or
    /// nothing when the client did not ask for a report.
    pub fn encode(&self) -> Vec<u8> {
        if !self.options.report_status {
            return Vec::new();
        }
        let one_line = |s: &str| s.replace(['\n', '\r'], " ");
        let mut report = Vec::new();
        match &self.unpack {
            Ok(()) => push_line(&mut report, "unpack ok\n"),
            Err(e) => push_line(&mut report, &format!("unpack {}\n", one_line(e))),
        }
        for (name, result) in &self.refs {
            match result {
                Ok(()) => push_line(&mut report, &format!("ok {name}\n")),
                Err(reason) => push_line(&mut report, &format!("ng {name} {}\n", one_line(reason))),
            }
        }
        push_flush(&mut report);
        if !self.options.side_band_64k {
            return report;
        }
        let mut out = Vec::new();
        let mut band = SideBand::new(&mut out);
        // Writing to a Vec cannot fail.
        let _ = std::io::Write::write_all(&mut band, &report);
        push_flush(&mut out);
        out
    }
}

/// Why [`apply`] made no change.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// Nothing was applied (the pack was bad, or every update was refused): the transaction must
    /// roll back, and the client gets this report.
    #[error("push refused")]
    Refused(PushReport),
    /// A host fault.
    #[error(transparent)]
    Git(#[from] GitError),
}

impl From<StorageError> for PushError {
    fn from(e: StorageError) -> Self {
        Self::Git(e.into())
    }
}

/// Stores `pack` (verified) and applies the request's updates over `stores`, in the caller's
/// write transaction. Returns the report when at least one ref moved; otherwise
/// [`PushError::Refused`], so the caller rolls back and the session stays exactly as it was.
pub fn apply(stores: Stores<'_>, request: &PushRequest, pack: Option<&ReceivedPack>) -> Result<PushReport, PushError> {
    let stored = match pack.map(|p| p.store(&stores.objects(), stores.options().into())) {
        None => StoredPack::default(),
        Some(Ok(stored)) => stored,
        Some(Err(crate::git::pack::PackError::Storage(e))) => return Err(e.into()),
        Some(Err(e)) => return Err(PushError::Refused(request.unpack_failed(&e.to_string()))),
    };
    let repo = Repo::new(stores);
    let mut results: Vec<Result<(), Rejection>> = request
        .updates
        .iter()
        .map(|u| repo.check_ref_update(u, &stored))
        .collect::<Result<_, _>>()?;
    if request.options.atomic && results.iter().any(Result::is_err) {
        refuse_the_rest(&mut results);
    } else {
        for (i, update) in request.updates.iter().enumerate() {
            if results[i].is_ok() {
                results[i] = repo.apply_ref_update(update)?;
                if results[i].is_err() && request.options.atomic {
                    // Earlier updates were written: the rollback undoes them.
                    refuse_the_rest(&mut results);
                    break;
                }
            }
        }
    }
    let report = PushReport {
        unpack: Ok(()),
        refs: request
            .updates
            .iter()
            .zip(results)
            .map(|(u, r)| (u.name.clone(), r.map_err(|e| e.to_string())))
            .collect(),
        options: request.options,
    };
    if report.any_applied() {
        Ok(report)
    } else {
        Err(PushError::Refused(report))
    }
}

/// Atomic: every update not already refused is refused for the others' sake.
fn refuse_the_rest(results: &mut [Result<(), Rejection>]) {
    for result in results.iter_mut().filter(|r| r.is_ok()) {
        *result = Err(Rejection::Atomic);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(line: &str) -> String {
        format!("{:04x}{line}", line.len() + 4)
    }

    #[test]
    fn one_push_updates_a_ref_at_most_once() {
        let (zero, a, b) = ("0".repeat(40), "a".repeat(40), "b".repeat(40));
        let body = format!(
            "{}{}0000",
            pkt(&format!("{zero} {a} refs/heads/main\0report-status\n")),
            pkt(&format!("{zero} {b} refs/heads/main\n")),
        );
        let err = PushRequest::parse(body.as_bytes()).unwrap_err();
        assert!(
            err.to_string().contains("multiple updates for ref 'refs/heads/main'"),
            "{err}"
        );
        let body = format!("{}0000", pkt(&format!("{zero} {a} refs/heads/main\0report-status\n")));
        let (request, rest) = PushRequest::parse(body.as_bytes()).unwrap();
        assert_eq!((request.updates.len(), rest.len()), (1, 0));
    }
}

//! Ref discovery over smart HTTP (protocol v0/v1): `GET <repo>/info/refs?service=git-upload-pack`,
//! its pkt-line advertisement decoded with `gix-packetline`, and the choice of what to fetch.
//!
//! Redirects of the discovery request are followed (at most [`MAX_REDIRECTS`]), each target
//! checked by the [`super::policy`] again; the fetch then goes to the final base URL, as
//! git does.

use std::time::Duration;

use gix_hash::ObjectId;
use gix_packetline::PacketLineRef;
use gix_packetline::blocking_io::StreamingPeekableIter;
use reqwest::Url;

use super::RemoteError;
use super::policy::{self, AllowList, Target};

/// Most redirects followed during discovery.
pub const MAX_REDIRECTS: usize = 5;

const SERVICE: &str = "info/refs?service=git-upload-pack";

/// What a remote advertises: its refs and capabilities.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Advertisement {
    /// Refs by full name (`refs/heads/main`, `refs/tags/v1`, `HEAD`), in advertised order.
    pub refs: Vec<(String, ObjectId)>,
    /// Capabilities (`side-band-64k`, `shallow`, `symref=HEAD:refs/heads/main`, …).
    pub capabilities: Vec<String>,
}

/// What to fetch, and where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// The full ref name chosen.
    pub name: String,
    /// The object it names (a commit, or an annotated tag).
    pub id: ObjectId,
    /// The local branch to check it out on.
    pub branch: String,
}

/// The branch a tag (or a ref that is not a branch) is checked out on.
pub const TAG_BRANCH: &str = "main";

impl Advertisement {
    /// Decodes an advertisement body (`# service=…`, flush, ref lines, flush).
    pub fn parse(body: &[u8]) -> Result<Self, RemoteError> {
        let bad = |what: &str| RemoteError::Protocol(format!("bad ref advertisement: {what}"));
        let mut lines = StreamingPeekableIter::new(body, &[PacketLineRef::Flush], false);
        lines.fail_on_err_lines(true);
        let mut out = Advertisement::default();
        let mut first = true;
        let mut header_done = false;
        loop {
            let line = match lines.read_line() {
                Some(line) => line.map_err(|e| RemoteError::Remote(e.to_string()))?,
                None if !header_done => {
                    // The flush after `# service=…`; the refs follow.
                    header_done = true;
                    lines.reset();
                    continue;
                }
                None => break,
            };
            let line = line.map_err(|e| bad(&e.to_string()))?;
            let text = line.as_bstr().ok_or_else(|| bad("a non-data line"))?;
            let text = std::str::from_utf8(text).map_err(|_| bad("a line that is not UTF-8"))?;
            let text = text.strip_suffix('\n').unwrap_or(text);
            if !header_done {
                if text != "# service=git-upload-pack" {
                    return Err(bad(&format!("expected '# service=git-upload-pack', got '{text}'")));
                }
                continue;
            }
            if text.starts_with("version ") {
                continue;
            }
            let (reference, capabilities) = match text.split_once('\0') {
                Some((reference, caps)) if first => (reference, Some(caps)),
                Some(_) => return Err(bad("capabilities after the first ref")),
                None => (text, None),
            };
            first = false;
            if let Some(caps) = capabilities {
                out.capabilities = caps.split(' ').filter(|c| !c.is_empty()).map(str::to_string).collect();
            }
            let (hex, name) = reference.split_once(' ').ok_or_else(|| bad(text))?;
            let id = ObjectId::from_hex(hex.as_bytes()).map_err(|_| bad(text))?;
            if name == "capabilities^{}" || name.ends_with("^{}") {
                continue;
            }
            out.refs.push((name.to_string(), id));
        }
        Ok(out)
    }

    /// Whether the remote has capability `name`.
    pub fn has(&self, name: &str) -> bool {
        self.capabilities.iter().any(|c| c == name)
    }

    /// Where the remote's HEAD points (`refs/heads/main`), from the `symref` capability.
    fn head_target(&self) -> Option<&str> {
        self.capabilities.iter().find_map(|c| c.strip_prefix("symref=HEAD:"))
    }

    fn find(&self, name: &str) -> Option<ObjectId> {
        self.refs.iter().find(|(n, _)| n == name).map(|(_, id)| *id)
    }

    /// What to fetch for `reference` (a branch, a tag, or a full ref name), or the remote's
    /// default branch. A branch is checked out on a local branch of the same name; a tag or
    /// another ref on [`TAG_BRANCH`].
    pub fn select(&self, reference: Option<&str>) -> Result<Wanted, RemoteError> {
        if self.refs.is_empty() {
            return Err(RemoteError::EmptyRepository);
        }
        let branch_of = |name: &str| name.strip_prefix("refs/heads/").unwrap_or(TAG_BRANCH).to_string();
        let wanted = |name: &str, id: ObjectId| Wanted {
            name: name.to_string(),
            id,
            branch: branch_of(name),
        };
        match reference.map(str::trim) {
            None | Some("" | "HEAD") => {
                if let Some(target) = self.head_target()
                    && let Some(id) = self.find(target)
                {
                    return Ok(wanted(target, id));
                }
                // No symref: the branch HEAD points at, preferring main and master.
                let head = self.find("HEAD").ok_or(RemoteError::EmptyRepository)?;
                let branches = || {
                    self.refs
                        .iter()
                        .filter(|(n, id)| n.starts_with("refs/heads/") && *id == head)
                };
                let name = ["refs/heads/main", "refs/heads/master"]
                    .into_iter()
                    .find(|n| self.find(n) == Some(head))
                    .map(str::to_string)
                    .or_else(|| branches().next().map(|(n, _)| n.clone()))
                    .unwrap_or_else(|| format!("refs/heads/{TAG_BRANCH}"));
                Ok(wanted(&name, head))
            }
            Some(reference) => {
                let candidates = [
                    format!("refs/heads/{reference}"),
                    format!("refs/tags/{reference}"),
                    reference.to_string(),
                ];
                candidates
                    .iter()
                    .filter(|n| n.starts_with("refs/"))
                    .find_map(|n| self.find(n).map(|id| wanted(n, id)))
                    .ok_or_else(|| RemoteError::UnknownRef(reference.to_string()))
            }
        }
    }
}

/// Fetches the advertisement of the repository at `target`, following redirects the policy
/// allows. Returns the final target (where the fetch goes) and the advertisement.
pub async fn discover(
    mut target: Target,
    allow: &AllowList,
    connect_timeout: Duration,
    max_bytes: u64,
) -> Result<(Target, reqwest::Client, Advertisement), RemoteError> {
    for _ in 0..=MAX_REDIRECTS {
        let client = target.client(connect_timeout)?;
        let url = target.url(SERVICE);
        let response = client.get(&url).send().await.map_err(RemoteError::Unreachable)?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .ok_or_else(|| RemoteError::Protocol(format!("{url} redirected without a Location")))?;
            let next = Url::parse(&url)
                .and_then(|u| u.join(location))
                .map_err(|e| RemoteError::Protocol(format!("{url} redirected to '{location}': {e}")))?;
            let base = next
                .as_str()
                .strip_suffix(SERVICE)
                .map(|b| b.trim_end_matches('/').to_string())
                .ok_or_else(|| {
                    RemoteError::Protocol(format!(
                        "{url} redirected to {next}, which is not a repository's info/refs"
                    ))
                })?;
            let base = Url::parse(&base).map_err(|e| RemoteError::Protocol(format!("redirect to {base}: {e}")))?;
            target = policy::check_url(base, allow).await?;
            continue;
        }
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
        if kind != "application/x-git-upload-pack-advertisement" {
            return Err(RemoteError::Protocol(format!(
                "{url} answered '{kind}', not a smart-HTTP advertisement (only smart HTTP is supported)"
            )));
        }
        let body = super::download::read_all(response, max_bytes).await?;
        let advertisement = Advertisement::parse(&body)?;
        return Ok((target, client, advertisement));
    }
    Err(RemoteError::Protocol(format!("more than {MAX_REDIRECTS} redirects")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(lines: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        for line in lines {
            if line.is_empty() {
                out.extend_from_slice(b"0000");
            } else {
                out.extend_from_slice(format!("{:04x}{line}", line.len() + 4).as_bytes());
            }
        }
        out
    }

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";
    const T: &str = "3333333333333333333333333333333333333333";

    #[test]
    fn parses_refs_capabilities_and_selects() {
        let body = pkt(&[
            "# service=git-upload-pack\n",
            "",
            &format!("{A} HEAD\0multi_ack side-band-64k shallow symref=HEAD:refs/heads/trunk agent=git/2\n"),
            &format!("{B} refs/heads/feature\n"),
            &format!("{A} refs/heads/trunk\n"),
            &format!("{T} refs/tags/v1\n"),
            &format!("{B} refs/tags/v1^{{}}\n"),
            "",
        ]);
        let ad = Advertisement::parse(&body).unwrap();
        assert_eq!(ad.refs.len(), 4);
        assert!(ad.has("shallow") && ad.has("side-band-64k"));
        let id = |hex: &str| ObjectId::from_hex(hex.as_bytes()).unwrap();
        let default = ad.select(None).unwrap();
        assert_eq!(
            (default.name.as_str(), default.branch.as_str()),
            ("refs/heads/trunk", "trunk")
        );
        assert_eq!(default.id, id(A));
        let feature = ad.select(Some("feature")).unwrap();
        assert_eq!((feature.branch.as_str(), feature.id), ("feature", id(B)));
        let tag = ad.select(Some("v1")).unwrap();
        assert_eq!(
            (tag.name.as_str(), tag.branch.as_str(), tag.id),
            ("refs/tags/v1", "main", id(T))
        );
        assert_eq!(ad.select(Some("refs/heads/feature")).unwrap(), feature);
        assert!(matches!(ad.select(Some("nope")), Err(RemoteError::UnknownRef(_))));
    }

    #[test]
    fn an_empty_repository_and_a_dumb_answer() {
        let zero = "0000000000000000000000000000000000000000";
        let body = pkt(&[
            "# service=git-upload-pack\n",
            "",
            &format!("{zero} capabilities^{{}}\0agent=git/2\n"),
            "",
        ]);
        let ad = Advertisement::parse(&body).unwrap();
        assert!(matches!(ad.select(None), Err(RemoteError::EmptyRepository)));
        assert!(Advertisement::parse(b"1111 refs/heads/main\n").is_err());
    }
}

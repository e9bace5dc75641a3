//! Cloning a public git repository into a new session over smart HTTP(S), protocol v0/v1:
//!
//! 1. [`policy`]: the URL is checked (scheme, credentials, the host's addresses, the operator's
//!    allow-list) and the connection pinned to the checked addresses;
//! 2. [`discovery`]: `info/refs` is fetched (redirects re-checked) and the ref chosen: the one
//!    asked for, or the remote's default branch;
//! 3. [`fetch`]: one upload-pack request; its pack streams in through a [`download`] capped at
//!    the workspace's byte quota and the import's time limit;
//! 4. [`store`]: in one transaction, the pack's objects are stored verified (by
//!    [`git::pack`](crate::git::pack)), the shallow boundary recorded, and the ref checked out on
//!    a branch within the workspace quotas.
//!
//! Steps 1 to 3 run before the session exists; the pack is read and stored while the session is
//! being created, and a failure removes it again.

pub mod discovery;
pub mod download;
pub mod fetch;
pub mod policy;
pub mod store;

use std::time::Duration;

use tokio::time::Instant;

use self::discovery::Wanted;
use self::download::Download;
use self::fetch::Framing;
use self::policy::AllowList;
use super::limits::{ImportLimits, LimitError};

/// How long connecting to a remote may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest ref advertisement read.
const MAX_ADVERTISEMENT_BYTES: u64 = 64 * 1024 * 1024;

/// What to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSource {
    /// The repository's URL (`https://host/owner/repo.git`).
    pub url: String,
    /// A branch, a tag or a full ref name; the remote's default branch when `None`.
    pub reference: Option<String>,
    /// How many commits of history to fetch; all when `None`.
    pub depth: Option<u32>,
}

/// The operator's settings for repository imports.
#[derive(Debug, Clone)]
pub struct RemoteOptions {
    /// Hosts allowed despite the policy (plain HTTP, non-public addresses).
    pub allow: AllowList,
    /// How long an import may take, from the first request to the last byte of the pack.
    pub timeout: Duration,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        Self {
            allow: AllowList::default(),
            timeout: Duration::from_secs(300),
        }
    }
}

/// Why a repository could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The URL does not parse, or has credentials, a query or a fragment.
    #[error("invalid repository URL: {0}")]
    InvalidUrl(String),
    /// `depth` is 0.
    #[error("depth must be at least 1")]
    InvalidDepth,
    /// The policy refuses the URL.
    #[error("import refused: {0}")]
    Refused(String),
    /// The host does not resolve.
    #[error("cannot resolve {0}: {1}")]
    Resolve(String, #[source] std::io::Error),
    /// The remote could not be reached, or the connection broke.
    #[error("the remote is unreachable: {0}")]
    Unreachable(#[source] reqwest::Error),
    /// The remote answered with an HTTP error.
    #[error("the remote answered {status} for {url}")]
    Status {
        /// The URL requested.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// The remote's answer breaks the protocol.
    #[error("the remote broke the git protocol: {0}")]
    Protocol(String),
    /// The remote reported an error.
    #[error("the remote reported an error: {0}")]
    Remote(String),
    /// The remote has no ref by that name.
    #[error("the remote has no branch or tag '{0}'")]
    UnknownRef(String),
    /// The remote repository has no commits.
    #[error("the remote repository is empty")]
    EmptyRepository,
    /// A ref names something other than a commit (or a tag of one).
    #[error("'{0}' does not name a commit")]
    NotACommit(String),
    /// The repository holds a path no working tree may hold (`..`, `.git`).
    #[error("the repository holds a path the working tree refuses: '{0}'")]
    UnsafePath(String),
    /// The import's time limit passed.
    #[error("the import took longer than {0} s")]
    TimedOut(u64),
    /// The repository does not fit the workspace's quotas.
    #[error(transparent)]
    Limit(#[from] LimitError),
}

/// A fetch under way: the ref chosen and the remote's answer streaming in.
pub struct Fetch {
    wanted: Wanted,
    framing: Framing,
    download: Download,
    limits: ImportLimits,
}

impl Fetch {
    /// The ref being fetched.
    pub fn wanted(&self) -> &Wanted {
        &self.wanted
    }
}

/// Checks `source` against the policy, discovers its refs, chooses the ref and asks for its
/// pack, within `options.timeout` (which also bounds the pack's download, read later by
/// [`Fetch::store`]). The pack may be at most `limits.max_workspace_bytes` bytes.
pub async fn start(source: &RemoteSource, options: &RemoteOptions, limits: ImportLimits) -> Result<Fetch, RemoteError> {
    if source.depth == Some(0) {
        return Err(RemoteError::InvalidDepth);
    }
    let deadline = Instant::now() + options.timeout;
    let timeout_secs = options.timeout.as_secs();
    let started = async {
        let target = policy::check(&source.url, &options.allow).await?;
        let (target, client, advertisement) =
            discovery::discover(target, &options.allow, CONNECT_TIMEOUT, MAX_ADVERTISEMENT_BYTES).await?;
        let wanted = advertisement.select(source.reference.as_deref())?;
        let (body, framing) = fetch::request(wanted.id, source.depth, &advertisement)?;
        let response = fetch::post(&client, &target, body).await?;
        let download = Download::start(response, limits.max_workspace_bytes, deadline, timeout_secs);
        Ok(Fetch {
            wanted,
            framing,
            download,
            limits,
        })
    };
    tokio::time::timeout_at(deadline, started)
        .await
        .unwrap_or(Err(RemoteError::TimedOut(timeout_secs)))
}

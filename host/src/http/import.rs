//! `POST /session/new` with code: a tar or tar.gz body (by `Content-Type`), or a repository URL
//! in the JSON body. Both answer `{sessionId, head, fileCount}`.

use std::sync::Arc;

use super::api_types::{GitAuthorBody, ImportQuery, SessionImported};
use super::{ApiError, AppState};
use crate::git::pack::PackError;
use crate::import::archive::{ArchiveError, Compression};
use crate::import::remote::{RemoteError, RemoteSource};
use crate::import::{ImportError, Imported};
use crate::service::SessionSetup;
use crate::sessions::SessionId;
use crate::tenants::Tenant;
use axum::body::Bytes;
use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use axum::http::{HeaderMap, StatusCode, header};

/// The archive media types: `application/x-tar` (gzip still recognised by its magic bytes),
/// `application/gzip` and `application/x-gzip`. `None` for any other body (JSON).
pub fn archive_type(headers: &HeaderMap, body: &[u8]) -> Option<Compression> {
    let media = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let media = media.split(';').next()?.trim().to_ascii_lowercase();
    match media.as_str() {
        "application/x-tar" => Some(Compression::detect(body)),
        "application/gzip" | "application/x-gzip" => Some(Compression::Gzip),
        _ => None,
    }
}

/// Creates a session from an archive body.
pub async fn from_archive(
    state: &Arc<AppState>,
    owner: &Tenant,
    query: Result<Query<ImportQuery>, QueryRejection>,
    compression: Compression,
    body: Bytes,
) -> Result<SessionImported, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let author = match (query.git_author_name, query.git_author_email) {
        (None, None) => None,
        (Some(name), Some(email)) => Some(GitAuthorBody { name, email }.validate()?),
        _ => {
            return Err(ApiError::bad_request(
                "give both gitAuthorName and gitAuthorEmail, or neither",
            ));
        }
    };
    let setup = SessionSetup {
        author,
        agent: query.agent,
    };
    let (id, imported) = state
        .service
        .create_from_archive(owner, body, compression, setup)
        .await?;
    Ok(created(&id, imported))
}

/// The answer to an import: `{sessionId, head, fileCount}`.
pub fn created(id: &SessionId, imported: Imported) -> SessionImported {
    SessionImported {
        session_id: id.as_str().to_string(),
        head: imported.head.map(|h| h.to_hex().to_string()),
        file_count: imported.file_count,
    }
}

/// The status an import failure answers with; `None` for a fault of ours.
pub fn import_status(e: &ImportError) -> Option<StatusCode> {
    match e {
        ImportError::Limit(_) | ImportError::Archive(ArchiveError::Limit(_)) => Some(StatusCode::PAYLOAD_TOO_LARGE),
        ImportError::Archive(_) | ImportError::Worktree(_) => Some(StatusCode::BAD_REQUEST),
        ImportError::Remote(e) => Some(remote_status(e)),
        ImportError::Pack(PackError::Scratch(_)) => None,
        ImportError::Pack(PackError::TooLarge(_)) => Some(StatusCode::PAYLOAD_TOO_LARGE),
        ImportError::Pack(_) => Some(StatusCode::BAD_GATEWAY),
        ImportError::Git(_) | ImportError::Storage(_) => None,
    }
}

/// The status a failed repository import answers with: the client's mistakes are 4xx, the
/// remote's failures 502, the time limit 504.
pub(super) fn remote_status(e: &RemoteError) -> StatusCode {
    match e {
        RemoteError::InvalidUrl(_) | RemoteError::InvalidDepth => StatusCode::BAD_REQUEST,
        RemoteError::Refused(_) => StatusCode::FORBIDDEN,
        RemoteError::UnknownRef(_) | RemoteError::EmptyRepository | RemoteError::Status { status: 404, .. } => {
            StatusCode::NOT_FOUND
        }
        RemoteError::NotACommit(_) => StatusCode::UNPROCESSABLE_ENTITY,
        RemoteError::Limit(_) => StatusCode::PAYLOAD_TOO_LARGE,
        RemoteError::TimedOut(_) => StatusCode::GATEWAY_TIMEOUT,
        RemoteError::Resolve(..)
        | RemoteError::Unreachable(_)
        | RemoteError::Status { .. }
        | RemoteError::Protocol(_)
        | RemoteError::Remote(_)
        | RemoteError::UnsafePath(_) => StatusCode::BAD_GATEWAY,
    }
}

/// A repository to clone, from the JSON body.
pub struct RepoRequest {
    /// The repository's URL.
    pub url: String,
    /// The ref to check out.
    pub reference: Option<String>,
    /// How many commits of history.
    pub depth: Option<u32>,
}

/// Creates a session by cloning a repository.
pub async fn from_repository(
    state: &Arc<AppState>,
    owner: &Tenant,
    request: RepoRequest,
    setup: SessionSetup,
) -> Result<SessionImported, ApiError> {
    let source = RemoteSource {
        url: request.url,
        reference: request.reference,
        depth: request.depth,
    };
    let (id, imported) = state
        .service
        .create_from_repository(owner, source, &state.config.import, setup)
        .await?;
    Ok(created(&id, imported))
}

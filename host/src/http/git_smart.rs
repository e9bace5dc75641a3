//! Git's smart HTTP protocol (stateless, version 0/1): `GET info/refs?service=…` advertises the
//! refs, `POST git-upload-pack` answers a fetch or clone with a pack streamed from the session,
//! `POST git-receive-pack` takes a push. Bodies may be gzipped, as git sends large requests.

use std::io::Read;
use std::sync::Arc;

use super::api_types::{ErrorBody, SessionPath};
use super::git_export::stream_from_blocking;
use super::routes::session_id;
use super::{ApiError, AppState};
use crate::git::transport::Service;
use crate::sessions::SessionId;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Git's answers are never cached.
fn git_response(content_type: String, body: impl IntoResponse) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache".to_string()),
        ],
        body,
    )
        .into_response()
}

/// `GET /session/:id/git/info/refs?service=…`: the smart advertisement.
pub async fn advertise(state: &AppState, id: &SessionId, service: &str) -> Result<Response, ApiError> {
    let service = Service::from_name(service)
        .ok_or_else(|| ApiError::new(StatusCode::FORBIDDEN, format!("unsupported git service '{service}'")))?;
    let body = state.service.git_advertisement(id, service).await?;
    Ok(git_response(
        format!("application/x-{}-advertisement", service.name()),
        body,
    ))
}

/// The request body, un-gzipped when `Content-Encoding: gzip`, at most `limit` bytes.
fn request_body(headers: &HeaderMap, body: Bytes, limit: usize) -> Result<Vec<u8>, ApiError> {
    let gzipped = headers
        .get(header::CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
    if !gzipped {
        return Ok(body.into());
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body.as_ref())
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| ApiError::bad_request(format!("invalid gzip body: {e}")))?;
    if out.len() > limit {
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "request body too large"));
    }
    Ok(out)
}

/// Git: fetch and clone
///
/// git's smart HTTP `upload-pack`: negotiation, then one pack, streamed as it is made. The body
/// may be gzipped (`Content-Encoding: gzip`).
#[utoipa::path(post, path = "/session/{id}/git/git-upload-pack", tag = "git",
    params(SessionPath),
    request_body(content = Vec<u8>, content_type = "application/x-git-upload-pack-request"),
    responses(
        (status = 200, description = "The pack", body = Vec<u8>, content_type = "application/x-git-upload-pack-result"),
        (status = 400, description = "A malformed request", body = ErrorBody),
        (status = 404, description = "No such session", body = ErrorBody),
    ))]
pub async fn upload_pack(
    State(state): State<Arc<AppState>>,
    Path(SessionPath { id: raw_id }): Path<SessionPath>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = session_id(&raw_id)?;
    let request = request_body(&headers, body, state.config.max_body_bytes)?;
    let answer = state.service.upload_pack(&id, request).await?;
    if let Some(objects) = answer.object_count() {
        tracing::info!(session = %id, objects, "sending a pack");
    }
    let body = stream_from_blocking(move |writer| {
        answer.write_to(writer).inspect_err(|e| {
            tracing::warn!(session = %id, "upload-pack ended mid-stream: {e}");
        })
    });
    Ok(git_response("application/x-git-upload-pack-result".into(), body))
}

/// Git: push
///
/// git's smart HTTP `receive-pack`: a pack and ref updates, verified and applied in one
/// transaction, answered with git's report. The pack may not unpack past the session's quotas.
#[utoipa::path(post, path = "/session/{id}/git/git-receive-pack", tag = "git",
    params(SessionPath),
    request_body(content = Vec<u8>, content_type = "application/x-git-receive-pack-request"),
    responses(
        (status = 200, description = "git's report", body = Vec<u8>, content_type = "application/x-git-receive-pack-result"),
        (status = 400, description = "A malformed request", body = ErrorBody),
        (status = 404, description = "No such session", body = ErrorBody),
        (status = 413, description = "Larger than `--max-upload-bytes`", body = ErrorBody),
    ))]
pub async fn receive_pack(
    State(state): State<Arc<AppState>>,
    Path(SessionPath { id: raw_id }): Path<SessionPath>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = session_id(&raw_id)?;
    let request = request_body(&headers, body, state.config.max_upload_bytes)?;
    let report = state.service.receive_pack(&id, request).await?;
    Ok(git_response("application/x-git-receive-pack-result".into(), report))
}

//! The file API: `GET|PUT|DELETE /session/:id/files/{*path}`. Files travel as raw bytes with
//! their git blob id as `ETag`; directories list as JSON. The semantics live in
//! [`ChatService`](crate::service::ChatService)'s file calls; this module speaks HTTP.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gix_hash::ObjectId;

use super::api_types::{
    DeleteQuery, DirEntryJson, DirectoryListing, EntryKindJson, ErrorBody, FileCreated, SessionFilePath, SessionPath,
};
use super::routes::{body_bytes, session_id};
use super::{ApiError, AppState};
use crate::service::{PathView, WriteCondition};
use crate::storage::EntryKind;

/// List the root directory
///
/// The working tree's root as `{"path", "entries": [{"name", "kind", "size", "mtimeMs"}]}`.
#[utoipa::path(get, path = "/session/{id}/files", tag = "files", operation_id = "list_root",
    params(SessionPath),
    responses(
        (status = 200, description = "The root's listing", body = DirectoryListing),
        (status = 400, description = "A malformed session id", body = ErrorBody),
        (status = 404, description = "No such session", body = ErrorBody),
    ))]
pub async fn get_root(
    state: State<Arc<AppState>>,
    Path(SessionPath { id: raw_id }): Path<SessionPath>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let root = SessionFilePath {
        id: raw_id,
        path: String::new(),
    };
    get(state, Path(root), headers).await
}

/// Read a file or list a directory
///
/// A file's bytes, with `Content-Type` from its extension and its git blob id as `ETag`
/// (`Range` and `If-None-Match` honoured); or a directory's listing as JSON.
#[utoipa::path(get, path = "/session/{id}/files/{*path}", tag = "files", operation_id = "read_path",
    params(
        SessionFilePath,
        ("Range" = Option<String>, Header, description = "One byte range, e.g. `bytes=0-99`"),
        ("If-None-Match" = Option<String>, Header, description = "`304` when the file's `ETag` is listed"),
    ),
    responses(
        (status = 200, description = "The file's bytes, or the directory's listing",
            headers(("ETag" = String, description = "The file's git blob id, quoted")),
            content(
                (Vec<u8> = "application/octet-stream"),
                (DirectoryListing = "application/json"),
            )),
        (status = 206, description = "The range asked for", body = Vec<u8>, content_type = "application/octet-stream",
            headers(("Content-Range" = String, description = "`bytes <start>-<end>/<size>`"))),
        (status = 304, description = "The file is unchanged (`If-None-Match`)"),
        (status = 400, description = "A malformed session id or a path that leaves the workspace", body = ErrorBody),
        (status = 404, description = "No such session or file", body = ErrorBody),
        (status = 416, description = "The range is outside the file",
            headers(("Content-Range" = String, description = "`bytes */<size>`"))),
    ))]
pub async fn get(
    State(state): State<Arc<AppState>>,
    Path(SessionFilePath { id: raw_id, path }): Path<SessionFilePath>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = session_id(&raw_id)?;
    match state.service.read_path(&id, &path).await? {
        PathView::Directory { path, entries } => {
            let entries = entries
                .iter()
                .map(|e| DirEntryJson {
                    name: e.path.rsplit('/').next().unwrap_or_default().to_string(),
                    kind: match e.kind {
                        EntryKind::File => EntryKindJson::File,
                        EntryKind::Directory => EntryKindJson::Directory,
                    },
                    size: e.size,
                    mtime_ms: e.mtime_ms,
                })
                .collect();
            Ok(Json(DirectoryListing { path, entries }).into_response())
        }
        PathView::File {
            contents,
            blob_id,
            mtime_ms,
        } => Ok(file_response(&path, contents, blob_id, mtime_ms, &headers)),
    }
}

/// A file's bytes, whole or the one range asked for.
pub(super) fn file_response(
    path: &str,
    contents: Vec<u8>,
    blob_id: ObjectId,
    mtime_ms: u64,
    request: &HeaderMap,
) -> Response {
    let etag = etag(blob_id);
    let mut headers = HeaderMap::new();
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    headers.insert(header::CONTENT_TYPE, header_value(mime.essence_str()));
    headers.insert(header::ETAG, header_value(&etag));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let modified = std::time::UNIX_EPOCH + std::time::Duration::from_millis(mtime_ms);
    headers.insert(header::LAST_MODIFIED, header_value(&httpdate::fmt_http_date(modified)));
    if let Some(tags) = request.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok())
        && tag_list_matches(tags, blob_id)
    {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    let Some(range) = request.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return (headers, contents).into_response();
    };
    let size = contents.len() as u64;
    match http_range_header::parse_range_header(range).and_then(|r| r.validate(size)) {
        // One range: that slice. Several (or none usable): the whole file, as RFC 9110 allows.
        Ok(ranges) if ranges.len() == 1 => {
            let (start, end) = (*ranges[0].start(), *ranges[0].end());
            headers.insert(
                header::CONTENT_RANGE,
                header_value(&format!("bytes {start}-{end}/{size}")),
            );
            let slice = contents[start as usize..=end as usize].to_vec();
            (StatusCode::PARTIAL_CONTENT, headers, slice).into_response()
        }
        Ok(_) => (headers, contents).into_response(),
        Err(_) => {
            headers.insert(header::CONTENT_RANGE, header_value(&format!("bytes */{size}")));
            (StatusCode::RANGE_NOT_SATISFIABLE, headers).into_response()
        }
    }
}

/// A header value from text we built (ASCII by construction).
fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

/// The entity tag of a blob: its id, quoted.
fn etag(blob_id: ObjectId) -> String {
    format!("\"{blob_id}\"")
}

/// Whether a list of entity tags (`"a", W/"b"` or `*`) names `blob_id`.
fn tag_list_matches(tags: &str, blob_id: ObjectId) -> bool {
    tags.trim() == "*" || parse_tags(tags).contains(&blob_id)
}

/// The blob ids of a list of entity tags; tags that are not blob ids match nothing.
fn parse_tags(tags: &str) -> Vec<ObjectId> {
    tags.split(',')
        .filter_map(|tag| {
            let tag = tag.trim();
            let tag = tag.strip_prefix("W/").unwrap_or(tag);
            ObjectId::from_hex(tag.trim_matches('"').as_bytes()).ok()
        })
        .collect()
}

/// The condition `If-Match` / `If-None-Match` put on a write.
fn write_condition(headers: &HeaderMap) -> Result<WriteCondition, ApiError> {
    let text = |name: header::HeaderName| {
        headers
            .get(&name)
            .map(|v: &HeaderValue| {
                v.to_str()
                    .map_err(|_| ApiError::bad_request(format!("{name} must be ASCII")))
            })
            .transpose()
    };
    match (text(header::IF_MATCH)?, text(header::IF_NONE_MATCH)?) {
        (Some(_), Some(_)) => Err(ApiError::bad_request("give If-Match or If-None-Match, not both")),
        (Some(tags), None) if tags.trim() == "*" => Ok(WriteCondition::Exists),
        (Some(tags), None) => Ok(WriteCondition::Matches(parse_tags(tags))),
        (None, Some(tags)) if tags.trim() == "*" => Ok(WriteCondition::Absent),
        (None, Some(_)) => Err(ApiError::bad_request(
            "on a write, If-None-Match takes only '*' (create only)",
        )),
        (None, None) => Ok(WriteCondition::Always),
    }
}

/// Write a file
///
/// Creates or replaces a file with the body's bytes, creating its parents, through the same
/// rules and quotas as the agent's `write` tool. Waits for a running chat to finish.
/// `If-Match` / `If-None-Match: *` make it conditional.
#[utoipa::path(put, path = "/session/{id}/files/{*path}", tag = "files", operation_id = "write_file",
    params(
        SessionFilePath,
        ("If-Match" = Option<String>, Header, description = "Write only if the file's `ETag` is listed (`*`: if it exists)"),
        ("If-None-Match" = Option<String>, Header, description = "`*`: create only"),
    ),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file's bytes"),
    responses(
        (status = 201, description = "Created", body = FileCreated,
            headers(("ETag" = String, description = "The file's git blob id, quoted"))),
        (status = 204, description = "Replaced",
            headers(("ETag" = String, description = "The file's git blob id, quoted"))),
        (status = 400, description = "A path that leaves the workspace, or malformed conditions", body = ErrorBody),
        (status = 404, description = "No such session", body = ErrorBody),
        (status = 409, description = "A directory is in the way, or a file where a directory is needed", body = ErrorBody),
        (status = 412, description = "The `If-Match` / `If-None-Match` condition does not hold", body = ErrorBody),
        (status = 413, description = "Larger than `--max-file-bytes` or `--max-upload-bytes`, or past the workspace quotas", body = ErrorBody),
    ))]
pub async fn put(
    State(state): State<Arc<AppState>>,
    Path(SessionFilePath { id: raw_id, path }): Path<SessionFilePath>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = session_id(&raw_id)?;
    let condition = write_condition(&headers)?;
    let contents = body_bytes(body)?;
    let written = state.service.write_file(&id, &path, contents, condition).await?;
    let etag = [(header::ETAG, etag(written.blob_id))];
    Ok(if written.created {
        (
            StatusCode::CREATED,
            etag,
            Json(FileCreated {
                etag: written.blob_id.to_string(),
            }),
        )
            .into_response()
    } else {
        (StatusCode::NO_CONTENT, etag).into_response()
    })
}

/// Delete a file or directory
///
/// Removes a file, or a directory with `?recursive=true`. Waits for a running chat to finish.
#[utoipa::path(delete, path = "/session/{id}/files/{*path}", tag = "files", operation_id = "delete_path",
    params(SessionFilePath, DeleteQuery),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "A path that leaves the workspace", body = ErrorBody),
        (status = 404, description = "No such session or path", body = ErrorBody),
        (status = 409, description = "A non-empty directory without `?recursive=true`", body = ErrorBody),
    ))]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Path(SessionFilePath { id: raw_id, path }): Path<SessionFilePath>,
    Query(query): Query<DeleteQuery>,
) -> Result<StatusCode, ApiError> {
    let id = session_id(&raw_id)?;
    state.service.remove_path(&id, &path, query.recursive).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_tags_parse_quoted_weak_and_bare_ids() {
        let id = ObjectId::from_hex(b"e69de29bb2d1d6434b8b29ae775ad8c2e48c5391").unwrap();
        for list in [
            "\"e69de29bb2d1d6434b8b29ae775ad8c2e48c5391\"",
            "W/\"e69de29bb2d1d6434b8b29ae775ad8c2e48c5391\"",
            "\"nope\", e69de29bb2d1d6434b8b29ae775ad8c2e48c5391",
            "*",
        ] {
            assert!(tag_list_matches(list, id), "{list}");
        }
        assert!(!tag_list_matches("\"0000000000000000000000000000000000000000\"", id));
        assert!(!tag_list_matches("", id));
    }
}

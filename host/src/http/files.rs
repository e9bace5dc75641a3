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
use serde::Deserialize;
use serde_json::json;

use super::routes::{body_bytes, session_id};
use super::{ApiError, AppState};
use crate::service::{PathView, WriteCondition};
use crate::storage::EntryKind;

/// `GET /session/:id/files`: the root directory's listing.
pub async fn get_root(
    state: State<Arc<AppState>>,
    Path(raw_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    get(state, Path((raw_id, String::new())), headers).await
}

/// `GET /session/:id/files/{*path}`: a file's bytes (with `Range` and `If-None-Match`), or a
/// directory's listing as `{"path", "entries": [{"name", "kind", "size", "mtimeMs"}]}`.
pub async fn get(
    State(state): State<Arc<AppState>>,
    Path((raw_id, path)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = session_id(&raw_id)?;
    match state.service.read_path(&id, &path).await? {
        PathView::Directory { path, entries } => {
            let entries: Vec<_> = entries
                .iter()
                .map(|e| {
                    json!({
                        "name": e.path.rsplit('/').next().unwrap_or_default(),
                        "kind": match e.kind {
                            EntryKind::File => "file",
                            EntryKind::Directory => "directory",
                        },
                        "size": e.size,
                        "mtimeMs": e.mtime_ms,
                    })
                })
                .collect();
            Ok(Json(json!({ "path": path, "entries": entries })).into_response())
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

/// `PUT /session/:id/files/{*path}`: creates (`201`) or replaces (`204`) a file with the body's
/// bytes, creating its parents; `If-Match` / `If-None-Match: *` make it conditional (`412`).
pub async fn put(
    State(state): State<Arc<AppState>>,
    Path((raw_id, path)): Path<(String, String)>,
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
            Json(json!({ "etag": written.blob_id.to_string() })),
        )
            .into_response()
    } else {
        (StatusCode::NO_CONTENT, etag).into_response()
    })
}

/// The query of `DELETE /session/:id/files/{*path}`.
#[derive(Deserialize)]
pub struct DeleteQuery {
    /// Remove a directory with its contents.
    #[serde(default)]
    recursive: bool,
}

/// `DELETE /session/:id/files/{*path}[?recursive=true]`: removes a file or a directory (`409`
/// when a directory has entries and `recursive` is not given).
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Path((raw_id, path)): Path<(String, String)>,
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

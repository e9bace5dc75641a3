//! The web app: `GET /` and `GET /web/{*path}` serve the files of `host/web/` (plain ES modules,
//! CSS and vendored libraries; no build step), embedded in the binary with `rust-embed` (a debug
//! build reads them from disk, so they can be edited without rebuilding). They load without a
//! token: the app asks for one when the API answers 401. Responses carry the file's hash as
//! `ETag` with `Cache-Control: no-cache` (a reload costs a 304), and are gzipped when the browser
//! accepts it.

use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mime_guess::mime;
use rust_embed::RustEmbed;
use std::borrow::Cow;
use tower_http::compression::CompressionLayer;

use super::ApiError;

/// The files of the web app.
#[derive(RustEmbed)]
#[folder = "web/"]
struct WebAssets;

/// The path prefix the assets are served under.
pub const ASSET_PREFIX: &str = "/web/";

/// Whether `path` is part of the web app (served without a token).
pub fn is_web_path(path: &str) -> bool {
    path == "/" || path.starts_with(ASSET_PREFIX)
}

/// The web app's responses are gzipped when the browser accepts it.
pub fn compression() -> CompressionLayer {
    CompressionLayer::new().gzip(true).no_br().no_deflate().no_zstd()
}

/// What the page may load: only its own files and the API.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'";

/// `GET /`: the app's page.
pub async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

/// `GET /web/{*path}`: one of the app's files.
pub async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    serve(&path, &headers)
}

/// The embedded file at `path`, or 404; 304 when the browser's copy is current.
fn serve(path: &str, request: &HeaderMap) -> Response {
    let Some(file) = WebAssets::get(path) else {
        return ApiError::new(StatusCode::NOT_FOUND, format!("no web asset '{path}'")).into_response();
    };
    let hash: String = file.metadata.sha256_hash()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let etag = format!("\"{hash}\"");
    let mut headers = HeaderMap::new();
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let textual = mime.type_() == mime::TEXT || mime.subtype() == mime::JAVASCRIPT || mime.subtype() == mime::JSON;
    let content_type = match textual {
        true => format!("{}; charset=utf-8", mime.essence_str()),
        false => mime.essence_str().to_string(),
    };
    let value = |text: &str| HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
    headers.insert(header::CONTENT_TYPE, value(&content_type));
    headers.insert(header::ETAG, value(&etag));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    let cached = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim().trim_start_matches("W/") == etag));
    if cached {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    let body = match file.data {
        Cow::Borrowed(bytes) => Body::from(bytes),
        Cow::Owned(bytes) => Body::from(bytes),
    };
    (headers, body).into_response()
}

//! `GET /docs`: the API reference, rendered in the browser by Redoc from `/openapi.json`. Redoc's
//! standalone bundle (MIT, vendored from npm's `redoc` package in `host/assets/docs/`) is
//! embedded in the binary and served at [`SCRIPT_PATH`], so the page works offline.

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

/// Where the page loads Redoc from.
pub const SCRIPT_PATH: &str = "/docs/redoc.standalone.js";

/// Redoc 2.5.4's standalone bundle.
const REDOC_JS: &[u8] = include_bytes!("../../assets/docs/redoc.standalone.js");

/// The page: relative URLs, so it also works behind a proxy that mounts the API under a prefix.
const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pi-worker API reference</title>
<style>body { margin: 0; }</style>
</head>
<body>
<redoc spec-url="openapi.json"></redoc>
<script src="docs/redoc.standalone.js"></script>
</body>
</html>
"#;

/// API reference
///
/// This API's reference as an HTML page, rendered from `/openapi.json` by an embedded copy of
/// Redoc (no external resources). Needs no token.
#[utoipa::path(get, path = "/docs", tag = "server", operation_id = "api_reference",
    responses((status = 200, description = "The page", body = String, content_type = "text/html")))]
pub async fn page() -> Html<&'static str> {
    Html(PAGE)
}

/// Redoc's script, for [`page`].
pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        REDOC_JS,
    )
        .into_response()
}

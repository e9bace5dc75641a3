//! `GET /metrics`, and the middleware that counts every request by route and status.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::api_types::ErrorBody;
use super::{ApiError, AppState};
use crate::telemetry;

/// The middleware: counts the request under its route pattern (`/session/{id}/chat`, never the
/// raw path) once its response head is ready; `unmatched` when no route matched.
pub async fn count_requests(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_string();
    let method = match *request.method() {
        Method::GET | Method::HEAD | Method::POST | Method::PUT | Method::DELETE | Method::PATCH | Method::OPTIONS => {
            request.method().as_str().to_string()
        }
        _ => "other".to_string(),
    };
    let response = next.run(request).await;
    telemetry::http_request(&method, &route, response.status().as_u16(), started.elapsed());
    response
}

/// `GET /metrics`: every series in Prometheus' text format, the gauges read as of now.
#[utoipa::path(get, path = "/metrics", tag = "server",
    responses(
        (status = 200, description = "Every series in Prometheus' text exposition format (see README's \"Metrics and logs\")",
         body = String, content_type = "text/plain; version=0.0.4"),
        (status = 404, description = "The process records its metrics with another recorder (an embedder's)", body = ErrorBody),
    ))]
pub async fn metrics(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let Some(handle) = &state.metrics else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "this process records its metrics with another recorder",
        ));
    };
    let load = state.service.load();
    telemetry::chats_now(load.in_flight, load.queued);
    telemetry::sessions_now(state.service.session_count().await?);
    let body = handle.render();
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        body,
    )
        .into_response())
}

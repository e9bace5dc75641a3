//! Access control. With a token configured (`PI_WORKER_TOKEN`, `--tokens-file`), every route but
//! the [public](PUBLIC_PATHS) ones needs `Authorization: Bearer <token>` and answers 401 otherwise. The token names the
//! request's [`Tenant`], put in the request's extensions for handlers; a session owned by another
//! tenant answers 404 on every route, exactly like one that does not exist.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::routes::session_id;
use super::{ApiError, AppState};
use crate::service::ServiceError;
use crate::tenants::Tenant;

/// The routes anyone may call: liveness, and the API's description (it holds no data).
pub const PUBLIC_PATHS: &[&str] = &["/health", "/openapi.json", "/docs", super::docs::SCRIPT_PATH];

/// Whether `path` needs no token: a [public](PUBLIC_PATHS) route, or the web app's files (the
/// app asks for the token when the API answers 401).
pub fn is_public(path: &str) -> bool {
    PUBLIC_PATHS.contains(&path) || super::web::is_web_path(path)
}

/// The session id a path names (`/session/<id>` or `/session/<id>/…`), as written.
fn session_segment(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/session/")?;
    let segment = rest.split('/').next().unwrap_or(rest);
    (path != "/session/new").then_some(segment)
}

/// The middleware.
pub async fn authenticate(State(state): State<Arc<AppState>>, mut request: Request, next: Next) -> Response {
    if is_public(request.uri().path()) {
        return next.run(request).await;
    }
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(tenant) = state.tokens.tenant(given) else {
        let mut response = ApiError::new(StatusCode::UNAUTHORIZED, "missing or wrong bearer token").into_response();
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        return response;
    };
    if let Some(segment) = session_segment(request.uri().path()) {
        // Ids never need escaping: an escaped one could name a session past this check.
        let id = match session_id(segment) {
            Ok(id) => id,
            Err(e) => return e.into_response(),
        };
        match state.service.owner_of(&id).await {
            Ok(Some(owner)) if owner != tenant => {
                return ApiError::from(ServiceError::NotFound(id)).into_response();
            }
            Ok(_) => {}
            Err(e) => return ApiError::from(e).into_response(),
        }
    }
    request.extensions_mut().insert::<Tenant>(tenant);
    next.run(request).await
}

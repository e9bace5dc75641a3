//! The HTTP API (the seed's contract, kept): routes, JSON errors and server-sent events. No
//! session logic lives here: every handler is an adapter over [`ChatService`].

mod auth;
mod error;
mod git_export;
mod import;
mod routes;
mod sse;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use self::error::ApiError;
use crate::config::ServerConfig;
use crate::service::ChatService;

/// What every request handler shares.
pub struct AppState {
    /// The sessions and their chats.
    pub service: Arc<ChatService>,
    /// The server's configuration (reported by `info`, and the body limit).
    pub config: ServerConfig,
}

/// The router of the whole API.
pub fn router(state: Arc<AppState>) -> Router {
    let max_body = state.config.max_body_bytes;
    Router::new()
        .route("/health", get(routes::health))
        .route("/session/new", post(routes::new_session))
        .route("/session/{id}/chat", post(routes::chat))
        .route("/session/{id}/info", get(routes::info))
        .route("/session/{id}/messages", get(routes::messages))
        .route("/session/{id}/git/{*path}", get(git_export::dumb_http))
        .route("/session/{id}/archive.tar", get(git_export::archive))
        .fallback(routes::not_found)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::require_token))
        .with_state(state)
}

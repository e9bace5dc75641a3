//! The HTTP API (the seed's contract, kept): routes, JSON errors and server-sent events.

mod auth;
mod error;
mod git_export;
mod routes;
mod sse;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tokio::sync::Semaphore;

pub use self::error::ApiError;
use crate::config::ServerConfig;
use crate::engine::AgentEngine;
use crate::llm::Providers;
use crate::sessions::SessionStore;

/// What every request handler shares.
pub struct AppState {
    /// The sessions on disk.
    pub sessions: SessionStore,
    /// The compiled guest.
    pub engine: AgentEngine,
    /// Model providers.
    pub providers: Arc<Providers>,
    /// The server's configuration.
    pub config: ServerConfig,
    /// Bounds the chats running at once to the instance pool's size.
    pub chat_slots: Arc<Semaphore>,
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

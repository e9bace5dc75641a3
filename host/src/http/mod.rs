//! The HTTP API (the seed's contract, kept): routes, JSON errors and server-sent events. No
//! session logic lives here: every handler is an adapter over [`ChatService`].

mod auth;
mod disconnect;
mod drain;
mod error;
mod files;
mod git_export;
mod git_smart;
mod git_views;
mod import;
mod notify;
mod routes;
mod sse;
mod web;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::MethodRouter;
use axum::routing::{get, post};

pub use self::error::ApiError;
use crate::config::ServerConfig;
use crate::notify::Notifier;
use crate::service::ChatService;
use crate::tenants::Tokens;

/// What every request handler shares.
pub struct AppState {
    /// The sessions and their chats.
    pub service: Arc<ChatService>,
    /// The server's configuration (reported by `info`, and the body limit).
    pub config: ServerConfig,
    /// The bearer tokens and the tenants they name.
    pub tokens: Tokens,
    /// Sends chat-end notifications (`"notify"` on a chat).
    pub notifier: Arc<Notifier>,
}

/// The router of the whole API. JSON bodies are limited to `max_body_bytes`; raw uploads (a
/// file, an archive, a push) to `max_upload_bytes`, and a file also to the largest file size.
pub fn router(state: Arc<AppState>) -> Router {
    let config = &state.config;
    let max_file = usize::try_from(config.storage.max_file_bytes).unwrap_or(usize::MAX);
    let file_limit = DefaultBodyLimit::max(config.max_upload_bytes.min(max_file));
    let files: MethodRouter<Arc<AppState>> = get(files::get).put(files::put).delete(files::delete).layer(file_limit);
    Router::new()
        .route("/health", get(routes::health))
        .route("/sessions", get(routes::list_sessions))
        .route(
            "/session/new",
            post(routes::new_session).layer(DefaultBodyLimit::max(config.max_upload_bytes)),
        )
        .route("/session/{id}", axum::routing::delete(routes::delete_session))
        .route("/session/{id}/chat", post(routes::chat))
        .route("/session/{id}/abort", post(routes::abort))
        .route("/session/{id}/events", get(routes::events))
        .route("/session/{id}/info", get(routes::info))
        .route("/session/{id}/messages", get(routes::messages))
        .route("/session/{id}/checkpoints", get(routes::checkpoints))
        .route("/session/{id}/revert", post(routes::revert))
        .route("/session/{id}/fork", post(routes::fork))
        .route("/session/{id}/files", get(files::get_root))
        .route("/session/{id}/files/", get(files::get_root))
        .route("/session/{id}/files/{*path}", files)
        .route("/session/{id}/git/{*path}", get(git_export::dumb_http))
        .route("/session/{id}/git/git-upload-pack", post(git_smart::upload_pack))
        .route(
            "/session/{id}/git/git-receive-pack",
            post(git_smart::receive_pack).layer(DefaultBodyLimit::max(config.max_upload_bytes)),
        )
        .route("/session/{id}/archive.tar", get(git_export::archive_tar))
        .route("/session/{id}/archive.tar.gz", get(git_export::archive_tar_gz))
        .route("/models", get(git_views::models))
        .route("/session/{id}/diff", get(git_views::worktree_diff))
        .route("/session/{id}/log", get(git_views::log))
        .route("/session/{id}/log/{*rev}", get(git_views::show))
        .route(
            "/session/{id}/checkpoints/{seq}/files",
            get(git_views::checkpoint_files),
        )
        .route(
            "/session/{id}/checkpoints/{seq}/files/{*path}",
            get(git_views::checkpoint_file),
        )
        .merge(web::router())
        .fallback(routes::not_found)
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .layer(axum::middleware::from_fn(drain::drain_unread_bodies))
        .with_state(state)
}

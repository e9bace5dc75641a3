//! The HTTP API (the seed's contract, kept): routes, JSON errors and server-sent events. No
//! session logic lives here: every handler is an adapter over [`ChatService`].

mod agents;
mod api_types;
mod auth;
mod conversation;
mod disconnect;
mod docs;
mod drain;
mod error;
mod files;
mod git_export;
mod git_smart;
mod git_views;
mod import;
mod notify;
mod observe;
mod openapi;
mod routes;
mod sse;
mod stream_events;
mod web;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::{Extension, Router};
use utoipa_axum::router::UtoipaMethodRouterExt as _;
use utoipa_axum::routes;

pub use self::error::ApiError;
use metrics_exporter_prometheus::PrometheusHandle;

pub use self::openapi::{ApiDocument, ApiRoutes};
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
    /// Renders `GET /metrics`; `None` when the process records metrics elsewhere.
    pub metrics: Option<PrometheusHandle>,
}

/// Every route of the API: the one place to add one. A route given with `routes!` is in the
/// router and in the OpenAPI document (`GET /openapi.json`) at once, described by its handlers'
/// `#[utoipa::path]`; `undocumented` is for static routes the document leaves out, with the
/// reason. JSON bodies are limited to `max_body_bytes`; raw uploads (a file, an archive, a push)
/// to `max_upload_bytes`, and a file also to the largest file size.
pub fn api_routes(config: &ServerConfig) -> ApiRoutes<Arc<AppState>> {
    let max_file = usize::try_from(config.storage.max_file_bytes).unwrap_or(usize::MAX);
    let file_limit = DefaultBodyLimit::max(config.max_upload_bytes.min(max_file));
    let upload_limit = DefaultBodyLimit::max(config.max_upload_bytes);
    ApiRoutes::default()
        .documented(routes!(routes::health))
        .documented(routes!(observe::metrics))
        .documented(routes!(openapi::openapi_json))
        .documented(routes!(docs::page))
        .undocumented(docs::SCRIPT_PATH, get(docs::script), "the script of /docs")
        .documented(routes!(routes::list_sessions))
        .documented(routes!(routes::new_session).layer(upload_limit))
        .documented(routes!(routes::delete_session))
        .documented(routes!(routes::chat))
        .documented(routes!(routes::abort))
        .documented(routes!(routes::events))
        .documented(routes!(routes::info))
        .documented(routes!(conversation::messages))
        .documented(routes!(conversation::checkpoints))
        .documented(routes!(conversation::revert))
        .documented(routes!(conversation::fork))
        .documented(routes!(files::get_root))
        .undocumented(
            "/session/{id}/files/",
            get(files::get_root),
            "the same as /session/{id}/files",
        )
        .documented(routes!(files::get, files::put, files::delete).layer(file_limit))
        .documented(routes!(git_export::info_refs))
        .documented(routes!(git_export::dumb_http))
        .documented(routes!(git_smart::upload_pack))
        .documented(routes!(git_smart::receive_pack).layer(upload_limit))
        .documented(routes!(git_export::archive_tar))
        .documented(routes!(git_export::archive_tar_gz))
        .documented(routes!(git_views::worktree_diff))
        .documented(routes!(git_views::log))
        .documented(routes!(git_views::show))
        .documented(routes!(git_views::checkpoint_files))
        .documented(routes!(git_views::checkpoint_file))
        .documented(routes!(git_views::models))
        .documented(routes!(agents::agents))
        .undocumented("/", get(web::index).layer(web::compression()), "the web app's page")
        .undocumented(
            "/web/{*path}",
            get(web::asset).layer(web::compression()),
            "the web app's files",
        )
}

/// The router of the whole API: [`api_routes`], with the document, the fallback, the default
/// body limit, authentication and the draining of unread bodies.
pub fn router(state: Arc<AppState>) -> Router {
    let (routes, document) = api_routes(&state.config).finish();
    routes
        .fallback(routes::not_found)
        .layer(Extension(document))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .layer(axum::middleware::from_fn(drain::drain_unread_bodies))
        .layer(axum::middleware::from_fn(observe::count_requests))
        .with_state(state)
}

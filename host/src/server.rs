//! Starting and stopping the server.

use std::sync::Arc;

use anyhow::Context as _;
use tokio::net::TcpListener;

use crate::agents::Agents;
use crate::config::ServerConfig;
use crate::http::{self, AppState};
use crate::llm::ProviderRegistry;
use crate::notify::Notifier;
use crate::program::Programs;
use crate::service::ChatService;
use crate::sessions::SessionStore;
use crate::tenants::Tokens;

/// Builds the server's shared state: sessions, providers and the compiled guest.
pub fn build_state(config: ServerConfig) -> anyhow::Result<AppState> {
    let programs = Programs::new(&config.data_dir.join("programs")).with(&config.programs)?;
    let agents = Agents::load(
        &config.guests,
        &config.cache_dir,
        &programs,
        config.chat.max_memory_bytes,
    )?;
    let sessions = SessionStore::new(config.data_dir.clone(), config.storage)
        .with_context(|| format!("cannot use data directory {}", config.data_dir.display()))?;
    let providers = Arc::new(ProviderRegistry::from_config(&config.llm)?);
    if !providers.any_configured() {
        tracing::warn!(
            "no model provider is configured (ANTHROPIC_API_KEY, OPENAI_API_KEY or OPENAI_BASE_URL): chats will answer with an error"
        );
    }
    let service = ChatService::new(sessions, agents, providers, config.chat, config.max_concurrent_chats);
    service
        .reconcile()
        .context("cannot bring the session listing up to date")?;
    let tokens = Tokens::new(config.token.clone(), config.tokens_file.clone())?;
    let notifier = Arc::new(Notifier::new(
        config.notify_secret.as_deref(),
        config.import.allow.clone(),
    ));
    Ok(AppState {
        metrics: crate::telemetry::prometheus(),
        service: Arc::new(service),
        config,
        tokens,
        notifier,
    })
}

/// Serves the API until SIGINT or SIGTERM; in-flight requests finish first.
pub async fn serve(config: ServerConfig) -> anyhow::Result<()> {
    let addr = config.addr;
    let state = Arc::new(tokio::task::block_in_place(|| build_state(config))?);
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    // The first line on stdout tells scripts (and the tests) where to connect.
    println!("pi-worker listening on http://{local}");
    tracing::info!(%local, "listening");
    axum::serve(listener, http::router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down");
}

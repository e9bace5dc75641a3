//! `GET /agents`: the agent components this server runs (`--guest NAME=PATH`), for a client to
//! offer when it creates a session (`POST /session/new {"agent"}`).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use crate::agents::DEFAULT_AGENT;

/// One agent the server runs.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentJson {
    /// Its name, as `POST /session/new` takes it.
    name: String,
    /// `sha256:<hex>` of its component: what a session created now records as `createdWith`.
    hash: String,
    /// The programs its `run` tool provides by name (`node`, and the operator's `--program`s).
    programs: Vec<String>,
}

/// `GET /agents`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentsJson {
    /// The agent of a session created without one.
    default_agent: &'static str,
    /// Every agent, by name.
    agents: Vec<AgentJson>,
}

/// The agents a session may run
///
/// The agent components this server runs, by name, with the hash a new session records and
/// the programs their `run` tool provides.
#[utoipa::path(get, path = "/agents", tag = "server",
    responses((status = 200, description = "The agents", body = AgentsJson)))]
pub async fn agents(State(state): State<Arc<AppState>>) -> Json<AgentsJson> {
    let agents = state
        .service
        .agents()
        .iter()
        .map(|agent| AgentJson {
            name: agent.name.clone(),
            hash: agent.hash.clone(),
            programs: agent
                .engine
                .programs()
                .builtins()
                .iter()
                .map(|program| program.name.clone())
                .collect(),
        })
        .collect();
    Json(AgentsJson {
        default_agent: DEFAULT_AGENT,
        agents,
    })
}

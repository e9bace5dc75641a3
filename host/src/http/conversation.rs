//! The conversation's routes: its record, its checkpoints, revert and fork.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::{Extension, Json};

use super::api_types::{
    CheckpointJson, CheckpointList, ErrorBody, FileChange, ForkBody, ForkReply, MessagesQuery, MessagesReply,
    RecordRow, RevertBody, RevertReply, SessionPath,
};
use super::routes::{json_body, session_id};
use super::{ApiError, AppState};
use crate::storage::FileChangeKind;
use crate::tenants::Tenant;

/// Read the conversation
///
/// The persisted record: every message with its `seq` and `createdAt` (a model's answer with
/// `promptTokens`), revert markers (`role: "revert"`) and compaction markers
/// (`role: "compaction"`). `?view=model` gives only what the model sees: the latest
/// compaction's summary, then the messages after it.
#[utoipa::path(get, path = "/session/{id}/messages", tag = "conversation",
    params(SessionPath, MessagesQuery),
    responses(
        (status = 200, description = "The record", body = MessagesReply),
        (status = 400, description = "A malformed session id or an unknown view", body = ErrorBody),
        (status = 404, description = "No such session", body = ErrorBody),
    ))]
pub async fn messages(
    State(state): State<Arc<AppState>>,
    Path(SessionPath { id: raw_id }): Path<SessionPath>,
    Query(query): Query<MessagesQuery>,
) -> Result<Json<MessagesReply>, ApiError> {
    let id = session_id(&raw_id)?;
    let model_view = match query.view.as_deref() {
        None | Some("record") => false,
        Some("model") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "unknown view '{other}': use 'model' or 'record'"
            )));
        }
    };
    let rows = state.service.messages(&id, model_view).await?;
    Ok(Json(MessagesReply {
        session_id: id.as_str().to_string(),
        messages: rows.iter().map(RecordRow::from).collect(),
    }))
}

/// A checkpoint's changes in a line: `2 files changed: M src/a.ts, A b.md` (at most ten named).
fn checkpoint_summary(changes: &[(FileChangeKind, String)]) -> String {
    const NAMED: usize = 10;
    if changes.is_empty() {
        return "no files changed".into();
    }
    let named: Vec<String> = changes
        .iter()
        .take(NAMED)
        .map(|(kind, path)| format!("{} {path}", kind.letter()))
        .collect();
    let more = match changes.len().saturating_sub(NAMED) {
        0 => String::new(),
        n => format!(", and {n} more"),
    };
    let plural = if changes.len() == 1 { "" } else { "s" };
    format!("{} file{plural} changed: {}{more}", changes.len(), named.join(", "))
}

/// List checkpoints
///
/// The working tree after each agent turn (and at each chat's start), with the files each
/// changed. Revert to one with `POST /session/{id}/revert`.
#[utoipa::path(get, path = "/session/{id}/checkpoints", tag = "conversation",
    params(SessionPath),
    responses(
        (status = 200, description = "The checkpoints", body = CheckpointList),
        (status = 400, description = "A malformed session id", body = ErrorBody),
        (status = 404, description = "No such session", body = ErrorBody),
    ))]
pub async fn checkpoints(
    State(state): State<Arc<AppState>>,
    Path(SessionPath { id: raw_id }): Path<SessionPath>,
) -> Result<Json<CheckpointList>, ApiError> {
    let id = session_id(&raw_id)?;
    let checkpoints = state
        .service
        .checkpoints(&id)
        .await?
        .iter()
        .map(|c| CheckpointJson {
            seq: c.seq,
            created_at: c.created_ms,
            summary: checkpoint_summary(&c.changes),
            changes: c
                .changes
                .iter()
                .map(|(kind, path)| FileChange {
                    change: (*kind).into(),
                    path: path.clone(),
                })
                .collect(),
        })
        .collect();
    Ok(Json(CheckpointList {
        session_id: id.as_str().to_string(),
        checkpoints,
    }))
}

/// Revert
///
/// Files and conversation back to how they stood after message `atMessage`, after any running
/// chat. The record stays append-only (a marker is appended) and git is left alone; revert to
/// the message before the marker to undo it.
#[utoipa::path(post, path = "/session/{id}/revert", tag = "conversation",
    params(SessionPath),
    request_body = RevertBody,
    responses(
        (status = 200, description = "Reverted", body = RevertReply),
        (status = 400, description = "Malformed body, or `atMessage` past the end of the record", body = ErrorBody),
        (status = 404, description = "No such session", body = ErrorBody),
    ))]
pub async fn revert(
    State(state): State<Arc<AppState>>,
    Path(SessionPath { id: raw_id }): Path<SessionPath>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<RevertReply>, ApiError> {
    let id = session_id(&raw_id)?;
    let RevertBody { at_message } = json_body(body)?;
    let reverted = state.service.revert(&id, at_message).await?;
    Ok(Json(RevertReply {
        at_message,
        marker: reverted.marker,
        checkpoint: reverted.checkpoint,
    }))
}

/// Fork
///
/// A new session with the same files, git state and conversation, copied from one snapshot
/// without waiting for a running chat. With `atMessage`, the copy's conversation is cut after
/// that message and its files are that checkpoint's.
#[utoipa::path(post, path = "/session/{id}/fork", tag = "conversation",
    params(SessionPath),
    request_body = ForkBody,
    responses(
        (status = 200, description = "The copy", body = ForkReply),
        (status = 400, description = "Malformed body, or `atMessage` past the end of the record", body = ErrorBody),
        (status = 404, description = "No such session", body = ErrorBody),
    ))]
pub async fn fork(
    State(state): State<Arc<AppState>>,
    Extension(tenant): Extension<Tenant>,
    Path(SessionPath { id: raw_id }): Path<SessionPath>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ForkReply>, ApiError> {
    let id = session_id(&raw_id)?;
    let ForkBody { at_message } = json_body(body)?;
    let forked = state.service.fork(&id, at_message, &tenant).await?;
    Ok(Json(ForkReply {
        session_id: forked.as_str().to_string(),
        forked_from: id.as_str().to_string(),
        at_message,
    }))
}

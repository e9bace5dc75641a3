//! Read-only JSON views for people (the web app): the working tree's diff against HEAD, the log
//! and one commit's diff, the files as they stood at a checkpoint, and the models a chat may
//! name. The semantics live in [`ChatService`](crate::service::ChatService); this module speaks
//! HTTP.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::files::file_response;
use super::routes::session_id;
use super::{ApiError, AppState};
use crate::git::{ChangeKind, CommitInfo, FileDiff, LineKind};

/// One changed file: `{"path", "change": "A"|"M"|"D", "binary", "hunks"}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileDiffJson {
    path: String,
    change: &'static str,
    binary: bool,
    hunks: Vec<HunkJson>,
}

/// A hunk: line numbers as in a unified diff, and its lines, each prefixed `' '`, `+` or `-`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HunkJson {
    old_start: u32,
    old_lines: u32,
    new_start: u32,
    new_lines: u32,
    lines: Vec<String>,
}

fn change_letter(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Added => "A",
        ChangeKind::Modified => "M",
        ChangeKind::Deleted => "D",
    }
}

fn diffs_json(diffs: Vec<FileDiff>) -> Vec<FileDiffJson> {
    diffs
        .into_iter()
        .map(|d| FileDiffJson {
            path: d.path,
            change: change_letter(d.kind),
            binary: d.binary,
            hunks: d
                .hunks
                .into_iter()
                .map(|h| HunkJson {
                    old_start: h.old_start,
                    old_lines: h.old_lines,
                    new_start: h.new_start,
                    new_lines: h.new_lines,
                    lines: h
                        .lines
                        .into_iter()
                        .map(|l| {
                            let sign = match l.kind {
                                LineKind::Context => ' ',
                                LineKind::Added => '+',
                                LineKind::Removed => '-',
                            };
                            format!("{sign}{}", l.text)
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect()
}

/// `GET /session/:id/diff`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorktreeDiffJson {
    branch: Option<String>,
    head: Option<String>,
    files: Vec<FileDiffJson>,
}

/// `GET /session/:id/diff`: the working tree against HEAD, untracked files as added.
pub async fn worktree_diff(
    State(state): State<Arc<AppState>>,
    Path(raw_id): Path<String>,
) -> Result<Json<WorktreeDiffJson>, ApiError> {
    let id = session_id(&raw_id)?;
    let diff = state.service.worktree_diff(&id).await?;
    Ok(Json(WorktreeDiffJson {
        branch: diff.branch,
        head: diff.head.map(|h| h.to_string()),
        files: diffs_json(diff.files),
    }))
}

/// A commit: `{"id", "parents", "authorName", "authorEmail", "time", "message"}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitJson {
    id: String,
    parents: Vec<String>,
    author_name: String,
    author_email: String,
    time: i64,
    message: String,
}

impl From<CommitInfo> for CommitJson {
    fn from(c: CommitInfo) -> Self {
        Self {
            id: c.id.to_string(),
            parents: c.parents.iter().map(ToString::to_string).collect(),
            author_name: c.author_name,
            author_email: c.author_email,
            time: c.time,
            message: c.message,
        }
    }
}

/// The query of `GET /session/:id/log`.
#[derive(Deserialize)]
pub struct LogQuery {
    /// Commits to list: 1 to [`MAX_LOG`], default [`DEFAULT_LOG`].
    limit: Option<usize>,
}

/// Commits `GET /session/:id/log` lists unless `?limit` says otherwise.
const DEFAULT_LOG: usize = 50;
/// The largest `?limit` of `GET /session/:id/log`.
const MAX_LOG: usize = 1000;

/// `GET /session/:id/log`.
#[derive(Serialize)]
pub struct LogJson {
    commits: Vec<CommitJson>,
}

/// `GET /session/:id/log[?limit=n]`: the commits reachable from HEAD, newest first.
pub async fn log(
    State(state): State<Arc<AppState>>,
    Path(raw_id): Path<String>,
    Query(query): Query<LogQuery>,
) -> Result<Json<LogJson>, ApiError> {
    let id = session_id(&raw_id)?;
    let limit = query.limit.unwrap_or(DEFAULT_LOG);
    if !(1..=MAX_LOG).contains(&limit) {
        return Err(ApiError::bad_request(format!("limit must be 1 to {MAX_LOG}")));
    }
    let commits = state.service.log(&id, limit).await?;
    Ok(Json(LogJson {
        commits: commits.into_iter().map(CommitJson::from).collect(),
    }))
}

/// `GET /session/:id/log/{rev}`.
#[derive(Serialize)]
pub struct ShowJson {
    commit: CommitJson,
    files: Vec<FileDiffJson>,
}

/// `GET /session/:id/log/{rev}`: one commit (an id, a branch or `HEAD`) and its diff against its
/// first parent.
pub async fn show(
    State(state): State<Arc<AppState>>,
    Path((raw_id, rev)): Path<(String, String)>,
) -> Result<Json<ShowJson>, ApiError> {
    let id = session_id(&raw_id)?;
    let (commit, diffs) = state.service.show_commit(&id, rev).await?;
    Ok(Json(ShowJson {
        commit: commit.into(),
        files: diffs_json(diffs),
    }))
}

/// One file of a checkpoint: `{"path", "blobId"}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointFileJson {
    path: String,
    blob_id: String,
}

/// `GET /session/:id/checkpoints/{seq}/files`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointFilesJson {
    seq: u64,
    created_at: u64,
    files: Vec<CheckpointFileJson>,
}

/// `GET /session/:id/checkpoints/{seq}/files`: every file of the latest checkpoint at or before
/// message `seq`, sorted by path.
pub async fn checkpoint_files(
    State(state): State<Arc<AppState>>,
    Path((raw_id, seq)): Path<(String, u64)>,
) -> Result<Json<CheckpointFilesJson>, ApiError> {
    let id = session_id(&raw_id)?;
    let checkpoint = state.service.checkpoint_files(&id, seq).await?;
    Ok(Json(CheckpointFilesJson {
        seq: checkpoint.seq,
        created_at: checkpoint.created_ms,
        files: checkpoint
            .files
            .into_iter()
            .map(|(path, file)| CheckpointFileJson {
                path,
                blob_id: file.id.to_string(),
            })
            .collect(),
    }))
}

/// `GET /session/:id/checkpoints/{seq}/files/{*path}`: a file's bytes as they stood at that
/// checkpoint, with its blob id as `ETag` (and `Range`, `If-None-Match` as on the file API).
pub async fn checkpoint_file(
    State(state): State<Arc<AppState>>,
    Path((raw_id, seq, path)): Path<(String, u64, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = session_id(&raw_id)?;
    let (blob_id, contents, created_ms) = state.service.checkpoint_file(&id, seq, &path).await?;
    Ok(file_response(&path, contents, blob_id, created_ms, &headers))
}

/// A provider prefix: `{"prefix", "configured", "unprefixed"}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderJson {
    prefix: String,
    configured: bool,
    unprefixed: bool,
}

/// `GET /models`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelsJson {
    default_model: String,
    models: Vec<String>,
    providers: Vec<ProviderJson>,
}

/// `GET /models`: the default model, the models the operator named, and the provider prefixes
/// (a chat may name any `<prefix>/<model>` of a configured one).
pub async fn models(State(state): State<Arc<AppState>>) -> Json<ModelsJson> {
    let providers = state.service.providers();
    Json(ModelsJson {
        default_model: providers.default_model().to_string(),
        models: providers.named_models(),
        providers: providers
            .providers()
            .into_iter()
            .map(|p| ProviderJson {
                prefix: p.prefix,
                configured: p.configured,
                unprefixed: p.unprefixed,
            })
            .collect(),
    })
}

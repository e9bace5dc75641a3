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
use utoipa::ToSchema;

use super::api_types::{ErrorBody, SessionPath};
use super::files::file_response;
use super::routes::session_id;
use super::{ApiError, AppState};
use crate::git::{ChangeKind, CommitInfo, FileDiff, LineKind};

/// One changed file: `{"path", "change": "A"|"M"|"D", "binary", "hunks"}`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileDiffJson {
    /// The file's path, relative to the repository's root.
    path: String,
    /// `A` added, `M` modified, `D` deleted.
    #[schema(pattern = "^[AMD]$")]
    change: &'static str,
    /// Either side is binary: no hunks.
    binary: bool,
    /// The changed lines with their context.
    hunks: Vec<HunkJson>,
}

/// A hunk: line numbers as in a unified diff, and its lines, each prefixed `' '`, `+` or `-`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HunkJson {
    /// First line in the old file (1-based; 0 when it had none).
    old_start: u32,
    /// Lines of the old file the hunk covers.
    old_lines: u32,
    /// First line in the new file.
    new_start: u32,
    /// Lines of the new file the hunk covers.
    new_lines: u32,
    /// The lines, each prefixed with ` ` (context), `+` or `-`.
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
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorktreeDiffJson {
    /// The checked-out branch (`null`: a detached HEAD).
    branch: Option<String>,
    /// HEAD's commit id (`null`: no commits yet).
    head: Option<String>,
    /// Every file that differs, untracked ones as added.
    files: Vec<FileDiffJson>,
}

/// The working tree's changes
///
/// The working tree against HEAD, untracked files as added, per file with its hunks.
#[utoipa::path(get, path = "/session/{id}/diff", tag = "git",
    params(SessionPath),
    responses(
        (status = 200, description = "The diff", body = WorktreeDiffJson),
        (status = 400, description = "A malformed session id", body = ErrorBody),
        (status = 404, description = "No such session", body = ErrorBody),
    ))]
pub async fn worktree_diff(
    State(state): State<Arc<AppState>>,
    Path(SessionPath { id: raw_id }): Path<SessionPath>,
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
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommitJson {
    /// The commit's id.
    id: String,
    /// Its parents' ids.
    parents: Vec<String>,
    /// Who wrote it.
    author_name: String,
    /// The author's email address.
    author_email: String,
    /// When, in seconds since the Unix epoch.
    time: i64,
    /// The commit message.
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
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// Commits to list: 1 to [`MAX_LOG`], default [`DEFAULT_LOG`].
    limit: Option<usize>,
}

/// Commits `GET /session/:id/log` lists unless `?limit` says otherwise.
const DEFAULT_LOG: usize = 50;
/// The largest `?limit` of `GET /session/:id/log`.
const MAX_LOG: usize = 1000;

/// `GET /session/:id/log`.
#[derive(Serialize, ToSchema)]
pub struct LogJson {
    /// Newest first.
    commits: Vec<CommitJson>,
}

/// The commit log
///
/// The commits reachable from HEAD, newest first.
#[utoipa::path(get, path = "/session/{id}/log", tag = "git",
    params(SessionPath, LogQuery),
    responses(
        (status = 200, description = "The commits", body = LogJson),
        (status = 400, description = "A malformed session id, or `limit` out of range", body = ErrorBody),
        (status = 404, description = "No such session, or no commits yet", body = ErrorBody),
    ))]
pub async fn log(
    State(state): State<Arc<AppState>>,
    Path(SessionPath { id: raw_id }): Path<SessionPath>,
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
#[derive(Serialize, ToSchema)]
pub struct ShowJson {
    /// The commit.
    commit: CommitJson,
    /// Its changes against its first parent.
    files: Vec<FileDiffJson>,
}

/// One commit and its diff
///
/// One commit (an id, a branch or `HEAD`) and its changes against its first parent.
#[utoipa::path(get, path = "/session/{id}/log/{*rev}", tag = "git",
    params(
        ("id" = String, Path, description = "The session's id"),
        ("rev" = String, Path, description = "A commit id, a branch or `HEAD`"),
    ),
    responses(
        (status = 200, description = "The commit and its diff", body = ShowJson),
        (status = 400, description = "A malformed session id or revision", body = ErrorBody),
        (status = 404, description = "No such session or revision", body = ErrorBody),
    ))]
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
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointFileJson {
    /// The file's path.
    path: String,
    /// Its git blob id.
    blob_id: String,
}

/// `GET /session/:id/checkpoints/{seq}/files`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointFilesJson {
    /// The message the checkpoint was recorded after.
    seq: u64,
    /// When, in milliseconds since the Unix epoch.
    created_at: u64,
    /// Every file, sorted by path.
    files: Vec<CheckpointFileJson>,
}

/// A checkpoint's files
///
/// Every file of the latest checkpoint at or before message `seq`, sorted by path.
#[utoipa::path(get, path = "/session/{id}/checkpoints/{seq}/files", tag = "checkpoints",
    params(
        ("id" = String, Path, description = "The session's id"),
        ("seq" = u64, Path, description = "A message's `seq`"),
    ),
    responses(
        (status = 200, description = "The files", body = CheckpointFilesJson),
        (status = 400, description = "A malformed session id, or `seq` past the record", body = ErrorBody),
        (status = 404, description = "No such session", body = ErrorBody),
    ))]
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

/// A file at a checkpoint
///
/// A file's bytes as they stood at that checkpoint, with its blob id as `ETag` (and `Range`,
/// `If-None-Match` as on the file API).
#[utoipa::path(get, path = "/session/{id}/checkpoints/{seq}/files/{*path}", tag = "checkpoints",
    params(
        ("id" = String, Path, description = "The session's id"),
        ("seq" = u64, Path, description = "A message's `seq`"),
        ("path" = String, Path, description = "The file's path; it may contain `/`"),
        ("Range" = Option<String>, Header, description = "One byte range, e.g. `bytes=0-99`"),
        ("If-None-Match" = Option<String>, Header, description = "`304` when the file's `ETag` is listed"),
    ),
    responses(
        (status = 200, description = "The file's bytes", body = Vec<u8>, content_type = "application/octet-stream",
            headers(("ETag" = String, description = "The file's git blob id, quoted"))),
        (status = 206, description = "The range asked for", body = Vec<u8>, content_type = "application/octet-stream"),
        (status = 304, description = "The `If-None-Match` copy is current"),
        (status = 400, description = "A malformed session id or path, or `seq` past the record", body = ErrorBody),
        (status = 404, description = "No such session, or no such file at that checkpoint", body = ErrorBody),
        (status = 416, description = "A `Range` outside the file", body = ErrorBody),
    ))]
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
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderJson {
    /// The model-name prefix (`openai` for `openai/gpt-4o`).
    prefix: String,
    /// Whether the provider has its settings (a key or a base URL).
    configured: bool,
    /// Whether it also serves model names without a prefix.
    unprefixed: bool,
}

/// `GET /models`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModelsJson {
    /// The model a chat uses unless it names one.
    default_model: String,
    /// Models the operator named (`--model-context`).
    models: Vec<String>,
    /// The provider prefixes.
    providers: Vec<ProviderJson>,
}

/// The models a chat may name
///
/// The default model, the models the operator named, and the provider prefixes (a chat may
/// name any `<prefix>/<model>` of a configured one).
#[utoipa::path(get, path = "/models", tag = "server",
    responses((status = 200, description = "The models", body = ModelsJson)))]
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

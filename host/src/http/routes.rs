//! Route handlers: thin adapters that parse a request, call the
//! [`ChatService`](crate::service::ChatService) and shape its answer.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, AppState, disconnect, import, notify, sse};
use crate::chat::{ChatReply, ChatRequest};
use crate::seed::{self, Template};
use crate::sessions::SessionId;
use crate::storage::conversation::{RecordEntry, Recorded};
use crate::storage::{Cursor, FileChangeKind};
use crate::tenants::Tenant;

/// `GET /health`.
pub async fn health() -> &'static str {
    "ok"
}

/// Unknown routes.
pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such route")
}

/// A raw body, or the error its rejection answers with (`413` past the route's body limit).
pub(super) fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "request body too large"),
        status => ApiError::new(status, rejection.body_text()),
    })
}

/// Reads a JSON body; an empty body reads as `{}` when `T` allows it.
fn json_body<T: for<'de> Deserialize<'de>>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let body = body_bytes(body)?;
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        &body
    };
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}

pub(super) fn session_id(raw: &str) -> Result<SessionId, ApiError> {
    SessionId::parse(raw).ok_or_else(|| {
        ApiError::bad_request("invalid session id: use 1 to 64 characters from A-Z, a-z, 0-9, '-' and '_'")
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewSession {
    template: Option<Template>,
    /// Who the session's commits are authored by.
    git_author: Option<GitAuthor>,
    /// A repository to clone instead of a template.
    repo: Option<String>,
    /// The branch or tag of `repo` to check out.
    #[serde(rename = "ref")]
    reference: Option<String>,
    /// How many commits of `repo`'s history to fetch.
    depth: Option<u32>,
}

/// Who a new session's commits are authored by, as a client gives it.
#[derive(Deserialize)]
pub(super) struct GitAuthor {
    pub(super) name: String,
    pub(super) email: String,
}

impl GitAuthor {
    /// Refuses what git could not record in a signature.
    pub(super) fn validate(self) -> Result<seed::GitAuthor, ApiError> {
        for (field, value) in [("name", &self.name), ("email", &self.email)] {
            if value.trim().is_empty() || value.len() > 200 || value.contains(['<', '>', '\n', '\0']) {
                return Err(ApiError::bad_request(format!(
                    "invalid gitAuthor.{field}: 1 to 200 characters, without '<', '>', newlines or NUL"
                )));
            }
        }
        Ok(seed::GitAuthor {
            name: self.name.trim().to_string(),
            email: self.email.trim().to_string(),
        })
    }
}

/// `POST /session/new`: a new session with the sample project (or `{"template":"empty"}`), a
/// clone of `{"repo": url, "ref"?, "depth"?}`, or from a tar / tar.gz body (see [`import`]).
/// Archives may be as large as uploads (`max_upload_bytes`); JSON bodies as `max_body_bytes`.
pub async fn new_session(
    State(state): State<Arc<AppState>>,
    Extension(tenant): Extension<Tenant>,
    query: Result<Query<import::ArchiveQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    if let Ok(bytes) = &body
        && let Some(compression) = import::archive_type(&headers, bytes)
    {
        return import::from_archive(&state, &tenant, query, compression, bytes.clone()).await;
    }
    if let Ok(bytes) = &body
        && bytes.len() > state.config.max_body_bytes
    {
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "request body too large"));
    }
    let NewSession {
        template,
        git_author,
        repo,
        reference,
        depth,
    } = json_body(body)?;
    let author = git_author.map(GitAuthor::validate).transpose()?;
    match (repo, template) {
        (Some(_), Some(_)) => Err(ApiError::bad_request("give either `repo` or `template`, not both")),
        (Some(url), None) => {
            let request = import::RepoRequest { url, reference, depth };
            import::from_repository(&state, &tenant, request, author).await
        }
        (None, _) if reference.is_some() || depth.is_some() => {
            Err(ApiError::bad_request("`ref` and `depth` go with `repo`"))
        }
        (None, template) => {
            let id = state
                .service
                .create_session(&tenant, template.unwrap_or_default(), author)
                .await?;
            Ok(Json(json!({ "sessionId": id.as_str() })))
        }
    }
}

/// The query of `POST /session/:id/chat`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatQuery {
    /// Abort the chat when a streaming client disconnects (by default it runs on).
    #[serde(default)]
    abort_on_disconnect: bool,
    /// For clients that cannot send `Last-Event-ID` (rejoining a streaming chat).
    last_event_id: Option<String>,
}

#[derive(Deserialize)]
struct ChatBody {
    message: String,
    /// A URL to POST the outcome to when the chat ends.
    #[serde(default)]
    notify: Option<String>,
    #[serde(default)]
    stream: bool,
    #[serde(default)]
    model: Option<String>,
}

/// `POST /session/:id/chat`: one chat turn; creates the session on first use. A streaming
/// chat with `Last-Event-ID` (or `?lastEventId=`) starts nothing: it rejoins the chat of that
/// event, from right after it.
pub async fn chat(
    State(state): State<Arc<AppState>>,
    Extension(tenant): Extension<Tenant>,
    Path(raw_id): Path<String>,
    Query(query): Query<ChatQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = session_id(&raw_id)?;
    let body: ChatBody = json_body(body)?;
    let resume = EventsQuery {
        last_event_id: query.last_event_id.clone(),
    };
    if body.stream
        && let Some(last) = last_event_id(&headers, resume)
    {
        let rejoined = state.service.rejoin_chat(&id, &tenant, last).await?;
        return Ok(sse::rejoined_chat_response(rejoined));
    }
    if body.message.trim().is_empty() {
        return Err(ApiError::bad_request("`message` must not be empty"));
    }
    let notify = match &body.notify {
        Some(url) => Some(state.notifier.check(url).await?),
        None => None,
    };
    let request = ChatRequest {
        message: body.message,
        model: body.model,
    };
    if !body.stream && notify.is_none() {
        let reply = state.service.chat(&id, &tenant, request).await?;
        return Ok(Json(reply_json(&reply)).into_response());
    }
    let mut live = state.service.watch_chat(&id, &tenant, request);
    if let Some(target) = notify {
        live = notify::when_done(state.notifier.clone(), target, id.clone(), live);
    }
    if body.stream {
        if query.abort_on_disconnect {
            live = disconnect::abort_when_dropped(state.service.clone(), id, live);
        }
        return Ok(sse::chat_response(live));
    }
    let finished = live
        .done
        .await
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the chat ended unexpectedly"))?;
    Ok(Json(reply_json(&finished.result?)).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct EventsQuery {
    /// For clients that cannot send `Last-Event-ID`.
    last_event_id: Option<String>,
}

/// The event a client resumes after: `Last-Event-ID`, else `?lastEventId=`. An id we cannot
/// read cannot be resumed after: it reads as 0, older than every buffer.
fn last_event_id(headers: &HeaderMap, query: EventsQuery) -> Option<u64> {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or(query.last_event_id)
        .map(|raw| raw.trim().parse::<u64>().unwrap_or(0))
}

/// `GET /session/:id/events`: every chat's live events (see [`sse`]). `Last-Event-ID` (or
/// `?lastEventId=`) resumes right after that event; an id that is not one of ours, or no longer
/// buffered, starts the stream with `reset`.
pub async fn events(
    State(state): State<Arc<AppState>>,
    Extension(tenant): Extension<Tenant>,
    Path(raw_id): Path<String>,
    Query(query): Query<EventsQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = session_id(&raw_id)?;
    let rejoined = state
        .service
        .watch_session(&id, &tenant, last_event_id(&headers, query))
        .await?;
    Ok(sse::session_response(rejoined))
}

/// The reply body: `{response, toolCalls: [{tool, args}], usage}` (+ `stopReason`).
pub fn reply_json(reply: &ChatReply) -> Value {
    let tool_calls: Vec<Value> = reply
        .tool_calls
        .iter()
        .map(|c| {
            let args = serde_json::from_str::<Value>(&c.args).unwrap_or_else(|_| Value::String(c.args.clone()));
            json!({ "tool": c.tool, "args": args })
        })
        .collect();
    json!({
        "response": reply.response,
        "toolCalls": tool_calls,
        "usage": reply.usage,
        "stopReason": reply.stop.as_str(),
    })
}

/// `GET /session/:id/info`.
pub async fn info(State(state): State<Arc<AppState>>, Path(raw_id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = session_id(&raw_id)?;
    let info = state.service.info(&id).await?;
    let config = &state.config;
    let load = state.service.load();
    Ok(Json(json!({
        "sessionId": id.as_str(),
        "fileCount": info.stats.file_count,
        "directoryCount": info.stats.directory_count,
        "totalBytes": info.stats.total_bytes,
        "spilledFiles": info.stats.spilled_files,
        "messageCount": info.message_count,
        "contextTokens": info.context_tokens,
        "compactions": info.compactions,
        "createdAt": info.created_ms,
        "template": info.template,
        "branch": info.branch,
        "head": info.head.map(|h| h.to_hex().to_string()),
        "gitAuthor": { "name": info.git_author.name, "email": info.git_author.email },
        "owner": info.owner,
        "server": {
            "chatsInFlight": load.in_flight,
            "chatsQueued": load.queued,
            "maxChats": load.max,
        },
        "defaultModel": state.service.providers().default_model(),
        "contextWindow": state.service.providers().context_tokens(None),
        "limits": {
            "maxTurns": config.chat.max_turns,
            "compactAtPercent": config.chat.compact_at_percent,
            "maxToolOutputBytes": config.chat.max_tool_output_bytes,
            "maxWorkspaceBytes": config.storage.max_workspace_bytes,
            "maxWorkspaceFiles": config.storage.max_workspace_files,
            "maxGuestCpuMs": config.chat.max_guest_cpu.as_millis() as u64,
            "maxMemoryBytes": config.chat.max_memory_bytes,
            "maxFileBytes": config.storage.max_file_bytes,
            "spillThresholdBytes": config.storage.spill_threshold,
            "maxBodyBytes": config.max_body_bytes,
            "maxUploadBytes": config.max_upload_bytes,
        },
    })))
}

/// The query of `GET /session/:id/messages`.
#[derive(Deserialize)]
pub struct MessagesQuery {
    /// `model`: only what the model sees; otherwise the whole record.
    view: Option<String>,
}

/// One row of the record as JSON, with its `seq` and `createdAt`: a message (`role`, `content`,
/// and for a model's answer `promptTokens`), a revert marker (`role: "revert"`, `atMessage`) or a
/// compaction marker (`role: "compaction"`, `summary`, `keepFrom`, `tokensBefore`).
fn recorded_json(row: &Recorded) -> Value {
    let mut value = match &row.entry {
        RecordEntry::Message(message) => serde_json::to_value(message).unwrap_or_default(),
        RecordEntry::Revert { at_message } => json!({ "role": "revert", "atMessage": at_message }),
        RecordEntry::Compaction(compaction) => {
            let mut value = serde_json::to_value(compaction).unwrap_or_default();
            value["role"] = json!("compaction");
            value
        }
    };
    if let Some(object) = value.as_object_mut() {
        object.insert("seq".into(), json!(row.seq));
        object.insert("createdAt".into(), json!(row.created_ms));
        if row.prompt_tokens > 0 {
            object.insert("promptTokens".into(), json!(row.prompt_tokens));
        }
    }
    value
}

/// `GET /session/:id/messages[?view=model]`: the persisted conversation: the whole record with
/// its markers, or what the model sees.
pub async fn messages(
    State(state): State<Arc<AppState>>,
    Path(raw_id): Path<String>,
    Query(query): Query<MessagesQuery>,
) -> Result<Json<Value>, ApiError> {
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
    let messages: Vec<Value> = rows.iter().map(recorded_json).collect();
    Ok(Json(json!({ "sessionId": id.as_str(), "messages": messages })))
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

/// `GET /session/:id/checkpoints`: `{"checkpoints": [{"seq", "createdAt", "summary", "changes"}]}`.
pub async fn checkpoints(
    State(state): State<Arc<AppState>>,
    Path(raw_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = session_id(&raw_id)?;
    let checkpoints: Vec<Value> = state
        .service
        .checkpoints(&id)
        .await?
        .iter()
        .map(|c| {
            let changes: Vec<Value> = c
                .changes
                .iter()
                .map(|(kind, path)| json!({ "change": kind.letter(), "path": path }))
                .collect();
            let summary = checkpoint_summary(&c.changes);
            json!({ "seq": c.seq, "createdAt": c.created_ms, "summary": summary, "changes": changes })
        })
        .collect();
    Ok(Json(json!({ "sessionId": id.as_str(), "checkpoints": checkpoints })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RevertBody {
    at_message: u64,
}

/// `POST /session/:id/revert {"atMessage": n}`: files and conversation back to how they stood
/// after message `n`.
pub async fn revert(
    State(state): State<Arc<AppState>>,
    Path(raw_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = session_id(&raw_id)?;
    let RevertBody { at_message } = json_body(body)?;
    let reverted = state.service.revert(&id, at_message).await?;
    Ok(Json(json!({
        "atMessage": at_message,
        "marker": reverted.marker,
        "checkpoint": reverted.checkpoint,
    })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ForkBody {
    at_message: Option<u64>,
}

/// `POST /session/:id/fork {"atMessage": n?}`: a new session copied from this one.
pub async fn fork(
    State(state): State<Arc<AppState>>,
    Extension(tenant): Extension<Tenant>,
    Path(raw_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = session_id(&raw_id)?;
    let ForkBody { at_message } = json_body(body)?;
    let forked = state.service.fork(&id, at_message, &tenant).await?;
    Ok(Json(
        json!({ "sessionId": forked.as_str(), "forkedFrom": id.as_str(), "atMessage": at_message }),
    ))
}

/// The query of `GET /sessions`.
#[derive(Deserialize)]
pub struct ListQuery {
    /// Sessions per page: 1 to [`MAX_PAGE`], default [`DEFAULT_PAGE`].
    limit: Option<usize>,
    /// The `nextCursor` of the previous page.
    cursor: Option<String>,
}

/// Sessions per page of `GET /sessions` unless `?limit` says otherwise.
const DEFAULT_PAGE: usize = 50;
/// The largest `?limit` of `GET /sessions`.
const MAX_PAGE: usize = 500;

/// A listing cursor as clients see it: `<createdAt>.<sessionId>`.
fn cursor_text(cursor: &Cursor) -> String {
    format!("{}.{}", cursor.created_ms, cursor.id)
}

fn parse_cursor(text: &str) -> Result<Cursor, ApiError> {
    text.split_once('.')
        .and_then(|(ms, id)| {
            Some(Cursor {
                created_ms: ms.parse().ok()?,
                id: SessionId::parse(id)?.as_str().to_string(),
            })
        })
        .ok_or_else(|| ApiError::bad_request("invalid cursor: pass the nextCursor of the previous page"))
}

/// `GET /sessions[?limit=N&cursor=C]`: sessions, newest first, a page at a time.
pub async fn list_sessions(
    State(state): State<Arc<AppState>>,
    Extension(tenant): Extension<Tenant>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(format!("limit must be 1 to {MAX_PAGE}")));
    }
    let after = query.cursor.as_deref().map(parse_cursor).transpose()?;
    let page = state.service.list_sessions(&tenant, limit, after).await?;
    let sessions: Vec<Value> = page
        .sessions
        .iter()
        .map(|s| {
            json!({
                "sessionId": s.id,
                "createdAt": s.created_ms,
                "updatedAt": s.updated_ms,
                "head": s.head,
                "branch": s.branch,
                "fileCount": s.file_count,
                "messageCount": s.message_count,
                "title": s.title,
            })
        })
        .collect();
    Ok(Json(json!({
        "sessions": sessions,
        "nextCursor": page.next.as_ref().map(cursor_text),
    })))
}

/// `DELETE /session/:id`: removes the session (`409` while a chat runs on it).
pub async fn delete_session(
    State(state): State<Arc<AppState>>,
    Path(raw_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = session_id(&raw_id)?;
    state.service.delete_session(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /session/:id/abort`: stops the running chat at its next safe point (`202`), or `409`
/// when no chat runs. The chat itself answers `stopReason: "aborted"`.
pub async fn abort(State(state): State<Arc<AppState>>, Path(raw_id): Path<String>) -> Result<Response, ApiError> {
    let id = session_id(&raw_id)?;
    if state.service.abort(&id)? {
        Ok((StatusCode::ACCEPTED, Json(json!({ "aborted": true }))).into_response())
    } else {
        Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("no chat is running on session '{id}'"),
        ))
    }
}

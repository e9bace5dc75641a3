//! Route handlers for sessions and chats: thin adapters that parse a request, call the
//! [`ChatService`](crate::service::ChatService) and shape its answer. Each carries its OpenAPI
//! description (`#[utoipa::path]`), registered with it in [`super::api_routes`].

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;

use super::api_types::{
    Aborted, AgentInfo, ChatBody, ChatQuery, ChatReplyBody, ErrorBody, EventsQuery, GitAuthorBody, GitAuthorJson,
    ImportQuery, Limits, ListQuery, NewSessionBody, NewSessionReply, RunLimitsJson, ServerLoad, SessionCreated,
    SessionInfoBody, SessionList, SessionListEntry, SessionPath,
};
use super::stream_events::StreamEvent;
use super::{ApiError, AppState, disconnect, import, notify, sse};
use crate::agents::DEFAULT_AGENT;
use crate::chat::ChatRequest;
use crate::seed;
use crate::service::SessionSetup;
use crate::sessions::SessionId;
use crate::storage::Cursor;
use crate::tenants::Tenant;

/// Liveness
///
/// Answers `ok` while the server runs. Needs no token.
#[utoipa::path(get, path = "/health", tag = "server",
    responses((status = 200, description = "The server is up", body = String, content_type = "text/plain", example = "ok")))]
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
pub(super) fn json_body<T: for<'de> Deserialize<'de>>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let body = body_bytes(body)?;
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        &body
    };
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}

/// The session id a path names, or `400`.
pub(super) fn session_id(raw: &str) -> Result<SessionId, ApiError> {
    SessionId::parse(raw).ok_or_else(|| {
        ApiError::bad_request("invalid session id: use 1 to 64 characters from A-Z, a-z, 0-9, '-' and '_'")
    })
}

impl GitAuthorBody {
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

/// Start a session
///
/// A new session seeded with a sample TypeScript project committed as `Initial commit` on
/// `main`, or empty with `{"template": "empty"}`. Send `{"repo": url}` to clone a repository, or
/// a tar / tar.gz body to start from its files; both answer `{sessionId, head, fileCount}`.
/// Archives may be as large as `--max-upload-bytes`, JSON bodies as `--max-body-bytes`.
#[utoipa::path(post, path = "/session/new", tag = "sessions",
    params(ImportQuery),
    request_body(description = "JSON (every field optional), or an archive of the files to start from", content(
        (NewSessionBody = "application/json"),
        (Vec<u8> = "application/x-tar"),
        (Vec<u8> = "application/gzip"),
    )),
    responses(
        (status = 200, description = "The session was created", body = NewSessionReply),
        (status = 400, description = "Malformed JSON or archive, a bad `gitAuthor`, `ref`/`depth` without `repo`, or an `agent` the server does not run", body = ErrorBody),
        (status = 403, description = "`repo` names a host that is not allowed (see `--import-allow`)", body = ErrorBody),
        (status = 404, description = "`repo` or its `ref` does not exist", body = ErrorBody),
        (status = 413, description = "The body or the import is larger than the limits", body = ErrorBody),
        (status = 502, description = "The repository's server failed", body = ErrorBody),
        (status = 504, description = "The clone took too long", body = ErrorBody),
    ))]
pub async fn new_session(
    State(state): State<Arc<AppState>>,
    Extension(tenant): Extension<Tenant>,
    query: Result<Query<ImportQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<NewSessionReply>, ApiError> {
    if let Ok(bytes) = &body
        && let Some(compression) = import::archive_type(&headers, bytes)
    {
        let imported = import::from_archive(&state, &tenant, query, compression, bytes.clone()).await?;
        return Ok(Json(NewSessionReply::Imported(imported)));
    }
    if let Ok(bytes) = &body
        && bytes.len() > state.config.max_body_bytes
    {
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "request body too large"));
    }
    let NewSessionBody {
        template,
        git_author,
        repo,
        reference,
        depth,
        agent,
    } = json_body(body)?;
    let author = git_author.map(GitAuthorBody::validate).transpose()?;
    let setup = SessionSetup { author, agent };
    match (repo, template) {
        (Some(_), Some(_)) => Err(ApiError::bad_request("give either `repo` or `template`, not both")),
        (Some(url), None) => {
            let request = import::RepoRequest { url, reference, depth };
            let imported = import::from_repository(&state, &tenant, request, setup).await?;
            Ok(Json(NewSessionReply::Imported(imported)))
        }
        (None, _) if reference.is_some() || depth.is_some() => {
            Err(ApiError::bad_request("`ref` and `depth` go with `repo`"))
        }
        (None, template) => {
            let id = state
                .service
                .create_session(&tenant, template.unwrap_or_default(), setup)
                .await?;
            Ok(Json(NewSessionReply::Created(SessionCreated {
                session_id: id.as_str().to_string(),
            })))
        }
    }
}

/// Chat with the agent
///
/// One chat: the agent works on the session's files until it answers. The chat continues the
/// session's conversation; an unknown (valid) id creates the session on first use. With
/// `"stream": true` the answer is a stream of server-sent events ending with `done` or `error`.
/// A streaming chat with `Last-Event-ID` (or `?lastEventId=`) starts nothing: it rejoins the
/// chat of that event, from right after it. With `notify`, the outcome is also POSTed there,
/// signed with `--notify-secret`.
#[utoipa::path(post, path = "/session/{id}/chat", tag = "chat",
    params(
        SessionPath,
        ChatQuery,
        ("Last-Event-ID" = Option<String>, Header, description = "Rejoin a streaming chat right after this event"),
    ),
    request_body = ChatBody,
    responses(
        (status = 200, description = "The chat's reply; with `stream: true`, its events", content(
            (ChatReplyBody = "application/json"),
            (StreamEvent = "text/event-stream"),
        )),
        (status = 400, description = "Malformed body, an empty message, a bad session id or `notify` URL", body = ErrorBody),
        (status = 403, description = "The `notify` URL's host is not allowed", body = ErrorBody),
        (status = 404, description = "The session belongs to another tenant", body = ErrorBody),
        (status = 409, description = "The session was deleted while the chat ran", body = ErrorBody),
        (status = 413, description = "The body is larger than `--max-body-bytes`", body = ErrorBody),
        (status = 502, description = "The model provider failed, or the conversation does not fit its context window", body = ErrorBody),
        (status = 503, description = "No provider is configured for the model", body = ErrorBody),
    ))]
pub async fn chat(
    State(state): State<Arc<AppState>>,
    Extension(tenant): Extension<Tenant>,
    Path(SessionPath { id: raw_id }): Path<SessionPath>,
    Query(query): Query<ChatQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = session_id(&raw_id)?;
    let body: ChatBody = json_body(body)?;
    let resume = EventsQuery {
        last_event_id: query.last_event_id,
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
        return Ok(Json(ChatReplyBody::from(&reply)).into_response());
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
    Ok(Json(ChatReplyBody::from(&finished.result?)).into_response())
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

/// Watch a session
///
/// Every chat on the session, whoever started it, as server-sent events between `chat_start`
/// and `chat_end`. The stream stays open between chats; a comment goes out every 15 s.
/// `Last-Event-ID` (or `?lastEventId=`) resumes right after that event; an id that is not one
/// of ours, or no longer buffered, starts the stream with `reset`.
#[utoipa::path(get, path = "/session/{id}/events", tag = "chat",
    params(
        SessionPath,
        EventsQuery,
        ("Last-Event-ID" = Option<String>, Header, description = "Resume right after this event"),
    ),
    responses(
        (status = 200, description = "The session's events", body = StreamEvent, content_type = "text/event-stream"),
        (status = 400, description = "A malformed session id", body = ErrorBody),
        (status = 404, description = "No such session", body = ErrorBody),
    ))]
pub async fn events(
    State(state): State<Arc<AppState>>,
    Extension(tenant): Extension<Tenant>,
    Path(SessionPath { id: raw_id }): Path<SessionPath>,
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

/// Abort the running chat
///
/// Stops the chat running on the session at its next safe point: a model answer in flight is
/// cut, tool calls not yet started are not run. The chat then answers as usual, with
/// `stopReason: "aborted"`.
#[utoipa::path(post, path = "/session/{id}/abort", tag = "chat",
    params(SessionPath),
    responses(
        (status = 202, description = "The chat will stop", body = Aborted),
        (status = 400, description = "A malformed session id", body = ErrorBody),
        (status = 409, description = "No chat runs on the session", body = ErrorBody),
    ))]
pub async fn abort(
    State(state): State<Arc<AppState>>,
    Path(SessionPath { id: raw_id }): Path<SessionPath>,
) -> Result<Response, ApiError> {
    let id = session_id(&raw_id)?;
    if state.service.abort(&id)? {
        Ok((StatusCode::ACCEPTED, Json(Aborted { aborted: true })).into_response())
    } else {
        Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("no chat is running on session '{id}'"),
        ))
    }
}

/// Describe a session
///
/// Counts, git state, context use and the limits the session runs under. `contextTokens` is
/// the size of the last prompt a model answered, `contextWindow` the default model's window.
#[utoipa::path(get, path = "/session/{id}/info", tag = "sessions",
    params(SessionPath),
    responses(
        (status = 200, description = "The session", body = SessionInfoBody),
        (status = 400, description = "A malformed session id", body = ErrorBody),
        (status = 404, description = "No such session", body = ErrorBody),
    ))]
pub async fn info(
    State(state): State<Arc<AppState>>,
    Path(SessionPath { id: raw_id }): Path<SessionPath>,
) -> Result<Json<SessionInfoBody>, ApiError> {
    let id = session_id(&raw_id)?;
    let info = state.service.info(&id).await?;
    let config = &state.config;
    let load = state.service.load();
    Ok(Json(SessionInfoBody {
        session_id: id.as_str().to_string(),
        file_count: info.stats.file_count,
        directory_count: info.stats.directory_count,
        total_bytes: info.stats.total_bytes,
        spilled_files: info.stats.spilled_files,
        message_count: info.message_count,
        context_tokens: info.context_tokens,
        compactions: info.compactions,
        created_at: info.created_ms,
        template: info.template,
        branch: info.branch,
        head: info.head.map(|h| h.to_hex().to_string()),
        git_author: GitAuthorJson {
            name: info.git_author.name,
            email: info.git_author.email,
        },
        owner: info.owner,
        server: ServerLoad {
            chats_in_flight: load.in_flight,
            chats_queued: load.queued,
            max_chats: load.max,
        },
        default_model: state.service.providers().default_model().to_string(),
        context_window: state.service.providers().context_tokens(None),
        limits: Limits {
            max_turns: config.chat.max_turns,
            compact_at_percent: config.chat.compact_at_percent,
            max_tool_output_bytes: config.chat.max_tool_output_bytes,
            max_workspace_bytes: config.storage.max_workspace_bytes,
            max_workspace_files: config.storage.max_workspace_files,
            max_guest_cpu_ms: config.chat.max_guest_cpu.as_millis() as u64,
            max_memory_bytes: config.chat.max_memory_bytes,
            max_file_bytes: config.storage.max_file_bytes,
            spill_threshold_bytes: config.storage.spill_threshold,
            max_body_bytes: config.max_body_bytes,
            max_upload_bytes: config.max_upload_bytes,
            run: RunLimitsJson {
                max_cpu_ms: config.chat.run.max_cpu.as_millis() as u64,
                timeout_ms: config.chat.run.max_wall.as_millis() as u64,
                max_memory_bytes: config.chat.run.max_memory_bytes,
                max_output_bytes: config.chat.run.max_output_bytes,
            },
        },
        agent: AgentInfo {
            current: state
                .service
                .agents()
                .get(info.agent.as_deref())
                .ok()
                .map(|a| a.hash.clone()),
            name: info.agent.unwrap_or_else(|| DEFAULT_AGENT.to_string()),
            created_with: info.agent_hash,
        },
    }))
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

/// List sessions
///
/// The sessions you own, newest first, a page at a time; pass `?cursor=<nextCursor>` for the
/// next page. `title` is the first user message, cut at 80 characters.
#[utoipa::path(get, path = "/sessions", tag = "sessions",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of sessions", body = SessionList),
        (status = 400, description = "A `limit` out of range or a malformed cursor", body = ErrorBody),
    ))]
pub async fn list_sessions(
    State(state): State<Arc<AppState>>,
    Extension(tenant): Extension<Tenant>,
    Query(query): Query<ListQuery>,
) -> Result<Json<SessionList>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(format!("limit must be 1 to {MAX_PAGE}")));
    }
    let after = query.cursor.as_deref().map(parse_cursor).transpose()?;
    let page = state.service.list_sessions(&tenant, limit, after).await?;
    let sessions = page
        .sessions
        .into_iter()
        .map(|s| SessionListEntry {
            session_id: s.id,
            created_at: s.created_ms,
            updated_at: s.updated_ms,
            head: s.head,
            branch: s.branch,
            file_count: s.file_count,
            message_count: s.message_count,
            title: s.title,
        })
        .collect();
    Ok(Json(SessionList {
        sessions,
        next_cursor: page.next.as_ref().map(cursor_text),
    }))
}

/// Delete a session
///
/// Removes the session, its files and its spilled blobs.
#[utoipa::path(delete, path = "/session/{id}", tag = "sessions",
    params(SessionPath),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "A malformed session id", body = ErrorBody),
        (status = 404, description = "No such session", body = ErrorBody),
        (status = 409, description = "A chat runs on the session", body = ErrorBody),
    ))]
pub async fn delete_session(
    State(state): State<Arc<AppState>>,
    Path(SessionPath { id: raw_id }): Path<SessionPath>,
) -> Result<StatusCode, ApiError> {
    let id = session_id(&raw_id)?;
    state.service.delete_session(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! Route handlers.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::{ApiError, AppState, sse};
use crate::chat::{self, ChatReply, ChatRequest};
use crate::interfaces::session::ChatEvent;
use crate::seed::{self, Template};
use crate::sessions::SessionId;
use crate::storage::{OpenError, SessionDb};

/// `GET /health`.
pub async fn health() -> &'static str {
    "ok"
}

/// Unknown routes.
pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such route")
}

/// Reads a JSON body; an empty body reads as `{}` when `T` allows it.
fn json_body<T: for<'de> Deserialize<'de>>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "request body too large"),
        status => ApiError::new(status, rejection.body_text()),
    })?;
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

pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(ApiError::internal)?
}

/// Opens an existing session for a read route (404 when it does not exist).
pub(super) async fn open_existing(state: &Arc<AppState>, id: &SessionId) -> Result<SessionDb, ApiError> {
    let (state, id) = (state.clone(), id.clone());
    blocking(move || match state.sessions.open(&id) {
        Ok(db) => Ok(db),
        Err(OpenError::NotFound) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("session '{id}' not found"),
        )),
        Err(e) => Err(ApiError::internal(e)),
    })
    .await
}

fn create_seeded(state: &AppState, id: &SessionId, template: Template) -> Result<SessionDb, ApiError> {
    let mut db = state.sessions.create(id).map_err(ApiError::internal)?;
    seed::seed(&mut db, template).map_err(ApiError::internal)?;
    Ok(db)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewSession {
    #[serde(default)]
    template: Template,
    /// Who the session's commits are authored by.
    git_author: Option<GitAuthor>,
}

#[derive(Deserialize)]
struct GitAuthor {
    name: String,
    email: String,
}

impl GitAuthor {
    /// Refuses what git could not record in a signature.
    fn validate(&self) -> Result<(), ApiError> {
        for (field, value) in [("name", &self.name), ("email", &self.email)] {
            if value.trim().is_empty() || value.len() > 200 || value.contains(['<', '>', '\n', '\0']) {
                return Err(ApiError::bad_request(format!(
                    "invalid gitAuthor.{field}: 1 to 200 characters, without '<', '>', newlines or NUL"
                )));
            }
        }
        Ok(())
    }
}

/// `POST /session/new`: a new session with the sample project (or `{"template":"empty"}`).
pub async fn new_session(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let NewSession { template, git_author } = json_body(body)?;
    if let Some(author) = &git_author {
        author.validate()?;
    }
    let id = SessionId::random().map_err(ApiError::internal)?;
    let session = id.clone();
    blocking(move || {
        let mut db = state.sessions.create(&session).map_err(ApiError::internal)?;
        if let Some(author) = git_author {
            db.set_meta("git_author_name", author.name.trim())
                .map_err(ApiError::internal)?;
            db.set_meta("git_author_email", author.email.trim())
                .map_err(ApiError::internal)?;
        }
        seed::seed(&mut db, template).map_err(ApiError::internal)
    })
    .await?;
    tracing::info!(session = %id, "created session");
    Ok(Json(json!({ "sessionId": id.as_str() })))
}

#[derive(Deserialize)]
struct ChatBody {
    message: String,
    #[serde(default)]
    stream: bool,
    #[serde(default)]
    model: Option<String>,
}

/// `POST /session/:id/chat`: one chat turn; creates the session on first use.
pub async fn chat(
    State(state): State<Arc<AppState>>,
    Path(raw_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = session_id(&raw_id)?;
    let body: ChatBody = json_body(body)?;
    if body.message.trim().is_empty() {
        return Err(ApiError::bad_request("`message` must not be empty"));
    }
    let request = ChatRequest {
        message: body.message,
        model: body.model,
    };
    if body.stream {
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let result = run(state, id, request, Some(events_tx)).await;
            let _ = done_tx.send(result);
        });
        Ok(sse::response(events_rx, done_rx))
    } else {
        let reply = run(state, id, request, None).await?;
        Ok(Json(reply_json(&reply)).into_response())
    }
}

/// Runs a chat on the session, after any chat already running on it. The session lock and the
/// chat slot move into the blocking task: a client that goes away mid-chat neither frees the
/// session for a second, interleaved chat nor leaks the slot.
async fn run(
    state: Arc<AppState>,
    id: SessionId,
    request: ChatRequest,
    events: Option<mpsc::UnboundedSender<ChatEvent>>,
) -> Result<ChatReply, ApiError> {
    let session_guard = state.sessions.lock(&id).await;
    let slot = state
        .chat_slots
        .clone()
        .acquire_owned()
        .await
        .map_err(ApiError::internal)?;
    let span = tracing::info_span!("chat", session = %id);
    blocking(move || {
        let _held = (session_guard, slot);
        let _entered = span.enter();
        let db = match state.sessions.open(&id) {
            Ok(db) => db,
            Err(OpenError::NotFound) => create_seeded(&state, &id, Template::Sample)?,
            Err(e) => return Err(ApiError::internal(e)),
        };
        let reply = chat::run_chat(
            &state.engine,
            state.providers.clone(),
            db,
            request,
            state.config.chat,
            events,
        );
        match &reply {
            Ok(r) => tracing::info!(tools = r.tool_calls.len(), "chat done"),
            Err(e) => tracing::warn!(error = %e, "chat failed"),
        }
        reply.map_err(ApiError::from)
    })
    .await
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
    let mut db = open_existing(&state, &id).await?;
    let config = state.config.clone();
    let default_model = state.providers.default_model().to_string();
    blocking(move || {
        let (branch, head, (author_name, author_email)) = {
            let repo = crate::git::Repo::new(&mut db);
            (
                repo.current_branch().ok().flatten(),
                repo.head_commit().ok().flatten().map(|h| h.to_hex().to_string()),
                repo.author().map_err(ApiError::internal)?,
            )
        };
        let stats = db.stats().map_err(ApiError::internal)?;
        let messages = db.message_count().map_err(ApiError::internal)?;
        let created: Option<u64> = db
            .meta("created_ms")
            .map_err(ApiError::internal)?
            .and_then(|v| v.parse().ok());
        let template = db.meta("template").map_err(ApiError::internal)?;
        Ok(Json(json!({
            "sessionId": id.as_str(),
            "fileCount": stats.file_count,
            "directoryCount": stats.directory_count,
            "totalBytes": stats.total_bytes,
            "spilledFiles": stats.spilled_files,
            "messageCount": messages,
            "createdAt": created,
            "template": template,
            "branch": branch,
            "head": head,
            "gitAuthor": { "name": author_name, "email": author_email },
            "defaultModel": default_model,
            "limits": {
                "maxTurns": config.chat.max_turns,
                "maxToolOutputBytes": config.chat.max_tool_output_bytes,
                "maxWorkspaceBytes": config.storage.max_workspace_bytes,
                "maxWorkspaceFiles": config.storage.max_workspace_files,
                "maxGuestCpuMs": config.chat.max_guest_cpu.as_millis() as u64,
                "maxMemoryBytes": config.chat.max_memory_bytes,
                "maxFileBytes": config.storage.max_file_bytes,
                "spillThresholdBytes": config.storage.spill_threshold,
                "maxBodyBytes": config.max_body_bytes,
            },
        })))
    })
    .await
}

/// `GET /session/:id/messages`: the persisted conversation.
pub async fn messages(State(state): State<Arc<AppState>>, Path(raw_id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = session_id(&raw_id)?;
    let db = open_existing(&state, &id).await?;
    blocking(move || {
        let history = db.history().map_err(ApiError::internal)?;
        Ok(Json(json!({ "sessionId": id.as_str(), "messages": history })))
    })
    .await
}

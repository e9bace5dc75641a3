//! Route handlers: thin adapters that parse a request, call the
//! [`ChatService`](crate::service::ChatService) and shape its answer.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, AppState, import, sse};
use crate::chat::{ChatReply, ChatRequest};
use crate::seed::{self, Template};
use crate::sessions::SessionId;

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
    query: Result<Query<import::ArchiveQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    if let Ok(bytes) = &body
        && let Some(compression) = import::archive_type(&headers, bytes)
    {
        return import::from_archive(&state, query, compression, bytes.clone()).await;
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
            import::from_repository(&state, request, author).await
        }
        (None, _) if reference.is_some() || depth.is_some() => {
            Err(ApiError::bad_request("`ref` and `depth` go with `repo`"))
        }
        (None, template) => {
            let id = state
                .service
                .create_session(template.unwrap_or_default(), author)
                .await?;
            Ok(Json(json!({ "sessionId": id.as_str() })))
        }
    }
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
        Ok(sse::response(state.service.watch_chat(&id, request)))
    } else {
        let reply = state.service.chat(&id, request, None).await?;
        Ok(Json(reply_json(&reply)).into_response())
    }
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
    Ok(Json(json!({
        "sessionId": id.as_str(),
        "fileCount": info.stats.file_count,
        "directoryCount": info.stats.directory_count,
        "totalBytes": info.stats.total_bytes,
        "spilledFiles": info.stats.spilled_files,
        "messageCount": info.message_count,
        "createdAt": info.created_ms,
        "template": info.template,
        "branch": info.branch,
        "head": info.head.map(|h| h.to_hex().to_string()),
        "gitAuthor": { "name": info.git_author.name, "email": info.git_author.email },
        "defaultModel": state.service.providers().default_model(),
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
            "maxUploadBytes": config.max_upload_bytes,
        },
    })))
}

/// `GET /session/:id/messages`: the persisted conversation.
pub async fn messages(State(state): State<Arc<AppState>>, Path(raw_id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = session_id(&raw_id)?;
    let history = state.service.messages(&id).await?;
    Ok(Json(json!({ "sessionId": id.as_str(), "messages": history })))
}

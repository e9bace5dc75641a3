//! Errors as JSON `{ "error": "..." }` with a fitting status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::chat::ChatError;
use crate::git::GitError;
use crate::llm::LlmError;
use crate::service::ServiceError;
use crate::storage::FsError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// What went wrong, for the client.
    pub message: String,
}

impl ApiError {
    /// An error with a status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 500 Internal Server Error (a fault of ours), logged with its chain of causes.
    pub fn internal(error: &(dyn std::error::Error + 'static)) -> Self {
        let mut message = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            let cause_text = cause.to_string();
            // thiserror's `{0}` messages already contain their source's text.
            if !message.contains(&cause_text) {
                message = format!("{message}: {cause_text}");
            }
            source = cause.source();
        }
        tracing::error!("internal error: {message}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, format!("internal error: {message}"))
    }
}

/// The status a chat failure answers with.
fn chat_status(e: &ChatError) -> StatusCode {
    match e {
        ChatError::Llm(LlmError::NotConfigured(_)) => StatusCode::SERVICE_UNAVAILABLE,
        ChatError::Llm(_) => StatusCode::BAD_GATEWAY,
        ChatError::InvalidRequest(_) => StatusCode::BAD_REQUEST,
        ChatError::CpuLimit(_) | ChatError::Trap(_) | ChatError::HostFault(_) | ChatError::Internal(_) => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// The status a git failure on a read route answers with.
fn git_error_status(e: &GitError) -> Option<StatusCode> {
    match e {
        GitError::UnknownRevision(_) | GitError::NoCommits | GitError::NotARepository => Some(StatusCode::NOT_FOUND),
        GitError::InvalidPath(_) | GitError::InvalidName(_) => Some(StatusCode::BAD_REQUEST),
        _ => None,
    }
}

/// The status a refused working-tree operation answers with (`None`: a host fault).
fn fs_error_status(e: &FsError) -> Option<StatusCode> {
    Some(match e {
        FsError::NotFound(_) => StatusCode::NOT_FOUND,
        FsError::AlreadyExists(_)
        | FsError::NotAFile(_)
        | FsError::NotADirectory(_)
        | FsError::DirectoryNotEmpty(_) => StatusCode::CONFLICT,
        FsError::InvalidPath(_) | FsError::Refused(_) => StatusCode::BAD_REQUEST,
        FsError::TooLarge(_) | FsError::QuotaExceeded(_) => StatusCode::PAYLOAD_TOO_LARGE,
        FsError::Storage(_) => return None,
    })
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        Self::from(&e)
    }
}

impl From<&ServiceError> for ApiError {
    fn from(e: &ServiceError) -> Self {
        match e {
            ServiceError::NotFound(_) => Self::new(StatusCode::NOT_FOUND, e.to_string()),
            ServiceError::Chat(chat) => Self::new(chat_status(chat), chat.to_string()),
            ServiceError::Git(git) => match git_error_status(git) {
                Some(status) => Self::new(status, git.to_string()),
                None => Self::internal(e),
            },
            ServiceError::Import(import) => match super::import::import_status(import) {
                Some(status) => Self::new(status, import.to_string()),
                None => Self::internal(e),
            },
            ServiceError::Fs(fs) => match fs_error_status(fs) {
                Some(status) => Self::new(status, fs.to_string()),
                None => Self::internal(e),
            },
            ServiceError::GitProtocol(_) => Self::bad_request(e.to_string()),
            ServiceError::NoSuchMessage(_) => Self::bad_request(e.to_string()),
            ServiceError::Busy(_) => Self::new(StatusCode::CONFLICT, e.to_string()),
            ServiceError::PreconditionFailed(_) => Self::new(StatusCode::PRECONDITION_FAILED, e.to_string()),
            ServiceError::ShuttingDown | ServiceError::AgentGone(_) => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
            }
            ServiceError::UnknownAgent(_) => Self::bad_request(e.to_string()),
            ServiceError::Storage(_) | ServiceError::Open(_) | ServiceError::Task(_) => Self::internal(e),
            ServiceError::Shared(inner) => Self::from(&**inner),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(serde_json::json!({ "error": self.message }))).into_response()
    }
}

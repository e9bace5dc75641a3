//! The JSON the API reads and writes: one typed struct per body, so the OpenAPI document
//! (`GET /openapi.json`) is generated from the very types the handlers (de)serialize. Field
//! names are camelCase on the wire.

mod chat;
mod conversation;
mod files;
mod sessions;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub use self::chat::*;
pub use self::conversation::*;
pub use self::files::*;
pub use self::sessions::*;

/// An error answer: what went wrong, for a person to read. The status says what kind of error.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    #[schema(example = "no session 'abc'")]
    pub error: String,
}

/// The session a route acts on.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SessionPath {
    /// The session's id: 1 to 64 characters from `A-Z`, `a-z`, `0-9`, `-` and `_`.
    #[param(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub id: String,
}

/// A session and a path inside it.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SessionFilePath {
    /// The session's id.
    #[param(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub id: String,
    /// A path in the working tree, or in the git directory; it may contain `/`.
    pub path: String,
}

//! Sessions: starting one, describing one, listing them.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::seed::Template;

/// Who a new session's commits are authored by, as a client gives it.
#[derive(Deserialize, ToSchema)]
pub struct GitAuthorBody {
    /// The author's name (1 to 200 characters, no `<`, `>`, newline or NUL).
    pub name: String,
    /// The author's email address (same rules).
    pub email: String,
}

/// The JSON body of `POST /session/new`: a template, or a repository to clone. Every field is
/// optional; an empty body starts the sample project.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewSessionBody {
    /// The files to start with (default `sample`); not with `repo`.
    pub template: Option<Template>,
    /// Who the session's commits are authored by.
    pub git_author: Option<GitAuthorBody>,
    /// A repository to clone instead of a template (`https://` to a public host).
    pub repo: Option<String>,
    /// The branch or tag of `repo` to check out.
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    /// How many commits of `repo`'s history to fetch.
    pub depth: Option<u32>,
    /// The agent the session runs: one the server was started with (`--guest NAME=PATH`);
    /// default `pi`, the built-in agent.
    pub agent: Option<String>,
}

/// A session started from a template. It has no other fields, so an import's answer never
/// matches it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionCreated {
    /// The new session's id.
    pub session_id: String,
}

/// A session started from an archive or a repository.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionImported {
    /// The new session's id.
    pub session_id: String,
    /// The commit HEAD points at (`null`: an empty archive, nothing committed).
    pub head: Option<String>,
    /// Files in the working tree.
    pub file_count: u64,
}

/// The answer of `POST /session/new`.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum NewSessionReply {
    /// From a template.
    Created(SessionCreated),
    /// From an archive or a repository.
    Imported(SessionImported),
}

/// Who a session's commits are authored by.
#[derive(Serialize, ToSchema)]
pub struct GitAuthorJson {
    /// The name.
    pub name: String,
    /// The email address.
    pub email: String,
}

/// The server's load, as `info` reports it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServerLoad {
    /// Chats holding a slot: running, or waiting for the model.
    pub chats_in_flight: u64,
    /// Chats waiting for their session or for a slot.
    pub chats_queued: u64,
    /// The most chats in flight at once (`--max-chats`).
    pub max_chats: u64,
}

/// The limits a session runs under (the server's flags).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    /// Model calls per chat (`--max-turns`).
    pub max_turns: u32,
    /// Compaction starts past this share of the context window (`--compact-at-percent`).
    pub compact_at_percent: u8,
    /// Bytes of one tool's output the model sees.
    pub max_tool_output_bytes: u32,
    /// Bytes of files in the workspace.
    pub max_workspace_bytes: u64,
    /// Files in the workspace.
    pub max_workspace_files: u64,
    /// CPU time of the agent per chat, in milliseconds.
    pub max_guest_cpu_ms: u64,
    /// Memory of the agent, in bytes.
    pub max_memory_bytes: usize,
    /// Bytes of one file.
    pub max_file_bytes: u64,
    /// Files from this size are stored outside the session's database.
    pub spill_threshold_bytes: u64,
    /// Bytes of a JSON request body.
    pub max_body_bytes: usize,
    /// Bytes of an upload (a file, an archive, a push).
    pub max_upload_bytes: usize,
    /// Limits of each program the agent runs (the `run` tool).
    pub run: RunLimitsJson,
}

/// Limits of each program the agent runs (`--run-cpu-secs`, `--run-timeout-secs`,
/// `--run-memory-mib`, `--run-output-kib`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunLimitsJson {
    /// CPU time, in milliseconds.
    pub max_cpu_ms: u64,
    /// Wall-clock time, in milliseconds.
    pub timeout_ms: u64,
    /// Linear memory, in bytes.
    pub max_memory_bytes: usize,
    /// Output kept (stdout and stderr together), in bytes.
    pub max_output_bytes: usize,
}

/// `GET /session/{id}/info`'s answer.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfoBody {
    /// The session's id.
    pub session_id: String,
    /// Files in the working tree.
    pub file_count: u64,
    /// Directories in the working tree (the root not counted).
    pub directory_count: u64,
    /// Bytes of the working tree's files.
    pub total_bytes: u64,
    /// Files whose contents are stored outside the session's database.
    pub spilled_files: u64,
    /// Messages in the conversation's record.
    pub message_count: u64,
    /// The size in tokens of the last prompt a model answered (0: none yet).
    pub context_tokens: u64,
    /// Compactions of the conversation so far.
    pub compactions: u64,
    /// When the session was created, in milliseconds since the Unix epoch.
    pub created_at: Option<u64>,
    /// The template it started from.
    pub template: Option<String>,
    /// The current branch (`null`: detached HEAD).
    pub branch: Option<String>,
    /// HEAD's commit (`null`: no commits yet).
    pub head: Option<String>,
    /// Who commits are authored by.
    pub git_author: GitAuthorJson,
    /// The tenant that owns the session (`null`: the default tenant).
    pub owner: Option<String>,
    /// The server's load.
    pub server: ServerLoad,
    /// The model chats use unless they name one.
    pub default_model: String,
    /// The default model's context window, in tokens.
    pub context_window: u64,
    /// The limits the session runs under.
    pub limits: Limits,
    /// The agent the session runs.
    pub agent: AgentInfo,
}

/// The agent a session runs, as `info` reports it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentInfo {
    /// Its name (`pi`: the built-in agent).
    pub name: String,
    /// `sha256:<hex>` of the component the session was created with (`null` for a session
    /// created before pi-worker recorded it).
    pub created_with: Option<String>,
    /// `sha256:<hex>` of the component the server runs under that name now, which the next
    /// chat uses (`null` when the server runs no agent of that name).
    pub current: Option<String>,
}

/// The query of `GET /sessions`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Sessions per page: 1 to 500, default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// A session, as the listing shows it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionListEntry {
    /// The session's id.
    pub session_id: String,
    /// When it was created, in milliseconds since the Unix epoch.
    pub created_at: u64,
    /// When it last changed, in milliseconds since the Unix epoch.
    pub updated_at: u64,
    /// HEAD's commit.
    pub head: Option<String>,
    /// The current branch (`null`: detached HEAD, or no repository).
    pub branch: Option<String>,
    /// Files in the working tree.
    pub file_count: u64,
    /// Messages in the conversation.
    pub message_count: u64,
    /// The first user message, cut at 80 characters.
    pub title: Option<String>,
}

/// `GET /sessions`' answer.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionList {
    /// The sessions, newest first.
    pub sessions: Vec<SessionListEntry>,
    /// Pass as `?cursor=` for the next page (`null`: this is the last).
    pub next_cursor: Option<String>,
}

/// The query of `POST /session/new` with an archive body: who its commit is authored by (both
/// or neither).
#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The commit author's name.
    pub git_author_name: Option<String>,
    /// The commit author's email address.
    pub git_author_email: Option<String>,
    /// The agent the session runs (default `pi`, the built-in agent).
    pub agent: Option<String>,
}

//! The JSON the API reads and writes: one typed struct per body, so the OpenAPI document
//! (`GET /openapi.json`) is generated from the very types the handlers (de)serialize. Field
//! names are camelCase on the wire.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::chat::{ChatReply, ChatStop};
use crate::message::{Message, Usage};
use crate::seed::Template;
use crate::storage::FileChangeKind;
use crate::storage::conversation::{Compaction, RecordEntry, Recorded};

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
}

/// A session started from a template.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
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

/// The JSON body of `POST /session/{id}/chat`.
#[derive(Deserialize, ToSchema)]
pub struct ChatBody {
    /// What to tell the agent (not empty, unless the request rejoins a stream).
    pub message: String,
    /// A URL to POST the outcome to when the chat ends.
    #[serde(default)]
    pub notify: Option<String>,
    /// Answer as server-sent events instead of one JSON reply.
    #[serde(default)]
    pub stream: bool,
    /// The model to use (default: the server's `--model`).
    #[serde(default)]
    pub model: Option<String>,
}

/// The query of `POST /session/{id}/chat`.
#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ChatQuery {
    /// Abort the chat when a streaming client disconnects (by default it runs on).
    #[serde(default)]
    pub abort_on_disconnect: bool,
    /// For clients that cannot send `Last-Event-ID` (rejoining a streaming chat).
    pub last_event_id: Option<String>,
}

/// The query of `GET /session/{id}/events`.
#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// For clients that cannot send `Last-Event-ID`.
    pub last_event_id: Option<String>,
}

/// A tool call of a chat, as the reply lists it.
#[derive(Serialize, ToSchema)]
pub struct ToolCallJson {
    /// The tool's name.
    pub tool: String,
    /// Its arguments: the JSON the model gave, or its text when that was not JSON.
    pub args: Value,
}

/// How a chat ended.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model finished.
    EndTurn,
    /// The turn limit (`--max-turns`) stopped it.
    MaxTurns,
    /// The repeat guard stopped a model making the same call over and over.
    RepeatGuard,
    /// Someone aborted the chat.
    Aborted,
}

impl From<ChatStop> for StopReason {
    fn from(stop: ChatStop) -> Self {
        match stop {
            ChatStop::EndTurn => Self::EndTurn,
            ChatStop::MaxTurns => Self::MaxTurns,
            ChatStop::RepeatGuard => Self::RepeatGuard,
            ChatStop::Aborted => Self::Aborted,
        }
    }
}

/// A chat's answer (and the data of the stream's `done` event).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatReplyBody {
    /// The model's final text.
    pub response: String,
    /// The tool calls, in the order they ran.
    pub tool_calls: Vec<ToolCallJson>,
    /// Tokens over all model calls of the chat.
    pub usage: Usage,
    /// How the chat ended.
    pub stop_reason: StopReason,
}

impl From<&ChatReply> for ChatReplyBody {
    fn from(reply: &ChatReply) -> Self {
        Self {
            response: reply.response.clone(),
            tool_calls: reply
                .tool_calls
                .iter()
                .map(|c| ToolCallJson {
                    tool: c.tool.clone(),
                    args: json_or_text(&c.args),
                })
                .collect(),
            usage: reply.usage,
            stop_reason: reply.stop.into(),
        }
    }
}

/// JSON text as JSON, or as a string when it is not JSON.
pub fn json_or_text(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// `POST /session/{id}/abort`'s answer.
#[derive(Serialize, ToSchema)]
pub struct Aborted {
    /// Always `true`.
    pub aborted: bool,
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
}

/// The query of `GET /session/{id}/messages`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessagesQuery {
    /// `model`: only what the model sees (the latest compaction's summary, then the messages
    /// after it); `record` (the default): the whole record.
    #[param(pattern = "^(model|record)$")]
    pub view: Option<String>,
}

/// A marker in the record.
#[derive(Serialize, ToSchema)]
#[serde(tag = "role", rename_all = "lowercase")]
pub enum Marker {
    /// The session was reverted to how it stood after message `atMessage`.
    Revert {
        /// The message reverted to.
        #[serde(rename = "atMessage")]
        at_message: u64,
    },
    /// Older turns were summarised.
    Compaction(Compaction),
}

/// What a row of the record holds.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum RecordRowEntry {
    /// A message (`role`: `user` or `assistant`).
    Message(Message),
    /// A revert or compaction marker.
    Marker(Marker),
}

/// One row of the conversation's record.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordRow {
    /// The message or marker.
    #[serde(flatten)]
    pub entry: RecordRowEntry,
    /// Its 1-based position in the record.
    pub seq: u64,
    /// When it was recorded, in milliseconds since the Unix epoch.
    pub created_at: u64,
    /// For a model's answer: the size in tokens of the prompt that produced it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<u64>,
}

impl From<&Recorded> for RecordRow {
    fn from(row: &Recorded) -> Self {
        Self {
            entry: match &row.entry {
                RecordEntry::Message(message) => RecordRowEntry::Message(message.clone()),
                RecordEntry::Revert { at_message } => RecordRowEntry::Marker(Marker::Revert {
                    at_message: *at_message,
                }),
                RecordEntry::Compaction(compaction) => RecordRowEntry::Marker(Marker::Compaction(compaction.clone())),
            },
            seq: row.seq,
            created_at: row.created_ms,
            prompt_tokens: (row.prompt_tokens > 0).then_some(row.prompt_tokens),
        }
    }
}

/// `GET /session/{id}/messages`' answer.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessagesReply {
    /// The session's id.
    pub session_id: String,
    /// The record, oldest first.
    pub messages: Vec<RecordRow>,
}

/// How a file changed, as `git status --short` writes it.
#[derive(Serialize, ToSchema)]
pub enum ChangeLetter {
    /// Added.
    A,
    /// Modified.
    M,
    /// Deleted.
    D,
}

impl From<FileChangeKind> for ChangeLetter {
    fn from(kind: FileChangeKind) -> Self {
        match kind {
            FileChangeKind::Added => Self::A,
            FileChangeKind::Modified => Self::M,
            FileChangeKind::Deleted => Self::D,
        }
    }
}

/// A file a checkpoint changed.
#[derive(Serialize, ToSchema)]
pub struct FileChange {
    /// How it changed.
    pub change: ChangeLetter,
    /// Its path.
    pub path: String,
}

/// The working tree after a turn.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointJson {
    /// The message after which the working tree stood so (0: before any message).
    pub seq: u64,
    /// When it was recorded, in milliseconds since the Unix epoch.
    pub created_at: u64,
    /// The changes in a line: `2 files changed: M src/a.ts, A b.md`.
    pub summary: String,
    /// The files changed since the previous checkpoint, sorted by path.
    pub changes: Vec<FileChange>,
}

/// `GET /session/{id}/checkpoints`' answer.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointList {
    /// The session's id.
    pub session_id: String,
    /// The checkpoints, oldest first.
    pub checkpoints: Vec<CheckpointJson>,
}

/// The body of `POST /session/{id}/revert`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RevertBody {
    /// The message to go back to: files and conversation as they stood after it.
    pub at_message: u64,
}

/// `POST /session/{id}/revert`'s answer.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevertReply {
    /// The message reverted to.
    pub at_message: u64,
    /// The `seq` of the revert marker appended to the record.
    pub marker: u64,
    /// The checkpoint whose files the working tree now holds.
    pub checkpoint: u64,
}

/// The body of `POST /session/{id}/fork`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ForkBody {
    /// Cut the copy's conversation after this message (default: keep it all).
    pub at_message: Option<u64>,
}

/// `POST /session/{id}/fork`'s answer.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ForkReply {
    /// The new session's id.
    pub session_id: String,
    /// The session it was copied from.
    pub forked_from: String,
    /// Where its conversation was cut (`null`: not cut).
    pub at_message: Option<u64>,
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

/// A directory entry's kind.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EntryKindJson {
    /// A file.
    File,
    /// A directory.
    Directory,
}

/// An entry of a directory listing.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirEntryJson {
    /// Its name (the last segment of its path).
    pub name: String,
    /// File or directory.
    pub kind: EntryKindJson,
    /// Size in bytes (0 for a directory).
    pub size: u64,
    /// Last modification, in milliseconds since the Unix epoch.
    pub mtime_ms: u64,
}

/// A directory's listing.
#[derive(Serialize, ToSchema)]
pub struct DirectoryListing {
    /// The directory's path.
    pub path: String,
    /// Its entries.
    pub entries: Vec<DirEntryJson>,
}

/// The answer to a file created by `PUT`.
#[derive(Serialize, ToSchema)]
pub struct FileCreated {
    /// The file's git blob id (also its `ETag`, quoted).
    pub etag: String,
}

/// The query of `DELETE /session/{id}/files/{path}`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Remove a directory with its contents.
    #[serde(default)]
    pub recursive: bool,
}

/// The query of the archive routes.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArchiveQuery {
    /// A branch, tag or commit whose files to send (default: the working tree).
    #[serde(rename = "ref")]
    #[param(rename = "ref")]
    pub rev: Option<String>,
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
}

/// `?service=` on `info/refs`: present, the client speaks git's smart protocol.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServiceQuery {
    /// `git-upload-pack` (clone, fetch) or `git-receive-pack` (push).
    pub service: Option<String>,
}

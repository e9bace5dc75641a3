//! The conversation: its record, checkpoints, revert and fork.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::message::Message;
use crate::storage::FileChangeKind;
use crate::storage::conversation::{Compaction, RecordEntry, Recorded};

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

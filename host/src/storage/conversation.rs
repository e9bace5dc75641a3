//! The session's persisted conversation, in the `messages` table.
//!
//! The record is append-only: every message ever stored stays, in order, numbered by `seq` from 1.
//! What the model sees is a **view** of it: a chain of rows linked by `parent`, ending at the
//! `view_tip` of the last row. Appending extends the chain. Two kinds of marker rows change the
//! view without removing anything from the record:
//!
//! - a **revert** moves the tip back to the view as it stood after an earlier row; it is never
//!   itself in a chain;
//! - a **compaction** joins the chain and stands for everything before it but the rows from its
//!   `keepFrom`: the view is its summary, then the chain's rows from `keepFrom`, then the rows
//!   appended after it. Walking the chain back from the tip stops there, so reading the view
//!   costs what the model sees, not what the session ever stored.

use rusqlite::{Connection, OptionalExtension, params};

use super::{StorageError, now_ms};
use crate::message::{ContentBlock, Message, Role};

/// The `messages` table.
#[derive(Clone, Copy)]
pub struct Conversation<'a> {
    conn: &'a Connection,
}

/// The role stored for a revert marker.
const REVERT: &str = "revert";
/// The role stored for a compaction marker.
const COMPACTION: &str = "compaction";

/// One row of the full record.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// Its 1-based position in the record.
    pub seq: u64,
    /// When it was stored, milliseconds since the Unix epoch.
    pub created_ms: u64,
    /// For a model's answer: the size in tokens of the prompt that produced it (0: unknown).
    pub prompt_tokens: u64,
    /// What it is.
    pub entry: RecordEntry,
}

/// What a row of the record holds.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordEntry {
    /// A message of the conversation.
    Message(Message),
    /// A revert: from here on, the model's view continued from message `at_message`.
    Revert {
        /// The message the view went back to (0: the empty conversation).
        at_message: u64,
    },
    /// A compaction: from here on, the model's view is `summary`, then the view's rows from
    /// `keep_from`.
    Compaction(Compaction),
}

/// A compaction marker's content.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Compaction {
    /// What the model is told of the turns it no longer sees.
    pub summary: String,
    /// The first row kept verbatim (0: none).
    pub keep_from: u64,
    /// The estimated prompt size before the compaction, in tokens.
    pub tokens_before: u64,
}

/// A message to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    /// The message.
    pub message: Message,
    /// For a model's answer: the size in tokens of the prompt that produced it (0: unknown).
    pub prompt_tokens: u64,
}

impl From<Message> for NewMessage {
    fn from(message: Message) -> Self {
        Self {
            message,
            prompt_tokens: 0,
        }
    }
}

/// Why a compaction was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompactionRefused {
    /// `keep_from` names no message of the model's view.
    #[error("keep-from {0} is not a message of the model's view")]
    NotInView(u64),
    /// `keep_from` is a message of tool results, which would be kept without their calls.
    #[error("keep-from {0} is a message of tool results: keeping it would cut them from their calls")]
    SplitsToolCall(u64),
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

fn role_of(name: &str) -> Result<Role, StorageError> {
    match name {
        "user" => Ok(Role::User),
        "assistant" => Ok(Role::Assistant),
        other => Err(StorageError::corrupt("messages", format!("unknown role '{other}'"))),
    }
}

fn decode_entry(role: &str, content: &str) -> Result<RecordEntry, StorageError> {
    match role {
        REVERT => {
            let at: serde_json::Value = serde_json::from_str(content)?;
            let at_message = at["atMessage"].as_u64().ok_or_else(|| {
                StorageError::corrupt("messages", format!("revert marker without atMessage: {content}"))
            })?;
            Ok(RecordEntry::Revert { at_message })
        }
        COMPACTION => Ok(RecordEntry::Compaction(serde_json::from_str(content)?)),
        _ => Ok(RecordEntry::Message(Message {
            role: role_of(role)?,
            content: serde_json::from_str(content)?,
        })),
    }
}

/// The columns [`Conversation::decode_rows`] reads, in its order.
const COLUMNS: &str = "seq, created_ms, prompt_tokens, role, content";

impl<'a> Conversation<'a> {
    pub(super) fn new(conn: &'a Connection) -> Self {
        Self { conn }
    }

    /// The rows of the model's view, oldest first: a compaction marker first when the view was
    /// compacted, then messages (never a revert marker).
    pub fn view(&self) -> Result<Vec<Recorded>, StorageError> {
        let Some(tip) = self.tip()? else {
            return Ok(Vec::new());
        };
        // Back from the tip to the first compaction marker on the way (inclusive).
        let mut stmt = self.conn.prepare_cached(&format!(
            "WITH RECURSIVE chain(seq, parent, role) AS (
                 SELECT seq, parent, role FROM messages WHERE seq = ?1
                 UNION ALL
                 SELECT m.seq, m.parent, m.role FROM messages m JOIN chain ON m.seq = chain.parent
                 WHERE chain.role != '{COMPACTION}'
             )
             SELECT {COLUMNS} FROM messages WHERE seq IN (SELECT seq FROM chain) ORDER BY seq"
        ))?;
        let mut rows = Self::decode_rows(stmt.query([tip as i64])?)?;
        if rows.iter().any(|row| matches!(row.entry, RecordEntry::Revert { .. })) {
            return Err(StorageError::corrupt("messages", "a revert marker in the model's view"));
        }
        let Some(Recorded {
            seq: marker,
            entry: RecordEntry::Compaction(compaction),
            ..
        }) = rows.first()
        else {
            return Ok(rows);
        };
        if compaction.keep_from == 0 {
            return Ok(rows);
        }
        // The rows the compaction kept: back from the marker's parent to `keep_from`, skipping
        // older markers on the way.
        let mut stmt = self.conn.prepare_cached(&format!(
            "WITH RECURSIVE kept(seq, parent) AS (
                 SELECT seq, parent FROM messages WHERE seq = (SELECT parent FROM messages WHERE seq = ?1)
                 UNION ALL
                 SELECT m.seq, m.parent FROM messages m JOIN kept ON m.seq = kept.parent WHERE m.seq >= ?2
             )
             SELECT {COLUMNS} FROM messages
             WHERE seq IN (SELECT seq FROM kept) AND seq >= ?2 AND role != '{COMPACTION}' ORDER BY seq"
        ))?;
        let kept = Self::decode_rows(stmt.query(params![*marker as i64, compaction.keep_from as i64])?)?;
        if kept.first().map(|row| row.seq) != Some(compaction.keep_from) {
            return Err(StorageError::corrupt(
                "messages",
                format!(
                    "compaction {marker} keeps from {}, not in its view",
                    compaction.keep_from
                ),
            ));
        }
        let marker_row = rows.remove(0);
        Ok(std::iter::once(marker_row).chain(kept).chain(rows).collect())
    }

    fn decode_rows(mut rows: rusqlite::Rows<'_>) -> Result<Vec<Recorded>, StorageError> {
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(Recorded {
                seq: row.get::<_, i64>(0)? as u64,
                created_ms: row.get::<_, i64>(1)? as u64,
                prompt_tokens: row.get::<_, i64>(2)? as u64,
                entry: decode_entry(row.get_ref(3)?.as_str()?, row.get_ref(4)?.as_str()?)?,
            });
        }
        Ok(out)
    }

    /// The whole record, markers included, oldest first.
    pub fn record(&self) -> Result<Vec<Recorded>, StorageError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM messages ORDER BY seq"))?;
        Self::decode_rows(stmt.query([])?)
    }

    /// The last message of the model's view (`None`: the view is empty).
    fn tip(&self) -> Result<Option<u64>, StorageError> {
        let tip: Option<Option<i64>> = self
            .conn
            .prepare_cached("SELECT view_tip FROM messages ORDER BY seq DESC LIMIT 1")?
            .query_row([], |row| row.get(0))
            .optional()?;
        Ok(tip.flatten().filter(|&t| t > 0).map(|t| t as u64))
    }

    /// The `seq` of the last row of the record (0: the record is empty).
    pub fn last_seq(&self) -> Result<u64, StorageError> {
        Ok(self
            .conn
            .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM messages")?
            .query_row([], |row| row.get::<_, i64>(0))? as u64)
    }

    /// Inserts one row at the end of the record, extending the view's chain from `parent`; with
    /// `own_tip` the view ends at the row itself. Returns its `seq`.
    fn insert(&self, role: &str, content: &str, prompt_tokens: u64, parent: Option<u64>) -> Result<u64, StorageError> {
        self.conn
            .prepare_cached(
                "INSERT INTO messages(role, content, created_ms, prompt_tokens, parent, view_tip)
                 VALUES (?1, ?2, ?3, ?4, ?5, (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages))",
            )?
            .execute(params![
                role,
                content,
                now_ms() as i64,
                prompt_tokens as i64,
                parent.map(|p| p as i64)
            ])?;
        Ok(self.conn.last_insert_rowid() as u64)
    }

    /// Appends messages to the record and the model's view (in the caller's transaction: all of
    /// them or none). Returns the `seq` of the last row.
    pub fn append(&self, messages: &[NewMessage]) -> Result<u64, StorageError> {
        let mut parent = self.tip()?;
        for new in messages {
            let content = serde_json::to_string(&new.message.content)?;
            parent = Some(self.insert(role_name(new.message.role), &content, new.prompt_tokens, parent)?);
        }
        self.last_seq()
    }

    /// Appends a compaction marker: the model's view becomes `compaction.summary`, then the
    /// view's messages from `compaction.keep_from` (0: none), then what is appended after.
    /// Returns the marker's `seq`, or why it was refused (nothing then changes).
    pub fn append_compaction(&self, compaction: &Compaction) -> Result<Result<u64, CompactionRefused>, StorageError> {
        let keep_from = compaction.keep_from;
        if keep_from != 0 {
            let view = self.view()?;
            let kept = view.iter().find_map(|row| match &row.entry {
                RecordEntry::Message(message) if row.seq == keep_from => Some(message),
                _ => None,
            });
            let Some(kept) = kept else {
                return Ok(Err(CompactionRefused::NotInView(keep_from)));
            };
            if kept.content.iter().any(|b| matches!(b, ContentBlock::ToolResult(_))) {
                return Ok(Err(CompactionRefused::SplitsToolCall(keep_from)));
            }
        }
        let content = serde_json::to_string(compaction)?;
        Ok(Ok(self.insert(COMPACTION, &content, 0, self.tip()?)?))
    }

    /// Appends a revert marker: the model's view becomes what it was after row `at_message`
    /// (0: empty). Returns the marker's `seq`, or `None` when no row `at_message` exists.
    pub fn append_revert(&self, at_message: u64) -> Result<Option<u64>, StorageError> {
        let tip = if at_message == 0 {
            Some(0)
        } else {
            self.conn
                .prepare_cached("SELECT COALESCE(view_tip, 0) FROM messages WHERE seq = ?1")?
                .query_row([at_message as i64], |row| row.get::<_, i64>(0))
                .optional()?
        };
        let Some(tip) = tip else { return Ok(None) };
        self.conn
            .prepare_cached(
                "INSERT INTO messages(role, content, created_ms, parent, view_tip) VALUES (?1, ?2, ?3, NULL, ?4)",
            )?
            .execute(params![
                REVERT,
                serde_json::json!({ "atMessage": at_message }).to_string(),
                now_ms() as i64,
                tip
            ])?;
        Ok(Some(self.conn.last_insert_rowid() as u64))
    }

    /// Removes every row after `seq`, leaving the record (and view) as they stood after it.
    /// Only for a copy being made (a fork): a session's own record is append-only.
    pub fn cut_after(&self, seq: u64) -> Result<(), StorageError> {
        self.conn
            .prepare_cached("DELETE FROM messages WHERE seq > ?1")?
            .execute([seq as i64])?;
        Ok(())
    }

    /// The text of the first user message (the one that opened the conversation), if any.
    pub fn first_user_text(&self) -> Result<Option<String>, StorageError> {
        let content: Option<String> = self
            .conn
            .prepare_cached("SELECT content FROM messages WHERE role = 'user' ORDER BY seq LIMIT 1")?
            .query_row([], |row| row.get(0))
            .optional()?;
        let Some(content) = content else { return Ok(None) };
        let blocks: Vec<ContentBlock> = serde_json::from_str(&content)?;
        Ok(blocks.into_iter().find_map(|block| match block {
            ContentBlock::Text { text } => Some(text),
            _ => None,
        }))
    }

    /// Number of rows in the record (messages and markers).
    pub fn count(&self) -> Result<u64, StorageError> {
        Ok(self
            .conn
            .prepare_cached("SELECT COUNT(*) FROM messages")?
            .query_row([], |row| row.get::<_, i64>(0))? as u64)
    }

    /// Number of compaction markers in the record.
    pub fn compactions(&self) -> Result<u64, StorageError> {
        Ok(self
            .conn
            .prepare_cached(&format!("SELECT COUNT(*) FROM messages WHERE role = '{COMPACTION}'"))?
            .query_row([], |row| row.get::<_, i64>(0))? as u64)
    }

    /// The size in tokens of the last prompt a model answered (0: none known).
    pub fn last_prompt_tokens(&self) -> Result<u64, StorageError> {
        Ok(self
            .conn
            .prepare_cached("SELECT prompt_tokens FROM messages WHERE prompt_tokens > 0 ORDER BY seq DESC LIMIT 1")?
            .query_row([], |row| row.get::<_, i64>(0))
            .optional()?
            .unwrap_or(0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{ToolCall, ToolResult};
    use crate::storage::tests::db;

    /// The messages of the model's view (a compaction's summary as a user message).
    fn history(db: &crate::storage::SessionDb) -> Vec<Message> {
        db.read(|s| s.conversation().view())
            .unwrap()
            .into_iter()
            .map(|row| match row.entry {
                RecordEntry::Message(message) => message,
                RecordEntry::Compaction(c) => text(Role::User, &format!("summary: {}", c.summary)),
                RecordEntry::Revert { .. } => unreachable!(),
            })
            .collect()
    }

    fn append(db: &mut crate::storage::SessionDb, messages: Vec<Message>) -> u64 {
        let new: Vec<NewMessage> = messages.into_iter().map(NewMessage::from).collect();
        db.write(|s| s.conversation().append(&new)).unwrap()
    }

    #[test]
    fn append_and_read_back_in_order() {
        let (_tmp, mut db) = db(Default::default());
        let call = ToolCall {
            id: "t1".into(),
            name: "read".into(),
            arguments: "{\"path\":\"/a\"}".into(),
        };
        let msgs = vec![
            Message {
                role: Role::User,
                content: vec![ContentBlock::Text { text: "hi".into() }],
            },
            Message {
                role: Role::Assistant,
                content: vec![ContentBlock::ToolCall(call)],
            },
            Message {
                role: Role::User,
                content: vec![ContentBlock::ToolResult(ToolResult {
                    call_id: "t1".into(),
                    content: "x".into(),
                    is_error: false,
                })],
            },
        ];
        append(&mut db, msgs[..1].to_vec());
        append(&mut db, msgs[1..].to_vec());
        assert_eq!(history(&db), msgs);
        assert_eq!(db.read(|s| s.conversation().count()).unwrap(), 3);
        assert_eq!(
            db.read(|s| s.conversation().first_user_text()).unwrap().as_deref(),
            Some("hi")
        );
    }

    fn text(role: Role, text: &str) -> Message {
        Message {
            role,
            content: vec![ContentBlock::Text { text: text.into() }],
        }
    }

    fn texts(messages: &[Message]) -> Vec<String> {
        messages
            .iter()
            .map(|m| match &m.content[0] {
                ContentBlock::Text { text } => text.clone(),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn reverts_move_the_models_view_and_keep_the_record() {
        let (_tmp, mut db) = db(Default::default());
        let view = |db: &crate::storage::SessionDb| texts(&history(db));
        let seq = append(
            &mut db,
            vec![text(Role::User, "1"), text(Role::Assistant, "2"), text(Role::User, "3")],
        );
        assert_eq!(seq, 3);
        assert_eq!(view(&db), ["1", "2", "3"]);
        assert_eq!(db.write(|s| s.conversation().append_revert(1)).unwrap(), Some(4));
        assert_eq!(view(&db), ["1"]);
        assert_eq!(append(&mut db, vec![text(Role::Assistant, "5")]), 5);
        assert_eq!(view(&db), ["1", "5"]);
        // Undoing the revert: back to how things stood after message 3.
        db.write(|s| s.conversation().append_revert(3)).unwrap();
        assert_eq!(view(&db), ["1", "2", "3"]);
        db.write(|s| s.conversation().append_revert(5)).unwrap();
        assert_eq!(view(&db), ["1", "5"]);
        // After a marker, the view is the one the marker made.
        db.write(|s| s.conversation().append_revert(4)).unwrap();
        assert_eq!(view(&db), ["1"]);
        db.write(|s| s.conversation().append_revert(0)).unwrap();
        assert_eq!(view(&db), Vec::<String>::new());
        assert_eq!(db.write(|s| s.conversation().append_revert(99)).unwrap(), None);
        let record = db.read(|s| s.conversation().record()).unwrap();
        assert_eq!(record.len(), 9);
        assert_eq!(record[3].entry, RecordEntry::Revert { at_message: 1 });
        assert_eq!(record[4].seq, 5);
        db.write(|s| s.conversation().cut_after(3)).unwrap();
        assert_eq!(view(&db), ["1", "2", "3"]);
    }

    #[test]
    fn an_unknown_stored_role_is_an_error_not_a_user() {
        let (_tmp, mut db) = db(Default::default());
        db.write(|s| {
            s.conn.execute(
                "INSERT INTO messages(role, content, created_ms, view_tip) VALUES ('system', '[]', 0, 1)",
                [],
            )?;
            Ok::<_, StorageError>(())
        })
        .unwrap();
        for err in [
            db.read(|s| s.conversation().view()).unwrap_err(),
            db.read(|s| s.conversation().record()).unwrap_err(),
        ] {
            assert!(err.to_string().contains("unknown role 'system'"), "{err}");
        }
    }

    fn compact(db: &mut crate::storage::SessionDb, summary: &str, keep_from: u64) -> Result<u64, CompactionRefused> {
        let compaction = Compaction {
            summary: summary.into(),
            keep_from,
            tokens_before: 1000,
        };
        db.write(|s| s.conversation().append_compaction(&compaction)).unwrap()
    }

    fn tool_turn(id: &str) -> Vec<Message> {
        vec![
            Message {
                role: Role::Assistant,
                content: vec![ContentBlock::ToolCall(ToolCall {
                    id: id.into(),
                    name: "read".into(),
                    arguments: "{}".into(),
                })],
            },
            Message {
                role: Role::User,
                content: vec![ContentBlock::ToolResult(ToolResult {
                    call_id: id.into(),
                    content: "x".into(),
                    is_error: false,
                })],
            },
        ]
    }

    #[test]
    fn compaction_shows_the_summary_and_the_kept_rows_and_keeps_the_record() {
        let (_tmp, mut db) = db(Default::default());
        let view = |db: &crate::storage::SessionDb| {
            history(db)
                .iter()
                .map(|m| match &m.content[0] {
                    ContentBlock::Text { text } => text.clone(),
                    ContentBlock::ToolCall(c) => format!("call {}", c.id),
                    ContentBlock::ToolResult(r) => format!("result {}", r.call_id),
                })
                .collect::<Vec<_>>()
        };
        append(&mut db, vec![text(Role::User, "1"), text(Role::Assistant, "2")]);
        append(&mut db, vec![text(Role::User, "3")]);
        append(&mut db, tool_turn("a")); // 4, 5
        // A tool result cannot lead the kept part; a row outside the view cannot either.
        assert_eq!(compact(&mut db, "s", 5), Err(CompactionRefused::SplitsToolCall(5)));
        assert_eq!(compact(&mut db, "s", 9), Err(CompactionRefused::NotInView(9)));
        assert_eq!(compact(&mut db, "first", 3), Ok(6));
        assert_eq!(view(&db), ["summary: first", "3", "call a", "result a"]);
        append(&mut db, vec![text(Role::Assistant, "7"), text(Role::User, "8")]);
        assert_eq!(view(&db), ["summary: first", "3", "call a", "result a", "7", "8"]);
        // The next compaction can only keep from what the model sees, and may reach back past
        // the previous marker.
        assert_eq!(compact(&mut db, "s", 2), Err(CompactionRefused::NotInView(2)));
        assert_eq!(compact(&mut db, "second", 4), Ok(9));
        assert_eq!(view(&db), ["summary: second", "call a", "result a", "7", "8"]);
        append(&mut db, vec![text(Role::Assistant, "10")]);
        assert_eq!(compact(&mut db, "third", 0), Ok(11));
        assert_eq!(view(&db), ["summary: third"]);
        append(&mut db, vec![text(Role::User, "12")]);
        assert_eq!(view(&db), ["summary: third", "12"]);
        // Reverting to before a compaction brings back the whole view; to after it, its view.
        db.write(|s| s.conversation().append_revert(5)).unwrap();
        assert_eq!(view(&db), ["1", "2", "3", "call a", "result a"]);
        db.write(|s| s.conversation().append_revert(10)).unwrap();
        assert_eq!(view(&db), ["summary: second", "call a", "result a", "7", "8", "10"]);
        let record = db.read(|s| s.conversation().record()).unwrap();
        assert_eq!(record.len(), 14);
        assert_eq!(db.read(|s| s.conversation().compactions()).unwrap(), 3);
    }

    #[test]
    fn the_last_prompt_size_is_the_latest_one_recorded() {
        let (_tmp, mut db) = db(Default::default());
        assert_eq!(db.read(|s| s.conversation().last_prompt_tokens()).unwrap(), 0);
        let answer = |tokens| NewMessage {
            message: text(Role::Assistant, "a"),
            prompt_tokens: tokens,
        };
        db.write(|s| {
            s.conversation()
                .append(&[text(Role::User, "q").into(), answer(1200), text(Role::User, "r").into()])
        })
        .unwrap();
        assert_eq!(db.read(|s| s.conversation().last_prompt_tokens()).unwrap(), 1200);
        db.write(|s| s.conversation().append(&[answer(1500)])).unwrap();
        assert_eq!(db.read(|s| s.conversation().last_prompt_tokens()).unwrap(), 1500);
        let record = db.read(|s| s.conversation().record()).unwrap();
        assert_eq!(
            record.iter().map(|r| r.prompt_tokens).collect::<Vec<_>>(),
            [0, 1200, 0, 1500]
        );
    }
}

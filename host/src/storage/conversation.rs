//! The session's persisted conversation, in the `messages` table.
//!
//! The record is append-only: every message ever stored stays, in order, numbered by `seq` from 1.
//! What the model sees is a **view** of it: a chain of messages linked by `parent`, ending at the
//! `view_tip` of the last row. Appending extends the chain; a revert appends a marker row that
//! moves the tip back to the view as it stood after an earlier message, so the record keeps
//! everything and the model continues from there.

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

/// One row of the full record.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// Its 1-based position in the record.
    pub seq: u64,
    /// When it was stored, milliseconds since the Unix epoch.
    pub created_ms: u64,
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
    if role == REVERT {
        let at: serde_json::Value = serde_json::from_str(content)?;
        let at_message = at["atMessage"]
            .as_u64()
            .ok_or_else(|| StorageError::corrupt("messages", format!("revert marker without atMessage: {content}")))?;
        return Ok(RecordEntry::Revert { at_message });
    }
    Ok(RecordEntry::Message(Message {
        role: role_of(role)?,
        content: serde_json::from_str(content)?,
    }))
}

impl<'a> Conversation<'a> {
    pub(super) fn new(conn: &'a Connection) -> Self {
        Self { conn }
    }

    /// The model's view of the conversation, oldest first: the whole record, less what reverts
    /// set aside.
    pub fn history(&self) -> Result<Vec<Message>, StorageError> {
        Ok(self
            .view()?
            .into_iter()
            .filter_map(|row| match row.entry {
                RecordEntry::Message(message) => Some(message),
                RecordEntry::Revert { .. } => None,
            })
            .collect())
    }

    /// The rows of the model's view, oldest first (never a marker).
    pub fn view(&self) -> Result<Vec<Recorded>, StorageError> {
        let Some(tip) = self.tip()? else {
            return Ok(Vec::new());
        };
        let mut stmt = self.conn.prepare_cached(
            "WITH RECURSIVE view(seq) AS (
                 SELECT ?1 UNION ALL SELECT m.parent FROM messages m JOIN view ON m.seq = view.seq
                 WHERE m.parent IS NOT NULL
             )
             SELECT seq, created_ms, role, content FROM messages WHERE seq IN (SELECT seq FROM view) ORDER BY seq",
        )?;
        let rows = Self::decode_rows(stmt.query([tip as i64])?)?;
        if rows.iter().any(|row| matches!(row.entry, RecordEntry::Revert { .. })) {
            return Err(StorageError::corrupt("messages", "a revert marker in the model's view"));
        }
        Ok(rows)
    }

    fn decode_rows(mut rows: rusqlite::Rows<'_>) -> Result<Vec<Recorded>, StorageError> {
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(Recorded {
                seq: row.get::<_, i64>(0)? as u64,
                created_ms: row.get::<_, i64>(1)? as u64,
                entry: decode_entry(row.get_ref(2)?.as_str()?, row.get_ref(3)?.as_str()?)?,
            });
        }
        Ok(out)
    }

    /// The whole record, markers included, oldest first.
    pub fn record(&self) -> Result<Vec<Recorded>, StorageError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT seq, created_ms, role, content FROM messages ORDER BY seq")?;
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

    /// Appends messages to the record and the model's view (in the caller's transaction: all of
    /// them or none). Returns the `seq` of the last row.
    pub fn append(&self, messages: &[Message]) -> Result<u64, StorageError> {
        let now = now_ms() as i64;
        let mut parent = self.tip()?;
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO messages(role, content, created_ms, parent, view_tip)
             VALUES (?1, ?2, ?3, ?4, (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages))",
        )?;
        for message in messages {
            stmt.execute(params![
                role_name(message.role),
                serde_json::to_string(&message.content)?,
                now,
                parent.map(|p| p as i64),
            ])?;
            parent = Some(self.conn.last_insert_rowid() as u64);
        }
        self.last_seq()
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{ToolCall, ToolResult};
    use crate::storage::tests::db;

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
        db.write(|s| s.conversation().append(&msgs[..1])).unwrap();
        db.write(|s| s.conversation().append(&msgs[1..])).unwrap();
        assert_eq!(db.read(|s| s.conversation().history()).unwrap(), msgs);
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
        let view = |db: &crate::storage::SessionDb| texts(&db.read(|s| s.conversation().history()).unwrap());
        let seq = db
            .write(|s| {
                s.conversation()
                    .append(&[text(Role::User, "1"), text(Role::Assistant, "2"), text(Role::User, "3")])
            })
            .unwrap();
        assert_eq!(seq, 3);
        assert_eq!(view(&db), ["1", "2", "3"]);
        assert_eq!(db.write(|s| s.conversation().append_revert(1)).unwrap(), Some(4));
        assert_eq!(view(&db), ["1"]);
        assert_eq!(
            db.write(|s| s.conversation().append(&[text(Role::Assistant, "5")]))
                .unwrap(),
            5
        );
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
            db.read(|s| s.conversation().history()).unwrap_err(),
            db.read(|s| s.conversation().record()).unwrap_err(),
        ] {
            assert!(err.to_string().contains("unknown role 'system'"), "{err}");
        }
    }
}

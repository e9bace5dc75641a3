//! The session's persisted conversation, in the `messages` table.

use rusqlite::{Connection, OptionalExtension, params};

use super::{StorageError, now_ms};
use crate::message::{ContentBlock, Message, Role};

/// The `messages` table.
#[derive(Clone, Copy)]
pub struct Conversation<'a> {
    conn: &'a Connection,
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

impl<'a> Conversation<'a> {
    pub(super) fn new(conn: &'a Connection) -> Self {
        Self { conn }
    }

    /// The whole conversation, oldest first.
    pub fn history(&self) -> Result<Vec<Message>, StorageError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT role, content FROM messages ORDER BY seq")?;
        let mut rows = stmt.query([])?;
        let mut messages = Vec::new();
        while let Some(row) = rows.next()? {
            let role = role_of(row.get_ref(0)?.as_str()?)?;
            let content: Vec<ContentBlock> = serde_json::from_str(row.get_ref(1)?.as_str()?)?;
            messages.push(Message { role, content });
        }
        Ok(messages)
    }

    /// Appends messages (in the caller's transaction: all of them or none).
    pub fn append(&self, messages: &[Message]) -> Result<(), StorageError> {
        let now = now_ms() as i64;
        let mut stmt = self
            .conn
            .prepare_cached("INSERT INTO messages(role, content, created_ms) VALUES (?1, ?2, ?3)")?;
        for message in messages {
            stmt.execute(params![
                role_name(message.role),
                serde_json::to_string(&message.content)?,
                now
            ])?;
        }
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

    /// Number of messages in the conversation.
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

    #[test]
    fn an_unknown_stored_role_is_an_error_not_a_user() {
        let (_tmp, mut db) = db(Default::default());
        db.write(|s| {
            s.conn.execute(
                "INSERT INTO messages(role, content, created_ms) VALUES ('system', '[]', 0)",
                [],
            )?;
            Ok::<_, StorageError>(())
        })
        .unwrap();
        let err = db.read(|s| s.conversation().history()).unwrap_err();
        assert!(err.to_string().contains("unknown role 'system'"), "{err}");
    }
}

//! The session's persisted conversation.

use rusqlite::params;

use super::{SessionDb, now_ms};
use crate::message::{ContentBlock, Message, Role};

/// Why the conversation could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ConversationError {
    /// SQLite failed.
    #[error("conversation storage: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored message does not decode.
    #[error("conversation storage holds a malformed message: {0}")]
    Malformed(#[from] serde_json::Error),
}

impl SessionDb {
    /// The whole conversation, oldest first.
    pub fn history(&self) -> Result<Vec<Message>, ConversationError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT role, content FROM messages ORDER BY seq")?;
        let mut rows = stmt.query([])?;
        let mut messages = Vec::new();
        while let Some(row) = rows.next()? {
            let role: String = row.get(0)?;
            let content: String = row.get(1)?;
            let role = if role == "assistant" {
                Role::Assistant
            } else {
                Role::User
            };
            let content: Vec<ContentBlock> = serde_json::from_str(&content)?;
            messages.push(Message { role, content });
        }
        Ok(messages)
    }

    /// Appends messages, all in one transaction.
    pub fn append_messages(&mut self, messages: &[Message]) -> Result<(), ConversationError> {
        let now = now_ms() as i64;
        let tx = self.conn.transaction()?;
        for message in messages {
            let role = match message.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            tx.execute(
                "INSERT INTO messages(role, content, created_ms) VALUES (?1, ?2, ?3)",
                params![role, serde_json::to_string(&message.content)?, now],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Number of messages in the conversation.
    pub fn message_count(&self) -> Result<u64, ConversationError> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM messages", [], |row| row.get::<_, i64>(0))? as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{ToolCall, ToolResult};
    use crate::storage::StorageOptions;

    #[test]
    fn append_and_read_back_in_order() {
        let tmp = tempfile::tempdir().unwrap();
        let mut db = SessionDb::create(
            &tmp.path().join("s.sqlite"),
            &tmp.path().join("b"),
            StorageOptions::default(),
        )
        .unwrap();
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
        db.append_messages(&msgs[..1]).unwrap();
        db.append_messages(&msgs[1..]).unwrap();
        assert_eq!(db.history().unwrap(), msgs);
        assert_eq!(db.message_count().unwrap(), 3);
    }
}

//! The one error of the storage layer: SQLite, the spill directory, or a stored row that does not
//! decode. Every store returns it (or a domain error that wraps it), with its source kept.

/// Storage failed: a host fault, not something the guest or a client did wrong.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// SQLite failed.
    #[error("session database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored value has the wrong SQLite type.
    #[error("session database value: {0}")]
    Value(#[from] rusqlite::types::FromSqlError),
    /// The spill directory failed.
    #[error("blob directory: {0}")]
    Io(#[from] std::io::Error),
    /// A stored row does not decode.
    #[error("corrupt {table} row: {detail}")]
    Corrupt {
        /// The table holding the row.
        table: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// A stored message is not valid JSON for its type.
    #[error("conversation storage holds a malformed message: {0}")]
    Malformed(#[from] serde_json::Error),
}

impl StorageError {
    /// A row of `table` that does not decode.
    pub(crate) fn corrupt(table: &'static str, detail: impl Into<String>) -> Self {
        Self::Corrupt {
            table,
            detail: detail.into(),
        }
    }
}

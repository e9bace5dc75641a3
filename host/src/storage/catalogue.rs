//! The catalogue: one small SQLite database (`catalogue.sqlite` in the data directory) with a row
//! per session, so listing sessions reads one index instead of opening every session's database.
//!
//! The sessions' own databases stay the truth; the catalogue is a cache of their summaries, kept
//! right across crashes by one rule: a row is marked **stale** before anything changes its session,
//! and cleared only when the summary written after the change is stored. A crash in between
//! leaves the row stale, and the server recomputes every stale row from its session's database
//! when it starts ([`crate::service::ChatService::reconcile`]), before it serves a request.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

use super::{StorageError, schema};

const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    tenant        TEXT NOT NULL,              -- the owner's name ('' for the single-user server)
    created_ms    INTEGER NOT NULL,
    updated_ms    INTEGER NOT NULL,
    head          TEXT,                       -- HEAD's commit id
    branch        TEXT,                       -- the current branch (NULL: detached)
    file_count    INTEGER NOT NULL,
    message_count INTEGER NOT NULL,
    title         TEXT,                       -- the first user message, cut short
    stale         INTEGER NOT NULL            -- 1 while the session may differ from this row
) WITHOUT ROWID;
CREATE INDEX sessions_newest_first ON sessions(tenant, created_ms DESC, id DESC);
",
    "
-- 1 once a summary was stored: the session is finished (a creation in progress is not listed).
ALTER TABLE sessions ADD COLUMN recorded INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET recorded = 1 WHERE stale = 0;
",
];

/// One session as the catalogue lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSummary {
    /// The session's id.
    pub id: String,
    /// The owner's name (`""` on a single-user server).
    pub tenant: String,
    /// When the session was created, milliseconds since the Unix epoch.
    pub created_ms: u64,
    /// When it last changed, milliseconds since the Unix epoch.
    pub updated_ms: u64,
    /// HEAD's commit id.
    pub head: Option<String>,
    /// The current branch (`None`: detached HEAD, or no repository).
    pub branch: Option<String>,
    /// Files in the working tree.
    pub file_count: u64,
    /// Messages in the conversation.
    pub message_count: u64,
    /// The first user message, cut short.
    pub title: Option<String>,
}

/// Where a page of the listing starts: after the session created at `created_ms` with `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The creation time of the last session of the previous page.
    pub created_ms: u64,
    /// Its id (ties on time are ordered by id, descending).
    pub id: String,
}

/// The catalogue database.
#[derive(Debug)]
pub struct Catalogue {
    conn: Mutex<Connection>,
}

fn summary_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<SessionSummary> {
    Ok(SessionSummary {
        id: row.get(0)?,
        tenant: row.get(1)?,
        created_ms: row.get::<_, i64>(2)? as u64,
        updated_ms: row.get::<_, i64>(3)? as u64,
        head: row.get(4)?,
        branch: row.get(5)?,
        file_count: row.get::<_, i64>(6)? as u64,
        message_count: row.get::<_, i64>(7)? as u64,
        title: row.get(8)?,
    })
}

const SUMMARY_COLUMNS: &str = "id, tenant, created_ms, updated_ms, head, branch, file_count, message_count, title";

impl Catalogue {
    /// Opens (creating or migrating) the catalogue at `path`.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        schema::apply(&conn, MIGRATIONS)?;
        Ok(Self { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic mid-statement leaves nothing half-done in SQLite: the connection stays usable.
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Marks a session stale, adding a stale row for `tenant` created at `created_ms` if it has
    /// none. Call before changing (or creating, or deleting) the session.
    pub fn mark_stale(&self, id: &str, tenant: &str, created_ms: u64) -> Result<(), StorageError> {
        self.conn()
            .prepare_cached(
                "INSERT INTO sessions(id, tenant, created_ms, updated_ms, file_count, message_count, stale)
                 VALUES (?1, ?2, ?3, ?3, 0, 0, 1)
                 ON CONFLICT(id) DO UPDATE SET stale = 1",
            )?
            .execute(params![id, tenant, created_ms as i64])?;
        Ok(())
    }

    /// Stores a session's summary and clears its stale mark.
    pub fn record(&self, summary: &SessionSummary) -> Result<(), StorageError> {
        self.conn()
            .prepare_cached(
                "INSERT INTO sessions(id, tenant, created_ms, updated_ms, head, branch, file_count, message_count, title, stale, recorded)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, 1)
                 ON CONFLICT(id) DO UPDATE SET tenant = excluded.tenant, created_ms = excluded.created_ms,
                    updated_ms = excluded.updated_ms, head = excluded.head, branch = excluded.branch,
                    file_count = excluded.file_count, message_count = excluded.message_count,
                    title = excluded.title, stale = 0, recorded = 1",
            )?
            .execute(params![
                summary.id,
                summary.tenant,
                summary.created_ms as i64,
                summary.updated_ms as i64,
                summary.head,
                summary.branch,
                summary.file_count as i64,
                summary.message_count as i64,
                summary.title,
            ])?;
        Ok(())
    }

    /// Forgets a session.
    pub fn remove(&self, id: &str) -> Result<(), StorageError> {
        self.conn()
            .prepare_cached("DELETE FROM sessions WHERE id = ?1")?
            .execute([id])?;
        Ok(())
    }

    /// The ids of every session with a row, and whether each is stale.
    pub fn rows(&self) -> Result<Vec<(String, bool)>, StorageError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT id, stale FROM sessions")?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get::<_, i64>(1)? != 0)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many sessions are listed (those still being created are not).
    pub fn count(&self) -> Result<u64, StorageError> {
        let count: i64 = self
            .conn()
            .prepare_cached("SELECT count(*) FROM sessions WHERE recorded = 1")?
            .query_row([], |row| row.get(0))?;
        Ok(count.unsigned_abs())
    }

    /// The owner of a session, if the catalogue knows it.
    pub fn tenant_of(&self, id: &str) -> Result<Option<String>, StorageError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT tenant FROM sessions WHERE id = ?1")?
            .query_row([id], |row| row.get(0))
            .optional()?)
    }

    /// Up to `limit` of `tenant`'s sessions, newest first, starting after `after`. A session
    /// still being created (marked, never recorded) is not listed.
    pub fn page(
        &self,
        tenant: &str,
        limit: usize,
        after: Option<&Cursor>,
    ) -> Result<Vec<SessionSummary>, StorageError> {
        let conn = self.conn();
        let limit = limit as i64;
        let rows = match after {
            None => conn
                .prepare_cached(&format!(
                    "SELECT {SUMMARY_COLUMNS} FROM sessions WHERE tenant = ?1 AND recorded = 1
                     ORDER BY created_ms DESC, id DESC LIMIT ?2"
                ))?
                .query_map(params![tenant, limit], summary_from_row)?
                .collect::<Result<Vec<_>, _>>()?,
            Some(cursor) => conn
                .prepare_cached(&format!(
                    "SELECT {SUMMARY_COLUMNS} FROM sessions WHERE tenant = ?1 AND recorded = 1
                     AND (created_ms, id) < (?2, ?3)
                     ORDER BY created_ms DESC, id DESC LIMIT ?4"
                ))?
                .query_map(
                    params![tenant, cursor.created_ms as i64, cursor.id, limit],
                    summary_from_row,
                )?
                .collect::<Result<Vec<_>, _>>()?,
        };
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(id: &str, created_ms: u64) -> SessionSummary {
        SessionSummary {
            id: id.into(),
            tenant: String::new(),
            created_ms,
            updated_ms: created_ms,
            head: None,
            branch: Some("main".into()),
            file_count: 1,
            message_count: 0,
            title: None,
        }
    }

    #[test]
    fn pages_run_newest_first_and_stale_marks_clear_on_record() {
        let tmp = tempfile::tempdir().unwrap();
        let catalogue = Catalogue::open(&tmp.path().join("catalogue.sqlite")).unwrap();
        for (id, t) in [("a", 1), ("b", 2), ("c", 2), ("d", 3)] {
            catalogue.mark_stale(id, "", t).unwrap();
            catalogue.record(&summary(id, t)).unwrap();
        }
        catalogue.mark_stale("other", "bob", 9).unwrap();
        catalogue.mark_stale("creating", "", 99).unwrap();
        let first = catalogue.page("", 2, None).unwrap();
        assert_eq!(
            first.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            ["d", "c"],
            "a session being created is not listed"
        );
        let last = first.last().unwrap();
        let cursor = Cursor {
            created_ms: last.created_ms,
            id: last.id.clone(),
        };
        let second = catalogue.page("", 2, Some(&cursor)).unwrap();
        assert_eq!(second.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["b", "a"]);
        catalogue.mark_stale("b", "", 0).unwrap();
        let mut rows = catalogue.rows().unwrap();
        rows.sort();
        assert_eq!(
            rows,
            [
                ("a", false),
                ("b", true),
                ("c", false),
                ("creating", true),
                ("d", false),
                ("other", true)
            ]
            .map(|(id, stale)| (id.to_string(), stale))
        );
        assert_eq!(catalogue.tenant_of("other").unwrap().as_deref(), Some("bob"));
        catalogue.remove("other").unwrap();
        assert_eq!(catalogue.tenant_of("other").unwrap(), None);
    }
}

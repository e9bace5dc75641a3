//! HEAD and branches, in the `refs` table.

use gix_hash::ObjectId;
use rusqlite::{OptionalExtension, params};

use super::{GitError, Repo};
use crate::storage::SessionDb;

const HEAD: &str = "HEAD";
const BRANCH_PREFIX: &str = "refs/heads/";

/// A branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branch {
    /// Its short name (`main`).
    pub name: String,
    /// The commit it points at.
    pub head: ObjectId,
    /// Whether HEAD is on it.
    pub current: bool,
}

pub(super) fn head_value(db: &SessionDb) -> Result<Option<String>, GitError> {
    Ok(db
        .conn()
        .query_row("SELECT value FROM refs WHERE name = ?1", [HEAD], |r| r.get(0))
        .optional()?)
}

pub(super) fn init(db: &mut SessionDb) -> Result<bool, GitError> {
    if head_value(db)?.is_some() {
        return Ok(false);
    }
    db.conn().execute(
        "INSERT INTO refs(name, value) VALUES (?1, ?2)",
        params![HEAD, "ref: refs/heads/main"],
    )?;
    Ok(true)
}

/// Whether `name` is a branch name git would accept (the common subset of `git check-ref-format`).
pub(super) fn valid_branch_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && !name.starts_with(['-', '/', '.'])
        && !name.ends_with(['/', '.'])
        && !name.ends_with(".lock")
        && !name.contains("..")
        && !name.contains("//")
        && !name.contains("@{")
        && !name.split('/').any(|c| c.starts_with('.'))
        && !name.bytes().any(|b| b < 0x20 || b == 0x7f || b" ~^:?*[\\".contains(&b))
}

fn parse_id(hex: &str) -> Result<ObjectId, GitError> {
    ObjectId::from_hex(hex.as_bytes()).map_err(|e| GitError::Storage(format!("bad object id '{hex}': {e}")))
}

impl Repo<'_> {
    /// The branch HEAD is on, if any (`None` when detached).
    pub fn current_branch(&self) -> Result<Option<String>, GitError> {
        let head = head_value(self.db)?.ok_or(GitError::NotARepository)?;
        Ok(head
            .strip_prefix("ref: ")
            .and_then(|r| r.strip_prefix(BRANCH_PREFIX))
            .map(str::to_string))
    }

    /// The commit HEAD points at; `None` before the first commit.
    pub fn head_commit(&self) -> Result<Option<ObjectId>, GitError> {
        let head = head_value(self.db)?.ok_or(GitError::NotARepository)?;
        match head.strip_prefix("ref: ") {
            Some(name) => self.ref_target(name),
            None => parse_id(&head).map(Some),
        }
    }

    fn ref_target(&self, name: &str) -> Result<Option<ObjectId>, GitError> {
        let value: Option<String> = self
            .db
            .conn()
            .query_row("SELECT value FROM refs WHERE name = ?1", [name], |r| r.get(0))
            .optional()?;
        value.map(|v| parse_id(&v)).transpose()
    }

    /// Moves what HEAD stands for (its branch, or HEAD itself when detached) to `id`.
    pub(super) fn advance_head(&self, id: ObjectId) -> Result<(), GitError> {
        let head = head_value(self.db)?.ok_or(GitError::NotARepository)?;
        let name = head.strip_prefix("ref: ").unwrap_or(HEAD);
        self.set_ref(name, &id.to_hex().to_string())
    }

    fn set_ref(&self, name: &str, value: &str) -> Result<(), GitError> {
        self.db.conn().execute(
            "INSERT INTO refs(name, value) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            params![name, value],
        )?;
        Ok(())
    }

    /// Points HEAD at a branch, or at a commit (detached).
    pub(super) fn set_head(&self, branch: Option<&str>, id: ObjectId) -> Result<(), GitError> {
        match branch {
            Some(b) => self.set_ref(HEAD, &format!("ref: {BRANCH_PREFIX}{b}")),
            None => self.set_ref(HEAD, &id.to_hex().to_string()),
        }
    }

    /// Every branch, sorted by name.
    pub fn branches(&self) -> Result<Vec<Branch>, GitError> {
        self.require_repo()?;
        let current = self.current_branch()?;
        let mut stmt = self
            .db
            .conn()
            .prepare("SELECT name, value FROM refs WHERE name LIKE 'refs/heads/%' ORDER BY name")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (name, value) = row?;
            let name = name[BRANCH_PREFIX.len()..].to_string();
            out.push(Branch {
                current: current.as_deref() == Some(name.as_str()),
                head: parse_id(&value)?,
                name,
            });
        }
        Ok(out)
    }

    /// Creates a branch at HEAD.
    pub fn create_branch(&mut self, name: &str) -> Result<Branch, GitError> {
        if !valid_branch_name(name) {
            return Err(GitError::InvalidName(name.to_string()));
        }
        let head = self.head_commit()?.ok_or(GitError::NoCommits)?;
        let full = format!("{BRANCH_PREFIX}{name}");
        if self.ref_target(&full)?.is_some() {
            return Err(GitError::BranchExists(name.to_string()));
        }
        self.set_ref(&full, &head.to_hex().to_string())?;
        Ok(Branch {
            name: name.to_string(),
            head,
            current: false,
        })
    }

    /// Resolves a branch name, `HEAD`, or a full or abbreviated (≥ 4 hex digits) commit id.
    /// Returns the commit and, for a branch, its name.
    pub fn resolve(&self, rev: &str) -> Result<(ObjectId, Option<String>), GitError> {
        self.require_repo()?;
        let unknown = || GitError::UnknownRevision(rev.to_string());
        if rev == HEAD {
            return Ok((self.head_commit()?.ok_or(GitError::NoCommits)?, None));
        }
        if valid_branch_name(rev)
            && let Some(id) = self.ref_target(&format!("{BRANCH_PREFIX}{rev}"))?
        {
            return Ok((id, Some(rev.to_string())));
        }
        if rev.len() >= 4 && rev.len() <= 40 && rev.bytes().all(|b| b.is_ascii_hexdigit()) {
            let prefix = rev.to_ascii_lowercase();
            let mut stmt = self
                .db
                .conn()
                .prepare("SELECT id FROM objects WHERE id >= ?1 AND id < ?2 AND kind = 1 LIMIT 2")?;
            let upper = format!("{prefix}g");
            let ids: Vec<String> = stmt
                .query_map(params![prefix, upper], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            if ids.len() == 1 {
                return Ok((parse_id(&ids[0])?, None));
            }
        }
        Err(unknown())
    }

    /// Every branch as a full ref name with its commit, for a dumb-HTTP client's `info/refs`.
    pub fn advertised_refs(&self) -> Result<Vec<(String, ObjectId)>, GitError> {
        Ok(self
            .branches()?
            .into_iter()
            .map(|b| (format!("{BRANCH_PREFIX}{}", b.name), b.head))
            .collect())
    }

    /// What HEAD holds: `ref: refs/heads/<branch>`, or a commit id when detached.
    pub fn head_ref(&self) -> Result<String, GitError> {
        head_value(self.db)?.ok_or(GitError::NotARepository)
    }
}

#[cfg(test)]
mod tests {
    use super::valid_branch_name;

    #[test]
    fn branch_names() {
        for ok in ["main", "feature/x", "v1.2", "a-b_c"] {
            assert!(valid_branch_name(ok), "{ok}");
        }
        for bad in [
            "", "-x", "a..b", "a b", "x.lock", "a/", ".hidden", "a/.b", "a:b", "a~1", "a^", "a\\b",
        ] {
            assert!(!valid_branch_name(bad), "{bad}");
        }
    }
}

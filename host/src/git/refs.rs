//! HEAD and branches: what refs mean to git (symbolic HEAD, branch names, revision syntax), over
//! the [`Refs`](crate::storage::Refs) store.

use gix_hash::ObjectId;

use super::{GitError, Repo};
use crate::storage::RefValue;

pub(super) const HEAD: &str = "HEAD";
pub(super) const BRANCH_PREFIX: &str = "refs/heads/";

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

impl Repo<'_> {
    /// HEAD's value; an error when there is no repository.
    pub(super) fn head(&self) -> Result<RefValue, GitError> {
        self.stores.refs().get(HEAD)?.ok_or(GitError::NotARepository)
    }

    pub(super) fn init_head(&self) -> Result<bool, GitError> {
        let refs = self.stores.refs();
        if refs.get(HEAD)?.is_some() {
            return Ok(false);
        }
        refs.set(HEAD, &RefValue::Symbolic(format!("{BRANCH_PREFIX}main")))?;
        Ok(true)
    }

    /// The branch HEAD is on, if any (`None` when detached).
    pub fn current_branch(&self) -> Result<Option<String>, GitError> {
        Ok(match self.head()? {
            RefValue::Symbolic(name) => name.strip_prefix(BRANCH_PREFIX).map(str::to_string),
            RefValue::Direct(_) => None,
        })
    }

    /// The commit HEAD points at; `None` before the first commit.
    pub fn head_commit(&self) -> Result<Option<ObjectId>, GitError> {
        match self.head()? {
            RefValue::Symbolic(name) => self.ref_target(&name),
            RefValue::Direct(id) => Ok(Some(id)),
        }
    }

    pub(super) fn ref_target(&self, name: &str) -> Result<Option<ObjectId>, GitError> {
        match self.stores.refs().get(name)? {
            None => Ok(None),
            Some(RefValue::Direct(id)) => Ok(Some(id)),
            // Only HEAD is symbolic; a branch that is would be a loop git refuses too.
            Some(RefValue::Symbolic(target)) => Err(GitError::UnknownRevision(format!("{name} -> {target}"))),
        }
    }

    /// Moves what HEAD stands for (its branch, or HEAD itself when detached) to `id`.
    pub(super) fn advance_head(&self, id: ObjectId) -> Result<(), GitError> {
        let name = match self.head()? {
            RefValue::Symbolic(name) => name,
            RefValue::Direct(_) => HEAD.to_string(),
        };
        Ok(self.stores.refs().set(&name, &RefValue::Direct(id))?)
    }

    /// Points HEAD at a branch, or at a commit (detached).
    pub(super) fn set_head(&self, branch: Option<&str>, id: ObjectId) -> Result<(), GitError> {
        let value = match branch {
            Some(b) => RefValue::Symbolic(format!("{BRANCH_PREFIX}{b}")),
            None => RefValue::Direct(id),
        };
        Ok(self.stores.refs().set(HEAD, &value)?)
    }

    /// Every branch, sorted by name.
    pub fn branches(&self) -> Result<Vec<Branch>, GitError> {
        let current = self.current_branch()?;
        Ok(self
            .stores
            .refs()
            .direct_with_prefix(BRANCH_PREFIX)?
            .into_iter()
            .map(|(full, head)| {
                let name = full[BRANCH_PREFIX.len()..].to_string();
                Branch {
                    current: current.as_deref() == Some(name.as_str()),
                    head,
                    name,
                }
            })
            .collect())
    }

    /// Creates a branch at HEAD.
    pub fn create_branch(&self, name: &str) -> Result<Branch, GitError> {
        if !valid_branch_name(name) {
            return Err(GitError::InvalidName(name.to_string()));
        }
        let head = self.head_commit()?.ok_or(GitError::NoCommits)?;
        let full = format!("{BRANCH_PREFIX}{name}");
        if self.ref_target(&full)?.is_some() {
            return Err(GitError::BranchExists(name.to_string()));
        }
        self.stores.refs().set(&full, &RefValue::Direct(head))?;
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
        if rev == HEAD {
            return Ok((self.head_commit()?.ok_or(GitError::NoCommits)?, None));
        }
        if valid_branch_name(rev)
            && let Some(id) = self.ref_target(&format!("{BRANCH_PREFIX}{rev}"))?
        {
            return Ok((id, Some(rev.to_string())));
        }
        if rev.len() >= 4 && rev.len() <= 40 && rev.bytes().all(|b| b.is_ascii_hexdigit()) {
            let found = self
                .stores
                .objects()
                .commits_with_prefix(&rev.to_ascii_lowercase(), 2)?;
            if let [id] = found[..] {
                return Ok((id, None));
            }
        }
        Err(GitError::UnknownRevision(rev.to_string()))
    }

    /// Every branch as a full ref name with its commit, for a dumb-HTTP client's `info/refs`.
    pub fn advertised_refs(&self) -> Result<Vec<(String, ObjectId)>, GitError> {
        self.require_repo()?;
        Ok(self.stores.refs().direct_with_prefix(BRANCH_PREFIX)?)
    }

    /// What HEAD holds, as git writes it: `ref: refs/heads/<branch>`, or a commit id when detached.
    pub fn head_ref(&self) -> Result<String, GitError> {
        Ok(match self.head()? {
            RefValue::Symbolic(name) => format!("ref: {name}"),
            RefValue::Direct(id) => id.to_hex().to_string(),
        })
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

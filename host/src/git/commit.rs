//! Commits: writing them (tree from the index, author from the session) and reading history.

use gix_hash::ObjectId;
use gix_object::FindExt;
use gix_object::bstr::ByteSlice;

use super::diff::{self, FileDiff};
use super::{DEFAULT_AUTHOR, GitError, Repo, tree};
use crate::storage::{ObjectDb, meta};

/// One commit, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    /// Its id.
    pub id: ObjectId,
    /// Its parents.
    pub parents: Vec<ObjectId>,
    /// Author name.
    pub author_name: String,
    /// Author email.
    pub author_email: String,
    /// Author time, seconds since the Unix epoch.
    pub time: i64,
    /// The message.
    pub message: String,
}

/// Reads and decodes the commit `id`.
pub fn read_commit(odb: &ObjectDb<'_>, id: ObjectId) -> Result<CommitInfo, GitError> {
    let mut buf = Vec::new();
    let commit = odb.find_commit(&id, &mut buf)?;
    let author = commit.author()?;
    Ok(CommitInfo {
        id,
        parents: commit.parents().collect(),
        author_name: author.name.to_str_lossy().into_owned(),
        author_email: author.email.to_str_lossy().into_owned(),
        time: author.time()?.seconds,
        message: commit.message.to_str_lossy().into_owned(),
    })
}

impl Repo<'_> {
    /// Who commits are authored by: the session's configured author, or [`DEFAULT_AUTHOR`].
    pub fn author(&self) -> Result<(String, String), GitError> {
        let meta = self.stores.meta();
        let name = meta
            .get(meta::GIT_AUTHOR_NAME)?
            .unwrap_or_else(|| DEFAULT_AUTHOR.0.into());
        let email = meta
            .get(meta::GIT_AUTHOR_EMAIL)?
            .unwrap_or_else(|| DEFAULT_AUTHOR.1.into());
        Ok((name, email))
    }

    /// Commits the index on the current branch.
    pub fn commit(&self, message: &str) -> Result<CommitInfo, GitError> {
        self.require_repo()?;
        let message = message.trim();
        if message.is_empty() {
            return Err(GitError::EmptyMessage);
        }
        let head = self.head_commit()?;
        let head_files = self.head_files()?;
        let index = self.index()?;
        if head.is_some() && head_files == index {
            return Err(GitError::NothingToCommit);
        }
        let (name, email) = self.author()?;
        let time = gix_actor::date::Time {
            seconds: crate::storage::now_ms() as i64 / 1000,
            offset: 0,
        };
        let signature = gix_actor::Signature {
            name: name.into(),
            email: email.into(),
            time,
        };
        let id = {
            let odb = self.stores.objects();
            let base = head.map(|c| tree::commit_tree(&odb, &c)).transpose()?;
            let tree = tree::write_tree(&odb, base.as_ref(), &head_files, &index)?;
            let commit = gix_object::Commit {
                tree,
                parents: head.into_iter().collect(),
                author: signature.clone(),
                committer: signature,
                encoding: None,
                message: format!("{message}\n").into(),
                extra_headers: Vec::new(),
            };
            gix_object::Write::write(&odb, &commit)?
        };
        self.advance_head(id)?;
        read_commit(&self.stores.objects(), id)
    }

    /// Up to `limit` commits reachable from HEAD, newest first; a shallow history ends at its
    /// shallow commits.
    pub fn log(&self, limit: usize) -> Result<Vec<CommitInfo>, GitError> {
        self.require_repo()?;
        let Some(head) = self.head_commit()? else {
            return Ok(Vec::new());
        };
        let odb = self.stores.objects();
        let boundary = self.history_boundary()?;
        let walk = gix_traverse::commit::Simple::filtered(Some(head), &odb, |id| !boundary.contains(id))
            .sorting(gix_traverse::commit::simple::Sorting::ByCommitTime(Default::default()))?;
        let mut out = Vec::new();
        for info in walk.take(limit) {
            out.push(read_commit(&odb, info?.id)?);
        }
        Ok(out)
    }

    /// A commit (HEAD by default) and its changes against its first parent (a shallow commit,
    /// whose parents are not held, shows as a root commit).
    pub fn show(&self, rev: Option<&str>) -> Result<(CommitInfo, Vec<FileDiff>), GitError> {
        let (id, _) = self.resolve(rev.unwrap_or("HEAD"))?;
        let odb = self.stores.objects();
        let info = read_commit(&odb, id)?;
        let new_tree = tree::commit_tree(&odb, &id)?;
        let shallow = self.shallow()?.contains(&id);
        let parent = info.parents.first().filter(|_| !shallow);
        let old_tree = parent.map(|p| tree::commit_tree(&odb, p)).transpose()?;
        let changes = diff::tree_changes(&odb, old_tree.as_ref(), &new_tree)?;
        let diffs = diff::file_diffs(&odb, &changes)?;
        Ok((info, diffs))
    }
}

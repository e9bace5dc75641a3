//! The WIT `git` functions over the in-memory repository's maps.

use std::collections::BTreeSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use super::diff::{Tree, changes, file_diffs};
use super::names::{pathspec, valid_branch_name, within};
use super::{Commit, Head, MemoryRepo};
use crate::bindings::pi::worker::git::{
    Branch, ChangeKind, CheckoutResult, CommitInfo, FileDiff, GitError, RepoStatus,
};
use crate::git::Git;

/// Seconds since the epoch of the first commit; each later commit is a minute after the last.
const FIRST_COMMIT_TIME: i64 = 1_795_608_585;

impl Git for MemoryRepo {
    fn init(&mut self) -> Result<bool, GitError> {
        Ok(!std::mem::replace(&mut self.initialized, true))
    }

    fn status(&mut self) -> Result<RepoStatus, GitError> {
        self.check()?;
        let worktree = self.worktree();
        let unstaged = changes(&self.index, &worktree).into_iter();
        Ok(RepoStatus {
            branch: match &self.head {
                Head::Branch(b) => Some(b.clone()),
                Head::Detached(_) => None,
            },
            head: self.head_id(),
            staged: changes(&self.head_tree()?, &self.index),
            unstaged: unstaged.filter(|c| c.kind != ChangeKind::Added).collect(),
            untracked: worktree.into_keys().filter(|p| !self.index.contains_key(p)).collect(),
        })
    }

    fn add(&mut self, paths: &[String]) -> Result<u32, GitError> {
        self.check()?;
        let worktree = self.worktree();
        let mut changed = 0;
        for path in paths {
            let spec = pathspec(path)?;
            let known = worktree.keys().chain(self.index.keys());
            let matched: BTreeSet<String> = known.filter(|p| within(p, &spec)).cloned().collect();
            if matched.is_empty() {
                return Err(GitError::NotTracked(path.clone()));
            }
            for p in matched {
                let now = worktree.get(&p);
                if self.index.get(&p) != now {
                    changed += 1;
                    match now {
                        Some(c) => self.index.insert(p, c.clone()),
                        None => self.index.remove(&p),
                    };
                }
            }
        }
        Ok(changed)
    }

    fn commit(&mut self, message: &str) -> Result<CommitInfo, GitError> {
        self.check()?;
        if message.trim().is_empty() {
            return Err(GitError::EmptyMessage);
        }
        if self.index == self.head_tree()? {
            return Err(GitError::NothingToCommit);
        }
        let parents: Vec<String> = self.head_id().into_iter().collect();
        let time = FIRST_COMMIT_TIME + 60 * self.commits.len() as i64;
        let digits = |salt: u8| {
            let mut h = DefaultHasher::new();
            (salt, &parents, message, &self.index, time).hash(&mut h);
            h.finish()
        };
        let id = format!("{:016x}{:016x}{:08x}", digits(0), digits(1), digits(2) as u32);
        let info = CommitInfo {
            id: id.clone(),
            parents,
            author_name: "pi-worker".into(),
            author_email: "agent@pi-worker.local".into(),
            time,
            message: message.to_string(),
        };
        if let Head::Branch(b) = &self.head {
            self.branches.insert(b.clone(), id);
        } else {
            self.head = Head::Detached(id);
        }
        let tree = self.index.clone();
        self.commits.push(Commit {
            info: info.clone(),
            tree,
        });
        Ok(info)
    }

    fn log(&mut self, limit: u32) -> Result<Vec<CommitInfo>, GitError> {
        self.check()?;
        let mut out = Vec::new();
        let mut next = self.head_id();
        while let Some(id) = next.filter(|_| out.len() < limit as usize) {
            let info = &self.commit_by_id(&id)?.info;
            next = info.parents.first().cloned();
            out.push(info.clone());
        }
        Ok(out)
    }

    fn diff(&mut self, path: Option<&str>, staged: bool) -> Result<Vec<FileDiff>, GitError> {
        self.check()?;
        let spec = path.map(pathspec).transpose()?.unwrap_or_default();
        let (from, to) = if staged {
            (self.head_tree()?, self.index.clone())
        } else {
            (self.index.clone(), self.tracked_worktree())
        };
        Ok(file_diffs(&from, &to)
            .into_iter()
            .filter(|d| within(&d.path, &spec))
            .collect())
    }

    fn branches(&mut self) -> Result<Vec<Branch>, GitError> {
        self.check()?;
        let current = |name: &str| matches!(&self.head, Head::Branch(b) if b == name);
        let all = self.branches.iter();
        Ok(all
            .map(|(name, head)| Branch {
                name: name.clone(),
                head: head.clone(),
                current: current(name),
            })
            .collect())
    }

    fn create_branch(&mut self, name: &str) -> Result<Branch, GitError> {
        self.check()?;
        if !valid_branch_name(name) {
            return Err(GitError::InvalidName(name.to_string()));
        }
        if self.branches.contains_key(name) {
            return Err(GitError::BranchExists(name.to_string()));
        }
        let head = self.head_id().ok_or(GitError::NoCommits)?;
        self.branches.insert(name.to_string(), head.clone());
        Ok(Branch {
            name: name.to_string(),
            head,
            current: false,
        })
    }

    fn checkout(&mut self, rev: &str, create: bool) -> Result<CheckoutResult, GitError> {
        self.check()?;
        if create {
            self.create_branch(rev)?;
        }
        let branch = self.branches.contains_key(rev).then(|| rev.to_string());
        let id = self.resolve(rev)?;
        let (current, target) = (self.head_tree()?, self.commit_by_id(&id)?.tree.clone());
        let worktree = self.worktree();
        let paths = current.keys().chain(target.keys());
        let moving: BTreeSet<&String> = paths.filter(|p| current.get(*p) != target.get(*p)).collect();
        // A path checkout must change may only be changed if it is clean: index = HEAD = work tree.
        let dirty = |p: &&String| self.index.get(*p) != current.get(*p) || worktree.get(*p) != self.index.get(*p);
        let lost: Vec<String> = moving.iter().filter(|p| dirty(p)).map(|p| p.to_string()).collect();
        if !lost.is_empty() {
            return Err(GitError::WouldLoseChanges(lost));
        }
        let (mut updated, mut removed) = (0, 0);
        for p in moving {
            let file = format!("/{p}");
            match target.get(p) {
                Some(c) => {
                    updated += 1;
                    self.workspace.files.insert(file, c.clone());
                    self.index.insert(p.clone(), c.clone());
                }
                None => {
                    removed += 1;
                    self.workspace.files.remove(&file);
                    self.index.remove(p);
                }
            }
        }
        self.head = match &branch {
            Some(b) => Head::Branch(b.clone()),
            None => Head::Detached(id.clone()),
        };
        Ok(CheckoutResult {
            branch,
            head: id,
            updated,
            removed,
        })
    }

    fn show(&mut self, rev: Option<&str>) -> Result<(CommitInfo, Vec<FileDiff>), GitError> {
        self.check()?;
        let commit = self.commit_by_id(&self.resolve(rev.unwrap_or("HEAD"))?)?;
        let parent = match commit.info.parents.first() {
            Some(id) => self.commit_by_id(id)?.tree.clone(),
            None => Tree::new(),
        };
        Ok((commit.info.clone(), file_diffs(&parent, &commit.tree)))
    }

    fn restore(&mut self, path: &str) -> Result<(), GitError> {
        self.check()?;
        let spec = pathspec(path)?;
        let staged = self
            .index
            .get(&spec)
            .ok_or_else(|| GitError::NotTracked(path.to_string()))?;
        self.workspace.files.insert(format!("/{spec}"), staged.clone());
        Ok(())
    }
}

//! An in-memory repository for the git tools' unit tests: an index, commits and branches kept as
//! maps over a [`MemoryWorkspace`] as the working tree.
//!
//! Plausible git rather than real git: commit ids are hashes of the commit's content, a diff is
//! one hunk around the changed lines, and checkout refuses exactly when a path it must change has
//! staged, unstaged or untracked content.

mod commands;
mod diff;
mod names;

use std::collections::BTreeMap;

use self::diff::Tree;
use super::Git;
use crate::bindings::pi::worker::git::{CommitInfo, GitError};
use crate::bindings::pi::worker::process::{Outcome, RunError, RunRequest};
use crate::fs::Workspace;
use crate::fs::memory::MemoryWorkspace;
use crate::host::Host;
use crate::tools::run::Runner;

/// A commit and the tree it records.
struct Commit {
    info: CommitInfo,
    tree: Tree,
}

/// What HEAD names.
enum Head {
    Branch(String),
    Detached(String),
}

/// A repository whose working tree is an in-memory workspace; it is both halves of a [`Host`].
pub struct MemoryRepo {
    /// The working tree.
    pub workspace: MemoryWorkspace,
    initialized: bool,
    index: Tree,
    commits: Vec<Commit>,
    branches: BTreeMap<String, String>,
    head: Head,
}

impl Default for MemoryRepo {
    /// An empty workspace where `git init` has not run.
    fn default() -> Self {
        Self {
            workspace: MemoryWorkspace::default(),
            initialized: false,
            index: Tree::new(),
            commits: Vec::new(),
            branches: BTreeMap::new(),
            head: Head::Branch("main".into()),
        }
    }
}

impl Host for MemoryRepo {
    fn workspace(&mut self) -> &mut dyn Workspace {
        &mut self.workspace
    }
    fn git(&mut self) -> &mut dyn Git {
        self
    }
    fn runner(&mut self) -> &mut dyn Runner {
        self
    }
}

/// The in-memory session runs no programs.
impl Runner for MemoryRepo {
    fn run(&mut self, _request: &RunRequest) -> Result<Outcome, RunError> {
        Err(RunError::Unsupported(
            "the in-memory test session runs no programs".into(),
        ))
    }
}

impl MemoryRepo {
    /// A fresh session: a repository on `main` with no commits, and `files` untracked.
    pub fn with(files: &[(&str, &str)]) -> Self {
        Self {
            workspace: MemoryWorkspace::with(files),
            initialized: true,
            ..Self::default()
        }
    }

    fn check(&self) -> Result<(), GitError> {
        if self.initialized {
            Ok(())
        } else {
            Err(GitError::NotARepository)
        }
    }

    fn worktree(&self) -> Tree {
        let files = self.workspace.files.iter();
        files
            .map(|(p, c)| (p.trim_start_matches('/').to_string(), c.clone()))
            .collect()
    }

    /// The working tree as far as the index tracks it (untracked files left out).
    fn tracked_worktree(&self) -> Tree {
        let mut tree = self.worktree();
        tree.retain(|p, _| self.index.contains_key(p));
        tree
    }

    fn head_id(&self) -> Option<String> {
        match &self.head {
            Head::Branch(b) => self.branches.get(b).cloned(),
            Head::Detached(id) => Some(id.clone()),
        }
    }

    fn commit_by_id(&self, id: &str) -> Result<&Commit, GitError> {
        let found = self.commits.iter().find(|c| c.info.id == id);
        found.ok_or_else(|| GitError::UnknownRevision(id.to_string()))
    }

    fn head_tree(&self) -> Result<Tree, GitError> {
        match self.head_id() {
            Some(id) => Ok(self.commit_by_id(&id)?.tree.clone()),
            None => Ok(Tree::new()),
        }
    }

    /// The commit id `rev` names: `HEAD`, a branch, or a unique prefix (4+ digits) of an id.
    fn resolve(&self, rev: &str) -> Result<String, GitError> {
        if rev == "HEAD" {
            return self.head_id().ok_or(GitError::NoCommits);
        }
        if let Some(id) = self.branches.get(rev) {
            return Ok(id.clone());
        }
        let hex = rev.len() >= 4 && rev.chars().all(|c| c.is_ascii_hexdigit());
        let mut found = self.commits.iter().filter(|c| hex && c.info.id.starts_with(rev));
        match (found.next(), found.next()) {
            (Some(c), None) => Ok(c.info.id.clone()),
            _ => Err(GitError::UnknownRevision(rev.to_string())),
        }
    }
}

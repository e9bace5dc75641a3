//! The repository as the git tools see it: a trait over the `git` import, so the tools can be
//! tested natively against an in-memory repository (the twin of [`crate::fs`]).

#[cfg(test)]
pub mod memory;

use crate::bindings::pi::worker::git::{
    self as host, Branch, CheckoutResult, CommitInfo, FileDiff, GitError, RepoStatus,
};

/// The operations the git tools need: one method per function of the WIT `git` interface, with
/// its generated types (the WIT file documents each one).
pub trait Git {
    fn init(&mut self) -> Result<bool, GitError>;
    fn status(&mut self) -> Result<RepoStatus, GitError>;
    fn add(&mut self, paths: &[String]) -> Result<u32, GitError>;
    fn commit(&mut self, message: &str) -> Result<CommitInfo, GitError>;
    fn log(&mut self, limit: u32) -> Result<Vec<CommitInfo>, GitError>;
    fn diff(&mut self, path: Option<&str>, staged: bool) -> Result<Vec<FileDiff>, GitError>;
    fn branches(&mut self) -> Result<Vec<Branch>, GitError>;
    fn create_branch(&mut self, name: &str) -> Result<Branch, GitError>;
    fn checkout(&mut self, rev: &str, create: bool) -> Result<CheckoutResult, GitError>;
    fn show(&mut self, rev: Option<&str>) -> Result<(CommitInfo, Vec<FileDiff>), GitError>;
    fn restore(&mut self, path: &str) -> Result<(), GitError>;
}

/// The session's repository, through the host.
#[derive(Default)]
pub struct HostGit;

impl Git for HostGit {
    fn init(&mut self) -> Result<bool, GitError> {
        host::init()
    }
    fn status(&mut self) -> Result<RepoStatus, GitError> {
        host::status()
    }
    fn add(&mut self, paths: &[String]) -> Result<u32, GitError> {
        host::add(paths)
    }
    fn commit(&mut self, message: &str) -> Result<CommitInfo, GitError> {
        host::commit(message)
    }
    fn log(&mut self, limit: u32) -> Result<Vec<CommitInfo>, GitError> {
        host::log(limit)
    }
    fn diff(&mut self, path: Option<&str>, staged: bool) -> Result<Vec<FileDiff>, GitError> {
        host::diff(path, staged)
    }
    fn branches(&mut self) -> Result<Vec<Branch>, GitError> {
        host::branches()
    }
    fn create_branch(&mut self, name: &str) -> Result<Branch, GitError> {
        host::create_branch(name)
    }
    fn checkout(&mut self, rev: &str, create: bool) -> Result<CheckoutResult, GitError> {
        host::checkout(rev, create)
    }
    fn show(&mut self, rev: Option<&str>) -> Result<(CommitInfo, Vec<FileDiff>), GitError> {
        host::show(rev)
    }
    fn restore(&mut self, path: &str) -> Result<(), GitError> {
        host::restore(path)
    }
}

//! How the in-memory repository reads the names it is given: pathspecs and branch names.

use crate::bindings::pi::worker::git::GitError;
use crate::bindings::pi::worker::workspace::FsError;
use crate::fs::memory::norm;

/// A pathspec relative to the root (`""` for all of it).
pub fn pathspec(path: &str) -> Result<String, GitError> {
    match norm(path) {
        Ok(p) => Ok(p.trim_start_matches('/').to_string()),
        Err(FsError::InvalidPath(reason)) => Err(GitError::InvalidPath(reason)),
        Err(other) => Err(GitError::Worktree(other)),
    }
}

/// Whether `path` is `spec` or beneath it.
pub fn within(path: &str, spec: &str) -> bool {
    spec.is_empty() || path == spec || path.strip_prefix(spec).is_some_and(|rest| rest.starts_with('/'))
}

/// Whether git would accept `name` as a branch name (the common rules of `check-ref-format`).
pub fn valid_branch_name(name: &str) -> bool {
    !name.is_empty()
        && name != "HEAD"
        && !name.starts_with(['-', '/', '.'])
        && !name.ends_with(['/', '.'])
        && !name.ends_with(".lock")
        && !name.contains("..")
        && !name.contains("//")
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "~^:?*[\\".contains(c))
}

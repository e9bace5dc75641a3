//! The workspace as the tools see it: a trait over the `workspace` import, so the tools can be
//! tested natively against an in-memory tree.

use crate::bindings::pi::worker::workspace::{self as host, Entry, FsError, SearchError, SearchOptions, SearchResult};

/// The operations the tools need: the `workspace` import's functions (the WIT file documents
/// each one).
pub trait Workspace {
    fn read(&mut self, path: &str) -> Result<Vec<u8>, FsError>;
    fn write(&mut self, path: &str, contents: &[u8]) -> Result<(), FsError>;
    fn stat(&mut self, path: &str) -> Result<Entry, FsError>;
    fn list(&mut self, path: &str) -> Result<Vec<Entry>, FsError>;
    fn walk(&mut self, path: &str) -> Result<Vec<Entry>, FsError>;
    fn remove(&mut self, path: &str, recursive: bool) -> Result<(), FsError>;
    fn rename(&mut self, from: &str, to: &str) -> Result<(), FsError>;
    fn search(&mut self, paths: &[String], options: &SearchOptions) -> Result<SearchResult, SearchError>;
}

/// The session's workspace, through the host.
#[derive(Default)]
pub struct HostWorkspace;

impl Workspace for HostWorkspace {
    fn read(&mut self, path: &str) -> Result<Vec<u8>, FsError> {
        host::read(path)
    }
    fn write(&mut self, path: &str, contents: &[u8]) -> Result<(), FsError> {
        host::write(path, contents)
    }
    fn stat(&mut self, path: &str) -> Result<Entry, FsError> {
        host::stat(path)
    }
    fn list(&mut self, path: &str) -> Result<Vec<Entry>, FsError> {
        host::list(path)
    }
    fn walk(&mut self, path: &str) -> Result<Vec<Entry>, FsError> {
        host::walk(path)
    }
    fn remove(&mut self, path: &str, recursive: bool) -> Result<(), FsError> {
        host::remove(path, recursive)
    }
    fn rename(&mut self, from: &str, to: &str) -> Result<(), FsError> {
        host::rename(from, to)
    }
    fn search(&mut self, paths: &[String], options: &SearchOptions) -> Result<SearchResult, SearchError> {
        host::search(paths, options)
    }
}

/// How a failed workspace call reads to the model. `shown` is the path as the model wrote it.
pub fn describe(error: &FsError, shown: &str) -> String {
    match error {
        FsError::NotFound(_) => format!("Path not found: {shown}"),
        FsError::AlreadyExists(p) => format!("Path already exists: {p}"),
        FsError::NotAFile(_) => format!("Is a directory, not a file: {shown}"),
        FsError::NotADirectory(p) => format!("Not a directory: {p}"),
        FsError::DirectoryNotEmpty(_) => {
            format!("Directory not empty: {shown}. Pass recursive: true to remove it with its contents.")
        }
        FsError::InvalidPath(reason) => format!("Invalid path '{shown}': {reason}"),
        FsError::TooLarge(_) => format!("File too large: {shown}"),
        FsError::QuotaExceeded(reason) => format!("Cannot write {shown}: {reason}"),
    }
}

/// A workspace path shown relative to the root (`/src/a.ts` → `src/a.ts`).
pub fn relative(path: &str) -> &str {
    path.strip_prefix('/').unwrap_or(path)
}

/// Whether contents look binary (a NUL byte in the first 8000 bytes, as git decides).
pub fn is_binary(contents: &[u8]) -> bool {
    contents.iter().take(8000).any(|&b| b == 0)
}

#[cfg(test)]
pub mod memory;

//! The working tree and the repository: listings, writes, archives, git's `info/refs`.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A directory entry's kind.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EntryKindJson {
    /// A file.
    File,
    /// A directory.
    Directory,
}

/// An entry of a directory listing.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirEntryJson {
    /// Its name (the last segment of its path).
    pub name: String,
    /// File or directory.
    pub kind: EntryKindJson,
    /// Size in bytes (0 for a directory).
    pub size: u64,
    /// Last modification, in milliseconds since the Unix epoch.
    pub mtime_ms: u64,
}

/// A directory's listing.
#[derive(Serialize, ToSchema)]
pub struct DirectoryListing {
    /// The directory's path.
    pub path: String,
    /// Its entries.
    pub entries: Vec<DirEntryJson>,
}

/// The answer to a file created by `PUT`.
#[derive(Serialize, ToSchema)]
pub struct FileCreated {
    /// The file's git blob id (also its `ETag`, quoted).
    pub etag: String,
}

/// The query of `DELETE /session/{id}/files/{path}`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Remove a directory with its contents.
    #[serde(default)]
    pub recursive: bool,
}

/// The query of the archive routes.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArchiveQuery {
    /// A branch, tag or commit whose files to send (default: the working tree).
    #[serde(rename = "ref")]
    #[param(rename = "ref")]
    pub rev: Option<String>,
}

/// `?service=` on `info/refs`: present, the client speaks git's smart protocol.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServiceQuery {
    /// `git-upload-pack` (clone, fetch) or `git-receive-pack` (push).
    pub service: Option<String>,
}

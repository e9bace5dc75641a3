//! `pi:worker/workspace`: the session's files, over its SQLite database. Each call is one
//! transaction of the [`Worktree`](crate::storage::Worktree) store; `search` runs
//! [`crate::search`] in one.

use wasmtime::component::{HasData, Linker};

use crate::bindings::pi::worker::workspace::{self as wit, Host};
use crate::search::{self, SearchError, SearchOptions};
use crate::storage::{self, EntryKind, FsError, SessionDb};

/// Borrowed access to the database behind `pi:worker/workspace`.
pub struct WorkspaceCtxView<'a> {
    /// The session's database.
    pub db: &'a mut SessionDb,
}

/// A store type that can hand out a [`WorkspaceCtxView`].
pub trait WorkspaceView: Send {
    /// The view used by the `workspace` host functions.
    fn workspace(&mut self) -> WorkspaceCtxView<'_>;
}

/// [`HasData`] marker for `pi:worker/workspace`.
pub struct HasWorkspace;

impl HasData for HasWorkspace {
    type Data<'a> = WorkspaceCtxView<'a>;
}

/// Adds `pi:worker/workspace` to `linker`.
pub fn add_to_linker<T: WorkspaceView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, HasWorkspace>(linker, T::workspace)
}

/// A working-tree failure as the guest sees it, or back as `Err` when it is a host fault (a trap).
pub(crate) fn fs_error_to_wit(e: FsError) -> Result<wit::FsError, FsError> {
    Ok(match e {
        FsError::NotFound(p) => wit::FsError::NotFound(p),
        FsError::AlreadyExists(p) => wit::FsError::AlreadyExists(p),
        FsError::NotAFile(p) => wit::FsError::NotAFile(p),
        FsError::NotADirectory(p) => wit::FsError::NotADirectory(p),
        FsError::DirectoryNotEmpty(p) => wit::FsError::DirectoryNotEmpty(p),
        FsError::InvalidPath(e) => wit::FsError::InvalidPath(e.to_string()),
        FsError::Refused(m) => wit::FsError::InvalidPath(m),
        FsError::TooLarge(p) => wit::FsError::TooLarge(p),
        FsError::QuotaExceeded(m) => wit::FsError::QuotaExceeded(m),
        fault @ FsError::Storage(_) => return Err(fault),
    })
}

impl From<storage::Entry> for wit::Entry {
    fn from(e: storage::Entry) -> Self {
        Self {
            path: e.path,
            kind: match e.kind {
                EntryKind::File => wit::EntryKind::File,
                EntryKind::Directory => wit::EntryKind::Directory,
            },
            size: e.size,
            mtime_ms: e.mtime_ms,
        }
    }
}

fn entries(v: Vec<storage::Entry>) -> Vec<wit::Entry> {
    v.into_iter().map(Into::into).collect()
}

impl From<wit::SearchOptions> for SearchOptions {
    fn from(o: wit::SearchOptions) -> Self {
        Self {
            pattern: o.pattern,
            literal: o.literal,
            ignore_case: o.ignore_case,
            context: o.context,
            max_matches: o.max_matches,
            max_line_chars: o.max_line_chars,
        }
    }
}

impl From<search::SearchResult> for wit::SearchResult {
    fn from(r: search::SearchResult) -> Self {
        let line = |l: search::Line| wit::SearchLine {
            number: l.number,
            text: l.text,
            truncated: l.truncated,
            is_match: l.is_match,
        };
        Self {
            files: r
                .files
                .into_iter()
                .map(|f| wit::FileMatches {
                    path: f.path,
                    lines: f.lines.into_iter().map(line).collect(),
                })
                .collect(),
            binary: r.binary,
            more: r.more,
        }
    }
}

impl Host for WorkspaceCtxView<'_> {
    fn convert_fs_error(&mut self, e: FsError) -> wasmtime::Result<wit::FsError> {
        Ok(fs_error_to_wit(e)?)
    }

    fn read(&mut self, path: String) -> Result<Vec<u8>, FsError> {
        self.db.read(|s| s.worktree().read(&path))
    }

    fn write(&mut self, path: String, contents: Vec<u8>) -> Result<(), FsError> {
        self.db.write(|s| s.worktree().write(&path, &contents).map(drop))
    }

    fn stat(&mut self, path: String) -> Result<wit::Entry, FsError> {
        self.db.read(|s| s.worktree().stat(&path)).map(Into::into)
    }

    fn list(&mut self, path: String) -> Result<Vec<wit::Entry>, FsError> {
        self.db.read(|s| s.worktree().list(&path)).map(entries)
    }

    fn walk(&mut self, path: String) -> Result<Vec<wit::Entry>, FsError> {
        self.db.read(|s| s.worktree().walk(&path)).map(entries)
    }

    fn mkdir(&mut self, path: String) -> Result<(), FsError> {
        self.db.write(|s| s.worktree().mkdir(&path))
    }

    fn remove(&mut self, path: String, recursive: bool) -> Result<(), FsError> {
        self.db.write(|s| s.worktree().remove(&path, recursive))
    }

    fn rename(&mut self, from: String, to: String) -> Result<(), FsError> {
        self.db.write(|s| s.worktree().rename(&from, &to))
    }

    fn search(
        &mut self,
        paths: Vec<String>,
        options: wit::SearchOptions,
    ) -> wasmtime::Result<Result<wit::SearchResult, wit::SearchError>> {
        match self.db.read(|s| search::search(s, &paths, &options.into())) {
            Ok(found) => Ok(Ok(found.into())),
            Err(SearchError::InvalidPattern(m)) => Ok(Err(wit::SearchError::InvalidPattern(m))),
            Err(SearchError::InvalidPath(m)) => Ok(Err(wit::SearchError::InvalidPath(m))),
            Err(fault @ SearchError::Storage(_)) => Err(fault.into()),
        }
    }

    fn stats(&mut self) -> wasmtime::Result<wit::Totals> {
        let s = self.db.read(|s| s.worktree().stats())?;
        Ok(wit::Totals {
            file_count: s.file_count,
            directory_count: s.directory_count,
            total_bytes: s.total_bytes,
        })
    }
}

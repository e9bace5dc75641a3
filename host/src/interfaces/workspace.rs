//! `pi:worker/workspace`: the session's files, over its SQLite database.

use wasmtime::component::{HasData, Linker};

use crate::bindings::pi::worker::workspace::{self as wit, Host};
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

impl From<FsError> for wit::FsError {
    fn from(e: FsError) -> Self {
        match e {
            FsError::NotFound(p) => Self::NotFound(p),
            FsError::AlreadyExists(p) => Self::AlreadyExists(p),
            FsError::NotAFile(p) => Self::NotAFile(p),
            FsError::NotADirectory(p) => Self::NotADirectory(p),
            FsError::DirectoryNotEmpty(p) => Self::DirectoryNotEmpty(p),
            FsError::InvalidPath(m) => Self::InvalidPath(m),
            FsError::TooLarge(p) => Self::TooLarge(p),
            FsError::QuotaExceeded(m) => Self::QuotaExceeded(m),
            FsError::Io(m) => Self::Io(m),
        }
    }
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

type FsResult<T> = wasmtime::Result<Result<T, wit::FsError>>;

fn entries(result: Result<Vec<storage::Entry>, FsError>) -> FsResult<Vec<wit::Entry>> {
    Ok(result
        .map(|v| v.into_iter().map(Into::into).collect())
        .map_err(Into::into))
}

impl Host for WorkspaceCtxView<'_> {
    fn read(&mut self, path: String) -> FsResult<Vec<u8>> {
        Ok(self.db.read_file(&path).map_err(Into::into))
    }

    fn write(&mut self, path: String, contents: Vec<u8>) -> FsResult<()> {
        Ok(self.db.write_file(&path, &contents).map_err(Into::into))
    }

    fn stat(&mut self, path: String) -> FsResult<wit::Entry> {
        Ok(self.db.stat(&path).map(Into::into).map_err(Into::into))
    }

    fn list(&mut self, path: String) -> FsResult<Vec<wit::Entry>> {
        entries(self.db.list_dir(&path))
    }

    fn walk(&mut self, path: String) -> FsResult<Vec<wit::Entry>> {
        entries(self.db.walk(&path))
    }

    fn mkdir(&mut self, path: String) -> FsResult<()> {
        Ok(self.db.mkdir(&path).map_err(Into::into))
    }

    fn remove(&mut self, path: String, recursive: bool) -> FsResult<()> {
        Ok(self.db.remove(&path, recursive).map_err(Into::into))
    }

    fn rename(&mut self, from: String, to: String) -> FsResult<()> {
        Ok(self.db.rename(&from, &to).map_err(Into::into))
    }

    fn stats(&mut self) -> wasmtime::Result<wit::Totals> {
        let s = self.db.stats()?;
        Ok(wit::Totals {
            file_count: s.file_count,
            directory_count: s.directory_count,
            total_bytes: s.total_bytes,
        })
    }
}

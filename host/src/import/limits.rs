//! The workspace quotas an import must fit in, checked as the files arrive (before they are
//! stored), so an oversized archive or repository is refused early and nothing is kept.

use crate::storage::StorageOptions;

/// The limits of one import: the session's storage quotas.
#[derive(Debug, Clone, Copy)]
pub struct ImportLimits {
    /// Largest file.
    pub max_file_bytes: u64,
    /// Most bytes of files in the working tree.
    pub max_workspace_bytes: u64,
    /// Most files in the working tree.
    pub max_workspace_files: u64,
}

impl From<StorageOptions> for ImportLimits {
    fn from(options: StorageOptions) -> Self {
        Self {
            max_file_bytes: options.max_file_bytes,
            max_workspace_bytes: options.max_workspace_bytes,
            max_workspace_files: options.max_workspace_files,
        }
    }
}

/// Why an import does not fit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// One file is larger than the largest file allowed.
    #[error("file too large: {path} has {size} bytes, the limit is {max}")]
    FileTooLarge {
        /// The file's path.
        path: String,
        /// Its size.
        size: u64,
        /// The limit.
        max: u64,
    },
    /// More files than the workspace may hold.
    #[error("workspace quota exceeded: the workspace may hold at most {0} files")]
    TooManyFiles(u64),
    /// More bytes than the workspace may hold.
    #[error("workspace quota exceeded: the workspace may hold at most {0} bytes of files")]
    TooManyBytes(u64),
    /// More directories than the workspace may hold files (an archive of empty directories).
    #[error("workspace quota exceeded: more than {0} directories")]
    TooManyDirectories(u64),
    /// The repository's history is larger than the workspace may hold.
    #[error("workspace quota exceeded: the repository's pack is over {0} bytes")]
    PackTooLarge(u64),
}

/// A running count of what an import has added so far.
#[derive(Debug)]
pub struct Budget {
    limits: ImportLimits,
    files: u64,
    bytes: u64,
    directories: u64,
}

impl ImportLimits {
    /// An empty count against these limits.
    pub fn budget(&self) -> Budget {
        Budget {
            limits: *self,
            files: 0,
            bytes: 0,
            directories: 0,
        }
    }
}

impl Budget {
    /// Counts a file of `size` bytes at `path`, replacing one of `replaced` bytes if any.
    pub fn file(&mut self, path: &str, size: u64, replaced: Option<u64>) -> Result<(), LimitError> {
        let limits = &self.limits;
        if size > limits.max_file_bytes {
            return Err(LimitError::FileTooLarge {
                path: path.to_string(),
                size,
                max: limits.max_file_bytes,
            });
        }
        let files = self.files + u64::from(replaced.is_none());
        let bytes = self.bytes - replaced.unwrap_or(0) + size;
        if files > limits.max_workspace_files {
            return Err(LimitError::TooManyFiles(limits.max_workspace_files));
        }
        if bytes > limits.max_workspace_bytes {
            return Err(LimitError::TooManyBytes(limits.max_workspace_bytes));
        }
        (self.files, self.bytes) = (files, bytes);
        Ok(())
    }

    /// Counts a directory.
    pub fn directory(&mut self) -> Result<(), LimitError> {
        self.directories += 1;
        if self.directories > self.limits.max_workspace_files {
            return Err(LimitError::TooManyDirectories(self.limits.max_workspace_files));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_counts_replacements_once() {
        let limits = ImportLimits {
            max_file_bytes: 10,
            max_workspace_bytes: 15,
            max_workspace_files: 2,
        };
        let mut budget = limits.budget();
        budget.file("/a", 10, None).unwrap();
        budget.file("/a", 5, Some(10)).unwrap();
        budget.file("/b", 10, None).unwrap();
        assert_eq!((budget.files, budget.bytes), (2, 15));
        assert_eq!(budget.file("/c", 0, None), Err(LimitError::TooManyFiles(2)));
        assert!(
            budget
                .file("/b", 11, Some(10))
                .unwrap_err()
                .to_string()
                .contains("too large")
        );
        assert_eq!(budget.file("/b", 10, Some(10)), Ok(()));
        assert_eq!(budget.file("/a", 6, Some(5)), Err(LimitError::TooManyBytes(15)));
    }
}

//! A program's `wasi:filesystem/types`: wasmtime-wasi's own implementation (cap-std over the
//! program's directory), wrapped to watch what the program changes and to bound what it writes.
//!
//! Every call is forwarded unchanged, and on the way:
//! - each descriptor's directory path is remembered, so every call that can change a file
//!   (an open for writing, creating or truncating, a write, a resize, an unlink, a rename, a
//!   directory removal) adds the path it names to a [`WriteLog`]. After the run only those
//!   paths are read back, so a run costs nothing per untouched file. Symlinks and hard links
//!   make one file reachable under several names: a program that creates either is read back
//!   whole;
//! - every byte written (through a stream, a direct write or a resize) is counted against a
//!   [`WriteBudget`], as is every new file and directory: past it a write fails with
//!   `insufficient-space` (ENOSPC; wasi-libc reports a failed stream write as EIO), so a
//!   program cannot fill the host's disk before the workspace's quotas see its files. The
//!   runner then says so in the program's stderr.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use bytes::Bytes;
use wasmtime::component::Resource;
use wasmtime_wasi::filesystem::WasiFilesystemCtxView;
use wasmtime_wasi::p2::bindings::filesystem::types::{
    self, Advice, DescriptorFlags, DescriptorStat, DescriptorType, DirectoryEntry, DirectoryEntryStream, ErrorCode,
    Filesize, HostDescriptor, HostDirectoryEntryStream, MetadataHashValue, NewTimestamp, OpenFlags, PathFlags,
};
use wasmtime_wasi::p2::{DynOutputStream, FsError, FsResult, OutputStream, Pollable, StreamError, StreamResult};

/// What a program may still write in one run: bytes and new directory entries. Shared with the
/// streams it writes through.
#[derive(Debug)]
pub struct WriteBudget {
    bytes: AtomicU64,
    entries: AtomicU64,
    refused: AtomicBool,
}

impl WriteBudget {
    /// A budget of `bytes` written and `entries` created.
    pub fn new(bytes: u64, entries: u64) -> Arc<Self> {
        Arc::new(Self {
            bytes: AtomicU64::new(bytes),
            entries: AtomicU64::new(entries),
            refused: AtomicBool::new(false),
        })
    }

    /// Some write or new entry was refused for want of budget.
    pub fn refused(&self) -> bool {
        self.refused.load(Ordering::Relaxed)
    }

    /// Takes `n` bytes from the budget, or none when fewer are left.
    fn take_bytes(&self, n: u64) -> bool {
        self.take(&self.bytes, n)
    }

    /// Takes one new entry from the budget, or none when none is left.
    fn take_entry(&self) -> bool {
        self.take(&self.entries, 1)
    }

    fn take(&self, left: &AtomicU64, n: u64) -> bool {
        let taken = left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| left.checked_sub(n))
            .is_ok();
        if !taken {
            self.refused.store(true, Ordering::Relaxed);
        }
        taken
    }
}

/// The paths a program may have changed, relative to its directory (`src/a.ts`; `""` is the
/// directory itself), and the budget it writes against.
#[derive(Debug)]
pub struct WriteLog {
    /// Descriptor (by its handle) → its path; the preopened directory is not here (it is `""`).
    descriptors: HashMap<u32, String>,
    touched: BTreeSet<String>,
    everything: bool,
    budget: Arc<WriteBudget>,
}

impl WriteLog {
    /// An empty log writing against `budget`.
    pub fn new(budget: Arc<WriteBudget>) -> Self {
        Self {
            descriptors: HashMap::new(),
            touched: BTreeSet::new(),
            everything: false,
            budget,
        }
    }

    /// The paths to read back: `None` when the whole directory must be (a symlink or hard link
    /// was made); otherwise the touched paths, none inside another (a directory covers its
    /// files).
    pub fn touched(&self) -> Option<Vec<&str>> {
        if self.everything || self.touched.contains("") {
            return None;
        }
        let covered = |path: &str| {
            let mut dir = path;
            while let Some((parent, _)) = dir.rsplit_once('/') {
                if self.touched.contains(parent) {
                    return true;
                }
                dir = parent;
            }
            false
        };
        Some(
            self.touched
                .iter()
                .map(String::as_str)
                .filter(|p| !covered(p))
                .collect(),
        )
    }

    fn path_of(&self, fd: &Resource<types::Descriptor>) -> &str {
        self.descriptors.get(&fd.rep()).map_or("", String::as_str)
    }

    fn touch(&mut self, path: String) {
        self.touched.insert(path);
    }
}

/// `relative` resolved against `dir`, both relative to the program's directory: `.` and `..`
/// folded (never above the directory: cap-std refuses such paths anyway), no trailing `/`.
fn join(dir: &str, relative: &str) -> String {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => drop(parts.pop()),
            part => parts.push(part),
        }
    }
    parts.join("/")
}

/// wasmtime-wasi's filesystem for the program, and its [`WriteLog`].
pub struct WatchedFilesystem<'a> {
    /// wasmtime-wasi's implementation over the program's directory.
    pub inner: WasiFilesystemCtxView<'a>,
    /// What the program changed so far.
    pub log: &'a mut WriteLog,
}

impl WatchedFilesystem<'_> {
    fn touch_at(&mut self, fd: &Resource<types::Descriptor>, path: &str) {
        let path = join(self.log.path_of(fd), path);
        self.log.touch(path);
    }

    fn touch_fd(&mut self, fd: &Resource<types::Descriptor>) {
        let path = self.log.path_of(fd).to_string();
        self.log.touch(path);
    }

    /// Takes one entry from the budget for `path` under `fd` when nothing is there yet.
    async fn charge_new_entry(&mut self, fd: &Resource<types::Descriptor>, path: &str) -> FsResult<()> {
        let exists = HostDescriptor::stat_at(&mut self.inner, borrow(fd), PathFlags::empty(), path.to_string()).await;
        if exists.is_err() {
            room(self.log.budget.take_entry())?;
        }
        Ok(())
    }

    /// Wraps the stream `stream` (just made for `fd`) so that its writes are charged.
    fn budgeted(&mut self, stream: Resource<DynOutputStream>) -> FsResult<Resource<DynOutputStream>> {
        let inner = self.inner.table.delete(stream)?;
        let wrapped: DynOutputStream = Box::new(BudgetedStream {
            inner,
            budget: self.log.budget.clone(),
        });
        Ok(self.inner.table.push(wrapped)?)
    }
}

/// `Ok` when the budget covered a write, else `insufficient-space`.
fn room(taken: bool) -> FsResult<()> {
    if taken {
        Ok(())
    } else {
        Err(ErrorCode::InsufficientSpace.into())
    }
}

/// Another handle to the same resource (`fd` is borrowed for the call, not given away).
fn borrow<T: 'static>(fd: &Resource<T>) -> Resource<T> {
    Resource::new_borrow(fd.rep())
}

impl types::Host for WatchedFilesystem<'_> {
    fn convert_error_code(&mut self, err: FsError) -> wasmtime::Result<ErrorCode> {
        types::Host::convert_error_code(&mut self.inner, err)
    }

    fn filesystem_error_code(&mut self, err: Resource<wasmtime::Error>) -> wasmtime::Result<Option<ErrorCode>> {
        if self.inner.table.get(&err)?.downcast_ref::<OutOfBudget>().is_some() {
            return Ok(Some(ErrorCode::InsufficientSpace));
        }
        types::Host::filesystem_error_code(&mut self.inner, err)
    }
}

impl HostDescriptor for WatchedFilesystem<'_> {
    async fn advise(
        &mut self,
        fd: Resource<types::Descriptor>,
        offset: Filesize,
        len: Filesize,
        advice: Advice,
    ) -> FsResult<()> {
        HostDescriptor::advise(&mut self.inner, fd, offset, len, advice).await
    }

    async fn sync_data(&mut self, fd: Resource<types::Descriptor>) -> FsResult<()> {
        HostDescriptor::sync_data(&mut self.inner, fd).await
    }

    async fn get_flags(&mut self, fd: Resource<types::Descriptor>) -> FsResult<DescriptorFlags> {
        HostDescriptor::get_flags(&mut self.inner, fd).await
    }

    async fn get_type(&mut self, fd: Resource<types::Descriptor>) -> FsResult<DescriptorType> {
        HostDescriptor::get_type(&mut self.inner, fd).await
    }

    async fn set_size(&mut self, fd: Resource<types::Descriptor>, size: Filesize) -> FsResult<()> {
        let now = HostDescriptor::stat(&mut self.inner, borrow(&fd)).await?.size;
        room(self.log.budget.take_bytes(size.saturating_sub(now)))?;
        self.touch_fd(&fd);
        HostDescriptor::set_size(&mut self.inner, fd, size).await
    }

    async fn set_times(
        &mut self,
        fd: Resource<types::Descriptor>,
        atim: NewTimestamp,
        mtim: NewTimestamp,
    ) -> FsResult<()> {
        HostDescriptor::set_times(&mut self.inner, fd, atim, mtim).await
    }

    async fn read(
        &mut self,
        fd: Resource<types::Descriptor>,
        len: Filesize,
        offset: Filesize,
    ) -> FsResult<(Vec<u8>, bool)> {
        HostDescriptor::read(&mut self.inner, fd, len, offset).await
    }

    async fn write(&mut self, fd: Resource<types::Descriptor>, buf: Vec<u8>, offset: Filesize) -> FsResult<Filesize> {
        room(self.log.budget.take_bytes(buf.len() as u64))?;
        self.touch_fd(&fd);
        HostDescriptor::write(&mut self.inner, fd, buf, offset).await
    }

    async fn read_directory(&mut self, fd: Resource<types::Descriptor>) -> FsResult<Resource<DirectoryEntryStream>> {
        HostDescriptor::read_directory(&mut self.inner, fd).await
    }

    async fn sync(&mut self, fd: Resource<types::Descriptor>) -> FsResult<()> {
        HostDescriptor::sync(&mut self.inner, fd).await
    }

    async fn create_directory_at(&mut self, fd: Resource<types::Descriptor>, path: String) -> FsResult<()> {
        room(self.log.budget.take_entry())?;
        HostDescriptor::create_directory_at(&mut self.inner, fd, path).await
    }

    async fn stat(&mut self, fd: Resource<types::Descriptor>) -> FsResult<DescriptorStat> {
        HostDescriptor::stat(&mut self.inner, fd).await
    }

    async fn stat_at(
        &mut self,
        fd: Resource<types::Descriptor>,
        flags: PathFlags,
        path: String,
    ) -> FsResult<DescriptorStat> {
        HostDescriptor::stat_at(&mut self.inner, fd, flags, path).await
    }

    async fn set_times_at(
        &mut self,
        fd: Resource<types::Descriptor>,
        flags: PathFlags,
        path: String,
        atim: NewTimestamp,
        mtim: NewTimestamp,
    ) -> FsResult<()> {
        HostDescriptor::set_times_at(&mut self.inner, fd, flags, path, atim, mtim).await
    }

    async fn link_at(
        &mut self,
        fd: Resource<types::Descriptor>,
        old_flags: PathFlags,
        old_path: String,
        new_fd: Resource<types::Descriptor>,
        new_path: String,
    ) -> FsResult<()> {
        room(self.log.budget.take_entry())?;
        // Two names for one file: a write through either changes both.
        self.log.everything = true;
        HostDescriptor::link_at(&mut self.inner, fd, old_flags, old_path, new_fd, new_path).await
    }

    async fn open_at(
        &mut self,
        fd: Resource<types::Descriptor>,
        path_flags: PathFlags,
        path: String,
        oflags: OpenFlags,
        flags: DescriptorFlags,
    ) -> FsResult<Resource<types::Descriptor>> {
        if oflags.contains(OpenFlags::CREATE) {
            self.charge_new_entry(&fd, &path).await?;
        }
        let full = join(self.log.path_of(&fd), &path);
        let changes = oflags.intersects(OpenFlags::CREATE | OpenFlags::TRUNCATE)
            || flags.intersects(DescriptorFlags::WRITE | DescriptorFlags::MUTATE_DIRECTORY);
        let opened = HostDescriptor::open_at(&mut self.inner, fd, path_flags, path, oflags, flags).await?;
        if changes {
            self.log.touch(full.clone());
        }
        self.log.descriptors.insert(opened.rep(), full);
        Ok(opened)
    }

    fn drop(&mut self, fd: Resource<types::Descriptor>) -> wasmtime::Result<()> {
        self.log.descriptors.remove(&fd.rep());
        HostDescriptor::drop(&mut self.inner, fd)
    }

    async fn readlink_at(&mut self, fd: Resource<types::Descriptor>, path: String) -> FsResult<String> {
        HostDescriptor::readlink_at(&mut self.inner, fd, path).await
    }

    async fn remove_directory_at(&mut self, fd: Resource<types::Descriptor>, path: String) -> FsResult<()> {
        self.touch_at(&fd, &path);
        HostDescriptor::remove_directory_at(&mut self.inner, fd, path).await
    }

    async fn rename_at(
        &mut self,
        fd: Resource<types::Descriptor>,
        old_path: String,
        new_fd: Resource<types::Descriptor>,
        new_path: String,
    ) -> FsResult<()> {
        self.touch_at(&fd, &old_path);
        self.touch_at(&new_fd, &new_path);
        HostDescriptor::rename_at(&mut self.inner, fd, old_path, new_fd, new_path).await
    }

    async fn symlink_at(
        &mut self,
        fd: Resource<types::Descriptor>,
        src_path: String,
        dest_path: String,
    ) -> FsResult<()> {
        room(self.log.budget.take_entry())?;
        // A write through the link lands on its target, under another name.
        self.log.everything = true;
        HostDescriptor::symlink_at(&mut self.inner, fd, src_path, dest_path).await
    }

    async fn unlink_file_at(&mut self, fd: Resource<types::Descriptor>, path: String) -> FsResult<()> {
        self.touch_at(&fd, &path);
        HostDescriptor::unlink_file_at(&mut self.inner, fd, path).await
    }

    fn read_via_stream(
        &mut self,
        fd: Resource<types::Descriptor>,
        offset: Filesize,
    ) -> FsResult<Resource<wasmtime_wasi::p2::DynInputStream>> {
        HostDescriptor::read_via_stream(&mut self.inner, fd, offset)
    }

    fn write_via_stream(
        &mut self,
        fd: Resource<types::Descriptor>,
        offset: Filesize,
    ) -> FsResult<Resource<DynOutputStream>> {
        self.touch_fd(&fd);
        let stream = HostDescriptor::write_via_stream(&mut self.inner, fd, offset)?;
        self.budgeted(stream)
    }

    fn append_via_stream(&mut self, fd: Resource<types::Descriptor>) -> FsResult<Resource<DynOutputStream>> {
        self.touch_fd(&fd);
        let stream = HostDescriptor::append_via_stream(&mut self.inner, fd)?;
        self.budgeted(stream)
    }

    async fn is_same_object(
        &mut self,
        a: Resource<types::Descriptor>,
        b: Resource<types::Descriptor>,
    ) -> wasmtime::Result<bool> {
        HostDescriptor::is_same_object(&mut self.inner, a, b).await
    }

    async fn metadata_hash(&mut self, fd: Resource<types::Descriptor>) -> FsResult<MetadataHashValue> {
        HostDescriptor::metadata_hash(&mut self.inner, fd).await
    }

    async fn metadata_hash_at(
        &mut self,
        fd: Resource<types::Descriptor>,
        flags: PathFlags,
        path: String,
    ) -> FsResult<MetadataHashValue> {
        HostDescriptor::metadata_hash_at(&mut self.inner, fd, flags, path).await
    }
}

impl HostDirectoryEntryStream for WatchedFilesystem<'_> {
    async fn read_directory_entry(
        &mut self,
        stream: Resource<DirectoryEntryStream>,
    ) -> FsResult<Option<DirectoryEntry>> {
        HostDirectoryEntryStream::read_directory_entry(&mut self.inner, stream).await
    }

    fn drop(&mut self, stream: Resource<DirectoryEntryStream>) -> wasmtime::Result<()> {
        HostDirectoryEntryStream::drop(&mut self.inner, stream)
    }
}

/// The error a budgeted stream's write fails with; `filesystem-error-code` reads it as
/// `insufficient-space`.
#[derive(Debug, thiserror::Error)]
#[error("the program wrote more than a run may (no space left)")]
struct OutOfBudget;

/// A file's output stream whose writes are charged to a [`WriteBudget`].
struct BudgetedStream {
    inner: DynOutputStream,
    budget: Arc<WriteBudget>,
}

impl BudgetedStream {
    fn charge(&self, n: usize) -> StreamResult<()> {
        if self.budget.take_bytes(n as u64) {
            Ok(())
        } else {
            Err(StreamError::LastOperationFailed(OutOfBudget.into()))
        }
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for BudgetedStream {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.charge(bytes.len())?;
        self.inner.write(bytes)
    }

    fn flush(&mut self) -> StreamResult<()> {
        self.inner.flush()
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        self.inner.check_write()
    }

    async fn blocking_write_and_flush(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.charge(bytes.len())?;
        self.inner.blocking_write_and_flush(bytes).await
    }

    fn write_zeroes(&mut self, n: usize) -> StreamResult<()> {
        self.charge(n)?;
        self.inner.write_zeroes(n)
    }

    async fn cancel(&mut self) {
        self.inner.cancel().await;
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for BudgetedStream {
    async fn ready(&mut self) {
        self.inner.ready().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_fold_and_never_leave_the_directory() {
        assert_eq!(join("", "src/a.ts"), "src/a.ts");
        assert_eq!(join("src", "./lib/../a.ts"), "src/a.ts");
        assert_eq!(join("src", "../../../x"), "x");
        assert_eq!(join("", "."), "");
        assert_eq!(join("a/b", "c/"), "a/b/c");
    }

    #[test]
    fn touched_paths_inside_a_touched_directory_are_covered_by_it() {
        let mut log = WriteLog::new(WriteBudget::new(0, 0));
        for path in ["src/a.ts", "src", "src-x/b", "src/lib/c", "dist/o.js"] {
            log.touch(path.to_string());
        }
        assert_eq!(log.touched(), Some(vec!["dist/o.js", "src", "src-x/b"]));
        log.everything = true;
        assert_eq!(log.touched(), None);
    }

    #[test]
    fn the_budget_refuses_what_it_cannot_cover_whole() {
        let budget = WriteBudget::new(10, 1);
        assert!(budget.take_bytes(6));
        assert!(!budget.refused());
        assert!(!budget.take_bytes(5), "4 left");
        assert!(budget.take_bytes(4));
        assert!(budget.take_entry());
        assert!(!budget.take_entry());
        assert!(budget.refused());
    }
}

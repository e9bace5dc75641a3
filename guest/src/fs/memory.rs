//! An in-memory workspace for the tools' unit tests, normalising paths like the host.

mod search;

use std::collections::BTreeMap;

use super::Workspace;
use crate::bindings::pi::worker::workspace::{Entry, EntryKind, FsError, SearchError, SearchOptions, SearchResult};

#[derive(Default)]
pub struct MemoryWorkspace {
    pub files: BTreeMap<String, Vec<u8>>,
}

/// A path made absolute and normalised as the host does (`a/./b/..` → `/a`), or why it is not
/// a workspace path.
pub fn norm(path: &str) -> Result<String, FsError> {
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts
                    .pop()
                    .ok_or_else(|| FsError::InvalidPath(format!("path '{path}' leaves the workspace")))?;
            }
            s => parts.push(s),
        }
    }
    Ok(format!("/{}", parts.join("/")))
}

fn beneath(p: &str, dir: &str) -> bool {
    if dir == "/" {
        p != "/"
    } else {
        p.starts_with(&format!("{dir}/"))
    }
}

impl MemoryWorkspace {
    pub fn with(files: &[(&str, &str)]) -> Self {
        let mut ws = Self::default();
        for (p, c) in files {
            ws.write(p, c.as_bytes()).unwrap();
        }
        ws
    }

    fn dirs(&self) -> Vec<String> {
        let mut dirs = std::collections::BTreeSet::new();
        for p in self.files.keys() {
            let mut cur = p.as_str();
            while let Some(i) = cur.rfind('/') {
                cur = &cur[..i];
                if cur.is_empty() {
                    break;
                }
                dirs.insert(cur.to_string());
            }
        }
        dirs.into_iter().collect()
    }

    fn entries(&self) -> Vec<Entry> {
        let mut all: Vec<Entry> = self
            .files
            .iter()
            .map(|(p, c)| Entry {
                path: p.clone(),
                kind: EntryKind::File,
                size: c.len() as u64,
                mtime_ms: 0,
            })
            .chain(self.dirs().into_iter().map(|p| Entry {
                path: p,
                kind: EntryKind::Directory,
                size: 0,
                mtime_ms: 0,
            }))
            .collect();
        all.sort_by(|a, b| a.path.cmp(&b.path));
        all
    }
}

impl Workspace for MemoryWorkspace {
    fn read(&mut self, path: &str) -> Result<Vec<u8>, FsError> {
        let p = norm(path)?;
        if self.dirs().contains(&p) || p == "/" {
            return Err(FsError::NotAFile(p));
        }
        self.files.get(&p).cloned().ok_or(FsError::NotFound(p))
    }
    fn write(&mut self, path: &str, contents: &[u8]) -> Result<(), FsError> {
        let p = norm(path)?;
        self.files.insert(p, contents.to_vec());
        Ok(())
    }
    fn stat(&mut self, path: &str) -> Result<Entry, FsError> {
        let p = norm(path)?;
        if p == "/" {
            return Ok(Entry {
                path: p,
                kind: EntryKind::Directory,
                size: 0,
                mtime_ms: 0,
            });
        }
        self.entries()
            .into_iter()
            .find(|e| e.path == p)
            .ok_or(FsError::NotFound(p))
    }
    fn list(&mut self, path: &str) -> Result<Vec<Entry>, FsError> {
        let p = norm(path)?;
        if self.stat(&p)?.kind == EntryKind::File {
            return Err(FsError::NotADirectory(p));
        }
        Ok(self
            .entries()
            .into_iter()
            .filter(|e| beneath(&e.path, &p) && !e.path[p.len().max(1)..].trim_start_matches('/').contains('/'))
            .collect())
    }
    fn walk(&mut self, path: &str) -> Result<Vec<Entry>, FsError> {
        let p = norm(path)?;
        if self.stat(&p)?.kind == EntryKind::File {
            return Err(FsError::NotADirectory(p));
        }
        Ok(self.entries().into_iter().filter(|e| beneath(&e.path, &p)).collect())
    }
    fn remove(&mut self, path: &str, recursive: bool) -> Result<(), FsError> {
        let p = norm(path)?;
        if self.files.remove(&p).is_some() {
            return Ok(());
        }
        let inside: Vec<String> = self.files.keys().filter(|k| beneath(k, &p)).cloned().collect();
        if inside.is_empty() {
            return Err(FsError::NotFound(p));
        }
        if !recursive {
            return Err(FsError::DirectoryNotEmpty(p));
        }
        for k in inside {
            self.files.remove(&k);
        }
        Ok(())
    }
    fn rename(&mut self, from: &str, to: &str) -> Result<(), FsError> {
        let (f, t) = (norm(from)?, norm(to)?);
        if self.stat(&t).is_ok() {
            return Err(FsError::AlreadyExists(t));
        }
        let c = self.files.remove(&f).ok_or(FsError::NotFound(f))?;
        self.files.insert(t, c);
        Ok(())
    }
    fn search(&mut self, paths: &[String], options: &SearchOptions) -> Result<SearchResult, SearchError> {
        search::search(&self.files, paths, options)
    }
}

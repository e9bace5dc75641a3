//! Content search in the working tree, with ripgrep's own crates: `grep-regex` compiles the
//! pattern and `grep-searcher` scans each file's bytes where the store keeps them (borrowed from
//! the database row, or read from the spill directory), so they never cross into the agent. A
//! [`Sink`] keeps the matching lines and their context, within the caller's limits.
//!
//! Which files to search, and how to show what was found, is the agent's business
//! (`guest/src/tools/grep.rs`); this is the `workspace.search` import's mechanism.

use std::borrow::Cow;

use grep_matcher::LineTerminator;
use grep_regex::{RegexMatcher, RegexMatcherBuilder};
use grep_searcher::{BinaryDetection, Searcher, SearcherBuilder, Sink, SinkContext, SinkMatch};

use crate::storage::path::normalize;
use crate::storage::{FsError, StorageError, Stores};

/// How a search matches and how much it returns (`workspace.search-options`).
#[derive(Debug, Clone)]
pub struct SearchOptions {
    /// A regular expression, or a literal string when `literal`.
    pub pattern: String,
    /// Match `pattern` as a literal string.
    pub literal: bool,
    /// Match regardless of case.
    pub ignore_case: bool,
    /// Lines returned before and after each matching line.
    pub context: u32,
    /// Matching lines returned, at most, over all the files.
    pub max_matches: u32,
    /// Characters of a line returned, at most.
    pub max_line_chars: u32,
}

/// One line of a searched file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// 1-based line number.
    pub number: u64,
    /// The line without its terminator, lossily decoded, cut to `max_line_chars` characters.
    pub text: String,
    /// The line had more than `max_line_chars` characters.
    pub truncated: bool,
    /// One of the `max_matches` matching lines (false: a context line).
    pub is_match: bool,
}

/// The lines found in one file, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMatches {
    /// Normalised absolute path.
    pub path: String,
    /// Matching lines and their context, each line once.
    pub lines: Vec<Line>,
}

/// What a search found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SearchResult {
    /// Files with matching lines, in the order they were given.
    pub files: Vec<FileMatches>,
    /// Files skipped as binary.
    pub binary: Vec<String>,
    /// Another matching line followed the last one returned, or the result reached [`MAX_RESULT_BYTES`].
    pub more: bool,
}

/// Why a search could not run.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The pattern does not compile.
    #[error("invalid pattern: {0}")]
    InvalidPattern(String),
    /// A path was refused.
    #[error("invalid path: {0}")]
    InvalidPath(String),
    /// Storage failed (a host fault).
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The most a result may hold, counting each line's text and [`LINE_WEIGHT`]: a guest asking
/// for every line of the workspace cannot make the host buffer without bound.
pub const MAX_RESULT_BYTES: usize = 16 << 20;
/// What a returned line costs besides its text, towards [`MAX_RESULT_BYTES`].
const LINE_WEIGHT: usize = 32;
/// A file with a NUL byte in its first this many bytes is binary (git's rule).
const BINARY_PREFIX: usize = 8000;
/// The largest compiled pattern, as the agent allowed before the search moved here.
const PATTERN_SIZE_LIMIT: usize = 1 << 20;
/// The lazy DFA's cache; ripgrep's default (1000 MiB) is too much for one import call.
const DFA_SIZE_LIMIT: usize = 16 << 20;

/// Searches the files at `paths`, in order, in one transaction's view of the workspace. Paths
/// that name no file are skipped.
pub fn search(stores: Stores<'_>, paths: &[String], options: &SearchOptions) -> Result<SearchResult, SearchError> {
    let matcher = RegexMatcherBuilder::new()
        .case_insensitive(options.ignore_case)
        .fixed_strings(options.literal)
        .multi_line(true)
        .crlf(true)
        .size_limit(PATTERN_SIZE_LIMIT)
        .dfa_size_limit(DFA_SIZE_LIMIT)
        .build(&options.pattern)
        .map_err(|e| SearchError::InvalidPattern(e.to_string()))?;
    let context = options.context as usize;
    let mut searcher = SearcherBuilder::new()
        .line_terminator(LineTerminator::crlf())
        .line_number(true)
        .before_context(context)
        .after_context(context)
        .binary_detection(BinaryDetection::none())
        .build();
    let mut found = Found::new(options);
    let (worktree, objects) = (stores.worktree(), stores.objects());
    for path in paths {
        if found.done() {
            break;
        }
        let path = normalize(path).map_err(|e| SearchError::InvalidPath(e.to_string()))?;
        let id = match worktree.blob_id(&path) {
            Ok(id) => id,
            Err(FsError::Storage(e)) => return Err(e.into()),
            Err(_) => continue,
        };
        let searched = objects.read_with(&id, |_, data| found.file(&mut searcher, &matcher, path, &data))?;
        // Searching a slice fails only when the sink does, and `FileSink` never does.
        searched.transpose().map_err(StorageError::Io)?;
    }
    Ok(found.result)
}

/// What the search has found so far, over all files.
struct Found {
    result: SearchResult,
    context: u64,
    max_matches: u32,
    max_line_chars: usize,
    /// Matching lines returned.
    matches: u32,
    /// What the returned lines weigh, towards [`MAX_RESULT_BYTES`].
    weight: usize,
}

impl Found {
    fn new(options: &SearchOptions) -> Self {
        Self {
            result: SearchResult::default(),
            context: options.context.into(),
            max_matches: options.max_matches,
            max_line_chars: options.max_line_chars as usize,
            matches: 0,
            weight: 0,
        }
    }

    /// Nothing more is wanted: the limit is reached and known to be exceeded, or the cap is hit.
    fn done(&self) -> bool {
        self.weight > MAX_RESULT_BYTES || (self.matches == self.max_matches && self.result.more)
    }

    /// Searches one file's contents.
    fn file(
        &mut self,
        searcher: &mut Searcher,
        matcher: &RegexMatcher,
        path: String,
        data: &[u8],
    ) -> std::io::Result<()> {
        if data[..data.len().min(BINARY_PREFIX)].contains(&0) {
            self.result.binary.push(path);
            return Ok(());
        }
        let mut sink = FileSink {
            found: self,
            lines: Vec::new(),
            last_match: None,
            stopped: false,
        };
        searcher.search_slice(matcher, data, &mut sink)?;
        // What `\n` separates: after a final newline comes an empty line, shown as context.
        if let Some(last) = sink.last_match
            && !sink.stopped
            && data.ends_with(b"\n")
        {
            let empty_line = data.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
            if last + sink.found.context >= empty_line {
                sink.push(empty_line, b"", false);
            }
        }
        let lines = sink.lines;
        if !lines.is_empty() {
            self.result.files.push(FileMatches { path, lines });
        }
        Ok(())
    }
}

/// The sink of one file's search.
struct FileSink<'a> {
    found: &'a mut Found,
    lines: Vec<Line>,
    /// The last matching line returned from this file.
    last_match: Option<u64>,
    /// The search stopped before the end of the file.
    stopped: bool,
}

impl FileSink<'_> {
    /// Takes a line the searcher reports; returns whether the search goes on.
    fn take(&mut self, number: u64, bytes: &[u8], is_match: bool) -> bool {
        let go_on = self.keep(number, bytes, is_match);
        self.stopped = !go_on;
        go_on
    }

    /// Keeps the line if it is wanted; returns whether more lines are.
    fn keep(&mut self, number: u64, bytes: &[u8], is_match: bool) -> bool {
        let found = &mut *self.found;
        if found.matches < found.max_matches {
            if is_match {
                found.matches += 1;
                self.last_match = Some(number);
            }
            self.push(number, bytes, is_match);
            return !self.found.done();
        }
        // Past the limit, only two things are still wanted: the context after the last match
        // returned, and whether another match follows.
        found.result.more |= is_match;
        let end = self.last_match.map(|last| last + found.context);
        if end.is_some_and(|end| number <= end) {
            self.push(number, bytes, false);
        }
        let more_context = end.is_some_and(|end| number < end);
        (more_context || !self.found.result.more) && self.found.weight <= MAX_RESULT_BYTES
    }

    fn push(&mut self, number: u64, bytes: &[u8], is_match: bool) {
        let (text, truncated) = line_text(bytes, self.found.max_line_chars);
        self.found.weight += text.len() + LINE_WEIGHT;
        if self.found.weight > MAX_RESULT_BYTES {
            self.found.result.more = true;
        }
        self.lines.push(Line {
            number,
            text,
            truncated,
            is_match,
        });
    }
}

impl Sink for FileSink<'_> {
    type Error = std::io::Error;

    fn matched(&mut self, _: &Searcher, line: &SinkMatch<'_>) -> Result<bool, Self::Error> {
        Ok(self.take(line.line_number().unwrap_or(0), line.bytes(), true))
    }

    fn context(&mut self, _: &Searcher, line: &SinkContext<'_>) -> Result<bool, Self::Error> {
        Ok(self.take(line.line_number().unwrap_or(0), line.bytes(), false))
    }
}

/// A line without its terminator (`\n`, or `\r\n`), lossily decoded and cut to `max_chars`
/// characters; whether it was cut. Only a prefix that surely holds `max_chars + 1` characters is
/// decoded, so a huge line costs no more than a short one.
fn line_text(bytes: &[u8], max_chars: usize) -> (String, bool) {
    let line = bytes
        .strip_suffix(b"\r\n")
        .or_else(|| bytes.strip_suffix(b"\n"))
        .unwrap_or(bytes);
    let prefix = &line[..line.len().min(max_chars.saturating_add(1).saturating_mul(4))];
    let text = String::from_utf8_lossy(prefix);
    match text.char_indices().nth(max_chars) {
        Some((at, _)) => (text[..at].to_string(), true),
        None => (Cow::into_owned(text), false),
    }
}

#[cfg(test)]
mod tests;

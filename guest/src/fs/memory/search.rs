//! `search` over the in-memory files: the host's semantics (`host/src/search.rs`) line by line
//! with the `regex` crate, for the tools' unit tests.

use std::collections::BTreeMap;

use regex::RegexBuilder;

use super::norm;
use crate::bindings::pi::worker::workspace::{FileMatches, SearchError, SearchLine, SearchOptions, SearchResult};
use crate::fs::is_binary;

pub fn search(
    files: &BTreeMap<String, Vec<u8>>,
    paths: &[String],
    options: &SearchOptions,
) -> Result<SearchResult, SearchError> {
    let pattern = if options.literal {
        regex::escape(&options.pattern)
    } else {
        options.pattern.clone()
    };
    let regex = RegexBuilder::new(&pattern)
        .case_insensitive(options.ignore_case)
        .build()
        .map_err(|e| SearchError::InvalidPattern(e.to_string()))?;
    let context = options.context as usize;
    let mut result = SearchResult {
        files: vec![],
        binary: vec![],
        more: false,
    };
    let mut found = 0;
    for path in paths {
        let path = norm(path).map_err(|_| SearchError::InvalidPath(format!("path '{path}' leaves the workspace")))?;
        let Some(bytes) = files.get(&path) else { continue };
        if is_binary(bytes) {
            result.binary.push(path);
            continue;
        }
        let text = String::from_utf8_lossy(bytes).replace("\r\n", "\n");
        let lines: Vec<&str> = text.split('\n').collect();
        // The empty line after a final newline is never a match.
        let matchable = lines.len() - usize::from(text.ends_with('\n'));
        // Line index → whether it is one of the matches returned.
        let mut keep = BTreeMap::new();
        for (i, line) in lines.iter().enumerate().take(matchable) {
            if !regex.is_match(line) {
                continue;
            }
            if found == options.max_matches {
                result.more = true;
                break;
            }
            found += 1;
            for j in i.saturating_sub(context)..=(i + context).min(lines.len() - 1) {
                keep.entry(j).or_insert(false);
            }
            keep.insert(i, true);
        }
        if !keep.is_empty() {
            let lines = keep
                .into_iter()
                .map(|(i, is_match)| {
                    let (text, truncated) = match lines[i].char_indices().nth(options.max_line_chars as usize) {
                        Some((at, _)) => (lines[i][..at].to_string(), true),
                        None => (lines[i].to_string(), false),
                    };
                    SearchLine {
                        number: i as u64 + 1,
                        text,
                        truncated,
                        is_match,
                    }
                })
                .collect();
            result.files.push(FileMatches { path, lines });
        }
        if result.more {
            break;
        }
    }
    Ok(result)
}

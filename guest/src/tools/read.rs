//! `read`: a file's text, from a line offset, within the output limits.

use schemars::JsonSchema;
use serde::Deserialize;

use super::ToolOutput;
use crate::fs::{Workspace, describe, is_binary};
use crate::truncate::{MAX_BYTES, MAX_LINES, TruncatedBy, format_size, truncate_head};

pub const NAME: &str = "read";
pub const DESCRIPTION: &str = "Read the contents of a file. Output is truncated to 2000 lines or 50KB (whichever is hit first). Use offset/limit for large files. When you need the full file, continue with offset until complete.";

#[derive(Deserialize, JsonSchema)]
pub struct Args {
    /// Path to the file to read (relative or absolute)
    path: String,
    /// Line number to start reading from (1-indexed)
    offset: Option<u64>,
    /// Maximum number of lines to read
    limit: Option<u64>,
}

pub fn run(ws: &mut dyn Workspace, args: Args) -> ToolOutput {
    let bytes = ws.read(&args.path).map_err(|e| describe(&e, &args.path))?;
    if is_binary(&bytes) {
        return Ok(format!(
            "[Binary file {}: {}, not shown as text]",
            args.path,
            format_size(bytes.len())
        ));
    }
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.split('\n').collect();
    let start = args.offset.map_or(0, |o| o.saturating_sub(1)) as usize;
    if start >= lines.len() {
        return Err(format!(
            "Offset {} is beyond end of file ({} lines total)",
            args.offset.unwrap_or(0),
            lines.len()
        ));
    }
    let end = match args.limit {
        Some(limit) => start.saturating_add(limit as usize).min(lines.len()),
        None => lines.len(),
    };
    let head = truncate_head(&lines[start..end].join("\n"), MAX_LINES, MAX_BYTES);
    let first = start + 1;
    if head.first_line_too_long {
        return Ok(format!(
            "[Line {first} is {}, exceeds {} limit. Use offset={} with a smaller file or a narrower search (grep) to see parts of it.]",
            format_size(lines[start].len()),
            format_size(MAX_BYTES),
            first + 1
        ));
    }
    if let Some(by) = head.truncated_by {
        let last = first + head.output_lines - 1;
        let limit_note = if by == TruncatedBy::Bytes {
            format!(" ({} limit)", format_size(MAX_BYTES))
        } else {
            String::new()
        };
        return Ok(format!(
            "{}\n\n[Showing lines {first}-{last} of {}{limit_note}. Use offset={} to continue.]",
            head.content,
            lines.len(),
            last + 1
        ));
    }
    if end < lines.len() {
        return Ok(format!(
            "{}\n\n[{} more lines in file. Use offset={} to continue.]",
            head.content,
            lines.len() - end,
            end + 1
        ));
    }
    Ok(head.content)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::memory::MemoryWorkspace;

    fn read(ws: &mut MemoryWorkspace, json: &str) -> ToolOutput {
        run(ws, serde_json::from_str(json).unwrap())
    }

    #[test]
    fn reads_whole_and_windows() {
        let mut ws = MemoryWorkspace::with(&[("/a.txt", "one\ntwo\nthree\n")]);
        assert_eq!(read(&mut ws, r#"{"path":"a.txt"}"#).unwrap(), "one\ntwo\nthree\n");
        assert_eq!(
            read(&mut ws, r#"{"path":"/a.txt","offset":2,"limit":1}"#).unwrap(),
            "two\n\n[2 more lines in file. Use offset=3 to continue.]"
        );
        assert_eq!(
            read(&mut ws, r#"{"path":"a.txt","offset":9}"#).unwrap_err(),
            "Offset 9 is beyond end of file (4 lines total)"
        );
        assert_eq!(read(&mut ws, r#"{"path":"nope"}"#).unwrap_err(), "Path not found: nope");
    }

    #[test]
    fn truncates_long_files_with_a_continuation_hint() {
        let text: String = (1..=2500).map(|i| format!("line {i}\n")).collect();
        let mut ws = MemoryWorkspace::with(&[("/big.txt", &text)]);
        let out = read(&mut ws, r#"{"path":"big.txt"}"#).unwrap();
        assert!(
            out.ends_with("[Showing lines 1-2000 of 2501. Use offset=2001 to continue.]"),
            "{}",
            &out[out.len() - 80..]
        );
        let wide = "x".repeat(60 * 1024);
        let mut ws = MemoryWorkspace::with(&[("/wide.txt", &wide)]);
        assert!(
            read(&mut ws, r#"{"path":"wide.txt"}"#)
                .unwrap()
                .starts_with("[Line 1 is 60.0KB, exceeds 50.0KB limit.")
        );
    }

    #[test]
    fn binary_and_invalid_utf8() {
        let mut ws = MemoryWorkspace::default();
        ws.write("/bin", &[0, 1, 2, 3]).unwrap();
        ws.write("/latin1", &[b'c', b'a', b'f', 0xe9]).unwrap();
        assert_eq!(
            read(&mut ws, r#"{"path":"bin"}"#).unwrap(),
            "[Binary file bin: 4B, not shown as text]"
        );
        assert_eq!(read(&mut ws, r#"{"path":"latin1"}"#).unwrap(), "caf\u{fffd}");
    }
}

//! `grep`: search file contents with a regular expression (or a literal string).

use globset::GlobBuilder;
use regex::RegexBuilder;
use schemars::JsonSchema;
use serde::Deserialize;

use super::ToolOutput;
use crate::bindings::pi::worker::workspace::EntryKind;
use crate::fs::{Workspace, describe, is_binary, relative};
use crate::truncate::{GREP_MAX_LINE_CHARS, listing, truncate_line};

pub const NAME: &str = "grep";
pub const DESCRIPTION: &str = "Search file contents for a pattern. Returns matching lines as `path:line: text` (context lines as `path-line- text`). Binary files are skipped. Output is truncated to 100 matches or 50KB (whichever is hit first). Long lines are truncated to 500 chars.";

const DEFAULT_LIMIT: usize = 100;

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Args {
    /// Search pattern (regex or literal string)
    pattern: String,
    /// Directory or file to search (default: the workspace root)
    path: Option<String>,
    /// Filter files by glob pattern, e.g. '*.ts' or 'src/**/*.spec.ts'
    glob: Option<String>,
    /// Case-insensitive search (default: false)
    ignore_case: Option<bool>,
    /// Treat pattern as literal string instead of regex (default: false)
    literal: Option<bool>,
    /// Number of lines to show before and after each match (default: 0)
    context: Option<usize>,
    /// Maximum number of matches to return (default: 100)
    limit: Option<usize>,
}

pub fn run(ws: &mut dyn Workspace, args: Args) -> ToolOutput {
    let pattern = if args.literal.unwrap_or(false) {
        regex::escape(&args.pattern)
    } else {
        args.pattern.clone()
    };
    let regex = RegexBuilder::new(&pattern)
        .case_insensitive(args.ignore_case.unwrap_or(false))
        .size_limit(1 << 20)
        .build()
        .map_err(|e| format!("Invalid pattern: {e}"))?;
    let glob = match &args.glob {
        Some(g) => Some(
            GlobBuilder::new(g)
                .build()
                .map_err(|e| format!("Invalid glob: {e}"))?
                .compile_matcher(),
        ),
        None => None,
    };
    let root = args.path.clone().unwrap_or_else(|| "/".into());
    let entry = ws.stat(&root).map_err(|e| describe(&e, &root))?;
    let files: Vec<String> = match entry.kind {
        EntryKind::File => vec![entry.path],
        EntryKind::Directory => ws
            .walk(&root)
            .map_err(|e| describe(&e, &root))?
            .into_iter()
            .filter(|e| e.kind == EntryKind::File)
            .map(|e| e.path)
            .collect(),
    };
    let limit = args.limit.unwrap_or(DEFAULT_LIMIT).max(1);
    let context = args.context.unwrap_or(0);
    let mut out: Vec<String> = Vec::new();
    let (mut matches, mut more, mut lines_cut) = (0, false, false);
    'files: for path in files {
        let shown = relative(&path);
        let name = shown.rsplit('/').next().unwrap_or(shown);
        if let Some(glob) = &glob
            && !glob.is_match(shown)
            && !glob.is_match(name)
        {
            continue;
        }
        let Ok(bytes) = ws.read(&path) else { continue };
        if is_binary(&bytes) {
            continue;
        }
        let text = String::from_utf8_lossy(&bytes).replace("\r\n", "\n");
        let lines: Vec<&str> = text.split('\n').collect();
        for (i, line) in lines.iter().enumerate() {
            if !regex.is_match(line) {
                continue;
            }
            if matches == limit {
                more = true;
                break 'files;
            }
            let (from, to) = (i.saturating_sub(context), (i + context).min(lines.len() - 1));
            for (j, shown_line) in lines.iter().enumerate().take(to + 1).skip(from) {
                let (text, cut) = truncate_line(shown_line, GREP_MAX_LINE_CHARS);
                lines_cut |= cut;
                let sep = if j == i { ':' } else { '-' };
                out.push(format!("{shown}{sep}{}{sep} {text}", j + 1));
            }
            matches += 1;
        }
    }
    if out.is_empty() {
        return Ok("No matches found".into());
    }
    let count_limit = more.then(|| {
        format!(
            "{limit} matches limit reached. Use limit={} for more, or refine pattern",
            limit * 2
        )
    });
    let lines_cut = lines_cut
        .then(|| format!("Some lines truncated to {GREP_MAX_LINE_CHARS} chars. Use read tool to see full lines"));
    Ok(listing(&out, count_limit, lines_cut))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::memory::MemoryWorkspace;

    fn grep(ws: &mut MemoryWorkspace, json: &str) -> ToolOutput {
        run(ws, serde_json::from_str(json).unwrap())
    }

    fn sample() -> MemoryWorkspace {
        MemoryWorkspace::with(&[
            ("/src/a.ts", "const Foo = 1;\nfoo();\nbar();\n"),
            ("/src/b.js", "foo.bar\n"),
            ("/README.md", "Foo (a.b)\n"),
        ])
    }

    #[test]
    fn finds_matches_with_paths_lines_and_options() {
        let mut ws = sample();
        assert_eq!(
            grep(&mut ws, r#"{"pattern":"foo"}"#).unwrap(),
            "src/a.ts:2: foo();\nsrc/b.js:1: foo.bar"
        );
        assert_eq!(
            grep(&mut ws, r#"{"pattern":"foo","ignoreCase":true,"glob":"*.ts"}"#).unwrap(),
            "src/a.ts:1: const Foo = 1;\nsrc/a.ts:2: foo();"
        );
        assert_eq!(
            grep(&mut ws, r#"{"pattern":"(a.b)","literal":true}"#).unwrap(),
            "README.md:1: Foo (a.b)"
        );
        assert_eq!(
            grep(&mut ws, r#"{"pattern":"^foo\\(","path":"src/a.ts","context":1}"#).unwrap(),
            "src/a.ts-1- const Foo = 1;\nsrc/a.ts:2: foo();\nsrc/a.ts-3- bar();"
        );
        assert_eq!(grep(&mut ws, r#"{"pattern":"zzz"}"#).unwrap(), "No matches found");
        assert!(
            grep(&mut ws, r#"{"pattern":"("}"#)
                .unwrap_err()
                .starts_with("Invalid pattern")
        );
        assert_eq!(
            grep(&mut ws, r#"{"pattern":"x","path":"nope"}"#).unwrap_err(),
            "Path not found: nope"
        );
    }

    #[test]
    fn invalid_utf8_is_searched_lossily() {
        let mut ws = MemoryWorkspace::default();
        ws.write("/latin1.txt", b"caf\xe9 ol\xe9\nplain foo\n").unwrap();
        assert_eq!(
            grep(&mut ws, r#"{"pattern":"ol"}"#).unwrap(),
            "latin1.txt:1: caf\u{fffd} ol\u{fffd}"
        );
        assert_eq!(
            grep(&mut ws, r#"{"pattern":"foo"}"#).unwrap(),
            "latin1.txt:2: plain foo"
        );
    }

    #[test]
    fn limits_skips_binary_and_cuts_long_lines() {
        let mut ws = sample();
        ws.write("/bin.dat", b"foo\0foo").unwrap();
        ws.write("/long.txt", format!("foo{}", "x".repeat(600)).as_bytes())
            .unwrap();
        let out = grep(&mut ws, r#"{"pattern":"foo","limit":1}"#).unwrap();
        assert!(
            out.contains("[1 matches limit reached. Use limit=2 for more, or refine pattern."),
            "{out}"
        );
        let out = grep(&mut ws, r#"{"pattern":"foo","path":"long.txt"}"#).unwrap();
        assert!(
            out.contains("... [truncated]") && out.ends_with("Use read tool to see full lines]"),
            "{out}"
        );
        assert!(!grep(&mut ws, r#"{"pattern":"foo"}"#).unwrap().contains("bin.dat"));
    }
}

//! `grep`: search file contents with a regular expression (or a literal string).

use globset::GlobBuilder;
use schemars::JsonSchema;
use serde::Deserialize;

use super::ToolOutput;
use crate::bindings::pi::worker::workspace::{EntryKind, FileMatches, SearchError, SearchOptions};
use crate::fs::{Workspace, describe, relative};
use crate::gitignore;
use crate::truncate::{GREP_MAX_LINE_CHARS, listing, mark_cut};

pub const NAME: &str = "grep";
pub const DESCRIPTION: &str = "Search file contents for a pattern. Returns matching lines as `path:line: text` (context lines as `path-line- text`). Binary files and files ignored by .gitignore are skipped (ignored: true includes them). Output is truncated to 100 matches or 50KB (whichever is hit first). Long lines are truncated to 500 chars.";

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
    /// Include files ignored by .gitignore (default: false)
    ignored: Option<bool>,
}

pub fn run(ws: &mut dyn Workspace, args: Args) -> ToolOutput {
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
        EntryKind::Directory => gitignore::walk(ws, &entry.path, args.ignored.unwrap_or(false))
            .map_err(|e| describe(&e, &root))?
            .into_iter()
            .filter(|e| e.kind == EntryKind::File)
            .map(|e| e.path)
            .filter(|path| {
                let shown = relative(path);
                let name = shown.rsplit('/').next().unwrap_or(shown);
                glob.as_ref()
                    .is_none_or(|glob| glob.is_match(shown) || glob.is_match(name))
            })
            .collect(),
    };
    let limit = args.limit.unwrap_or(DEFAULT_LIMIT).max(1);
    let context = args.context.unwrap_or(0);
    let options = SearchOptions {
        pattern: args.pattern,
        literal: args.literal.unwrap_or(false),
        ignore_case: args.ignore_case.unwrap_or(false),
        context: u32::try_from(context).unwrap_or(u32::MAX),
        max_matches: u32::try_from(limit).unwrap_or(u32::MAX),
        max_line_chars: GREP_MAX_LINE_CHARS as u32,
    };
    let found = ws.search(&files, &options).map_err(|e| match e {
        SearchError::InvalidPattern(reason) => format!("Invalid pattern: {reason}"),
        SearchError::InvalidPath(reason) => format!("Invalid path '{root}': {reason}"),
    })?;
    let mut out: Vec<String> = Vec::new();
    let mut lines_cut = false;
    for file in &found.files {
        lines_cut |= show(file, u64::from(options.context), &mut out);
    }
    if out.is_empty() {
        return Ok("No matches found".into());
    }
    let count_limit = found.more.then(|| {
        format!(
            "{limit} matches limit reached. Use limit={} for more, or refine pattern",
            limit * 2
        )
    });
    let lines_cut = lines_cut
        .then(|| format!("Some lines truncated to {GREP_MAX_LINE_CHARS} chars. Use read tool to see full lines"));
    Ok(listing(&out, count_limit, lines_cut))
}

/// Appends each match of `file` with the `context` lines around it (pi's blocks: a line in
/// two matches' context shows in both); returns whether a line shown was cut.
fn show(file: &FileMatches, context: u64, out: &mut Vec<String>) -> bool {
    let shown = relative(&file.path);
    let mut cut = false;
    for matched in file.lines.iter().filter(|l| l.is_match) {
        let (from, to) = (
            matched.number.saturating_sub(context),
            matched.number.saturating_add(context),
        );
        let start = file.lines.partition_point(|l| l.number < from);
        for line in file.lines[start..].iter().take_while(|l| l.number <= to) {
            cut |= line.truncated;
            let text = if line.truncated {
                mark_cut(&line.text)
            } else {
                line.text.clone()
            };
            let sep = if line.number == matched.number { ':' } else { '-' };
            out.push(format!("{shown}{sep}{}{sep} {text}", line.number));
        }
    }
    cut
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

    #[test]
    fn context_blocks_repeat_shared_lines_as_pi_shows_them() {
        let mut ws = MemoryWorkspace::with(&[("/a.txt", "x\nfoo\nfoo\ny\n")]);
        assert_eq!(
            grep(&mut ws, r#"{"pattern":"foo","context":1}"#).unwrap(),
            "a.txt-1- x\na.txt:2: foo\na.txt-3- foo\na.txt-2- foo\na.txt:3: foo\na.txt-4- y"
        );
        assert_eq!(
            grep(&mut ws, r#"{"pattern":"foo","context":1,"limit":1}"#).unwrap(),
            "a.txt-1- x\na.txt:2: foo\na.txt-3- foo\n\n[1 matches limit reached. Use limit=2 for more, or refine pattern]"
        );
        // After the final newline comes an empty line, shown as context.
        assert_eq!(
            grep(&mut ws, r#"{"pattern":"y","context":1}"#).unwrap(),
            "a.txt-3- foo\na.txt:4: y\na.txt-5- "
        );
    }

    #[test]
    fn gitignored_files_are_skipped_unless_asked_for() {
        let mut ws = MemoryWorkspace::with(&[
            ("/.gitignore", "node_modules/\n*.log\n"),
            ("/node_modules/x.js", "foo\n"),
            ("/debug.log", "foo\n"),
            ("/a.js", "foo\n"),
        ]);
        assert_eq!(grep(&mut ws, r#"{"pattern":"foo"}"#).unwrap(), "a.js:1: foo");
        assert_eq!(
            grep(&mut ws, r#"{"pattern":"foo","ignored":true}"#).unwrap(),
            "a.js:1: foo\ndebug.log:1: foo\nnode_modules/x.js:1: foo"
        );
        // Named explicitly, an ignored directory or file is searched.
        assert_eq!(
            grep(&mut ws, r#"{"pattern":"foo","path":"node_modules"}"#).unwrap(),
            "node_modules/x.js:1: foo"
        );
        assert_eq!(
            grep(&mut ws, r#"{"pattern":"foo","path":"debug.log"}"#).unwrap(),
            "debug.log:1: foo"
        );
    }
}

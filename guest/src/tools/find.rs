//! `find`: paths matching a glob.

use globset::GlobBuilder;
use schemars::JsonSchema;
use serde::Deserialize;

use super::ToolOutput;
use crate::bindings::pi::worker::workspace::EntryKind;
use crate::fs::{Workspace, describe, relative};
use crate::gitignore;
use crate::truncate::listing;

pub const NAME: &str = "find";
pub const DESCRIPTION: &str = "Search for files by glob pattern. A pattern without '/' matches file names anywhere ('*.ts'); a pattern with '/' matches paths relative to the search directory ('src/**/*.spec.ts'). Returns paths relative to the workspace root, directories with a '/' suffix. Paths ignored by .gitignore are left out (ignored: true includes them). Output is truncated to 1000 results or 50KB (whichever is hit first).";

const DEFAULT_LIMIT: usize = 1000;

#[derive(Deserialize, JsonSchema)]
pub struct Args {
    /// Glob pattern to match files, e.g. '*.ts', '**/*.json', or 'src/**/*.spec.ts'
    pattern: String,
    /// Directory to search in (default: the workspace root)
    path: Option<String>,
    /// Maximum number of results (default: 1000)
    limit: Option<usize>,
    /// Include paths ignored by .gitignore (default: false)
    ignored: Option<bool>,
}

pub fn run(ws: &mut dyn Workspace, args: Args) -> ToolOutput {
    let glob = GlobBuilder::new(&args.pattern)
        .literal_separator(true)
        .build()
        .map_err(|e| format!("Invalid glob pattern: {e}"))?
        .compile_matcher();
    let on_paths = args.pattern.contains('/');
    let root = args.path.unwrap_or_else(|| "/".into());
    let base = ws.stat(&root).map_err(|e| describe(&e, &root))?.path;
    let limit = args.limit.unwrap_or(DEFAULT_LIMIT).max(1);
    let entries = gitignore::walk(ws, &base, args.ignored.unwrap_or(false)).map_err(|e| describe(&e, &root))?;
    let mut found = Vec::new();
    for entry in entries {
        let below = relative(entry.path.strip_prefix(base.as_str()).unwrap_or(&entry.path));
        let subject = if on_paths {
            below
        } else {
            below.rsplit('/').next().unwrap_or(below)
        };
        if !glob.is_match(subject) {
            continue;
        }
        if found.len() == limit {
            let count_limit = format!(
                "{limit} results limit reached. Use limit={} for more, or refine pattern",
                limit * 2
            );
            return Ok(listing(&found, Some(count_limit), None));
        }
        let shown = relative(&entry.path);
        found.push(if entry.kind == EntryKind::Directory {
            format!("{shown}/")
        } else {
            shown.to_string()
        });
    }
    if found.is_empty() {
        return Ok("No files found matching pattern".into());
    }
    Ok(listing(&found, None, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::memory::MemoryWorkspace;

    #[test]
    fn matches_names_or_paths() {
        let mut ws = MemoryWorkspace::with(&[("/src/a.ts", ""), ("/src/x/b.spec.ts", ""), ("/c.json", "")]);
        let find = |ws: &mut MemoryWorkspace, json: &str| run(ws, serde_json::from_str(json).unwrap());
        assert_eq!(
            find(&mut ws, r#"{"pattern":"*.ts"}"#).unwrap(),
            "src/a.ts\nsrc/x/b.spec.ts"
        );
        assert_eq!(
            find(&mut ws, r#"{"pattern":"src/**/*.spec.ts"}"#).unwrap(),
            "src/x/b.spec.ts"
        );
        assert_eq!(
            find(&mut ws, r#"{"pattern":"x/*","path":"src"}"#).unwrap(),
            "src/x/b.spec.ts"
        );
        assert_eq!(find(&mut ws, r#"{"pattern":"x"}"#).unwrap(), "src/x/");
        assert_eq!(
            find(&mut ws, r#"{"pattern":"*.py"}"#).unwrap(),
            "No files found matching pattern"
        );
        assert!(
            find(&mut ws, r#"{"pattern":"*.ts","limit":1}"#)
                .unwrap()
                .ends_with("[1 results limit reached. Use limit=2 for more, or refine pattern]")
        );
        assert!(
            find(&mut ws, r#"{"pattern":"a[","path":"src"}"#)
                .unwrap_err()
                .starts_with("Invalid glob pattern")
        );
    }

    #[test]
    fn gitignored_paths_are_left_out_unless_asked_for() {
        let mut ws = MemoryWorkspace::with(&[("/.gitignore", "dist/\n"), ("/dist/a.js", ""), ("/src/b.js", "")]);
        let find = |ws: &mut MemoryWorkspace, json: &str| run(ws, serde_json::from_str(json).unwrap());
        assert_eq!(find(&mut ws, r#"{"pattern":"*.js"}"#).unwrap(), "src/b.js");
        assert_eq!(
            find(&mut ws, r#"{"pattern":"*.js","ignored":true}"#).unwrap(),
            "dist/a.js\nsrc/b.js"
        );
    }
}

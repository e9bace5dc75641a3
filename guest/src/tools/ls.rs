//! `ls`: a directory's entries.

use schemars::JsonSchema;
use serde::Deserialize;

use super::ToolOutput;
use crate::bindings::pi::worker::workspace::EntryKind;
use crate::fs::{Workspace, describe};
use crate::gitignore;
use crate::truncate::listing;

pub const NAME: &str = "ls";
pub const DESCRIPTION: &str = "List directory contents. Returns entries sorted alphabetically, with '/' suffix for directories. Includes dotfiles; entries ignored by .gitignore are left out (ignored: true includes them). Output is truncated to 500 entries or 50KB (whichever is hit first).";

const DEFAULT_LIMIT: usize = 500;

#[derive(Deserialize, JsonSchema)]
pub struct Args {
    /// Directory to list (default: the workspace root)
    path: Option<String>,
    /// Maximum number of entries to return (default: 500)
    limit: Option<usize>,
    /// Include entries ignored by .gitignore (default: false)
    ignored: Option<bool>,
}

pub fn run(ws: &mut dyn Workspace, args: Args) -> ToolOutput {
    let path = args.path.unwrap_or_else(|| "/".into());
    let limit = args.limit.unwrap_or(DEFAULT_LIMIT);
    let mut entries = gitignore::list(ws, &path, args.ignored.unwrap_or(false)).map_err(|e| describe(&e, &path))?;
    entries.sort_by_key(|e| crate::fs::relative(&e.path).to_lowercase());
    if entries.is_empty() || limit == 0 {
        return Ok("(empty directory)".into());
    }
    let limited = entries.len() > limit;
    let names: Vec<String> = entries
        .iter()
        .take(limit)
        .map(|e| {
            let name = e.path.rsplit('/').next().unwrap_or_default();
            if e.kind == EntryKind::Directory {
                format!("{name}/")
            } else {
                name.to_string()
            }
        })
        .collect();
    let count_limit = limited.then(|| format!("{limit} entries limit reached. Use limit={} for more", limit * 2));
    Ok(listing(&names, count_limit, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::memory::MemoryWorkspace;

    #[test]
    fn ten_thousand_entries_are_cut_at_the_limit() {
        let mut ws = MemoryWorkspace::default();
        for i in 0..10_000 {
            ws.write(&format!("/many/f{i:05}"), b"").unwrap();
        }
        let out = run(&mut ws, serde_json::from_str(r#"{"path":"many"}"#).unwrap()).unwrap();
        assert_eq!(out.lines().count(), 502);
        assert!(
            out.ends_with("[500 entries limit reached. Use limit=1000 for more]"),
            "{}",
            &out[out.len() - 60..]
        );
    }

    #[test]
    fn lists_sorted_with_dir_suffix_and_limit() {
        let mut ws = MemoryWorkspace::with(&[("/b.txt", ""), ("/A.md", ""), ("/src/x.ts", ""), ("/.env", "")]);
        let ls = |ws: &mut MemoryWorkspace, json: &str| run(ws, serde_json::from_str(json).unwrap());
        assert_eq!(ls(&mut ws, "{}").unwrap(), ".env\nA.md\nb.txt\nsrc/");
        assert_eq!(ls(&mut ws, r#"{"path":"src"}"#).unwrap(), "x.ts");
        assert_eq!(
            ls(&mut ws, r#"{"limit":2}"#).unwrap(),
            ".env\nA.md\n\n[2 entries limit reached. Use limit=4 for more]"
        );
        assert_eq!(ls(&mut ws, r#"{"path":"nope"}"#).unwrap_err(), "Path not found: nope");
        assert_eq!(
            ls(&mut ws, r#"{"path":"b.txt"}"#).unwrap_err(),
            "Not a directory: /b.txt"
        );
    }

    #[test]
    fn gitignored_entries_are_left_out_unless_asked_for() {
        let mut ws = MemoryWorkspace::with(&[("/.gitignore", "*.log\n"), ("/a.log", ""), ("/b.txt", "")]);
        let ls = |ws: &mut MemoryWorkspace, json: &str| run(ws, serde_json::from_str(json).unwrap());
        assert_eq!(ls(&mut ws, "{}").unwrap(), ".gitignore\nb.txt");
        assert_eq!(ls(&mut ws, r#"{"ignored":true}"#).unwrap(), ".gitignore\na.log\nb.txt");
    }
}

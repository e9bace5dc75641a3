//! `tree`: a directory's structure, drawn.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::ToolOutput;
use crate::bindings::pi::worker::workspace::EntryKind;
use crate::fs::{Workspace, describe};
use crate::gitignore;
use crate::truncate::{MAX_BYTES, MAX_LINES, format_size, truncate_head, with_notices};

pub const NAME: &str = "tree";
pub const DESCRIPTION: &str = "Show the directory structure as a tree, directories with a '/' suffix. Paths ignored by .gitignore are left out (ignored: true includes them). Output is truncated to 2000 lines or 50KB.";

#[derive(Deserialize, JsonSchema)]
pub struct Args {
    /// Directory to show (default: the workspace root)
    path: Option<String>,
    /// How many levels deep to show (default: unlimited)
    depth: Option<usize>,
    /// Include paths ignored by .gitignore (default: false)
    ignored: Option<bool>,
}

#[derive(Default)]
struct Node {
    dir: bool,
    children: BTreeMap<String, Node>,
}

pub fn run(ws: &mut dyn Workspace, args: Args) -> ToolOutput {
    let root = args.path.unwrap_or_else(|| "/".into());
    let base = ws.stat(&root).map_err(|e| describe(&e, &root))?;
    if base.kind == EntryKind::File {
        return Err(format!("Not a directory: {root}"));
    }
    let depth = args.depth.unwrap_or(usize::MAX);
    let mut top = Node {
        dir: true,
        ..Node::default()
    };
    let (mut dirs, mut files) = (0, 0);
    let entries = gitignore::walk(ws, &base.path, args.ignored.unwrap_or(false)).map_err(|e| describe(&e, &root))?;
    for entry in entries {
        let below = entry
            .path
            .strip_prefix(base.path.as_str())
            .unwrap_or(&entry.path)
            .trim_start_matches('/');
        let segments: Vec<&str> = below.split('/').collect();
        if segments.len() > depth {
            continue;
        }
        let is_dir = entry.kind == EntryKind::Directory;
        if is_dir {
            dirs += 1
        } else {
            files += 1
        }
        let mut node = &mut top;
        for segment in segments {
            node = node.children.entry(segment.to_string()).or_default();
        }
        node.dir = is_dir;
    }
    let mut lines = vec![if base.path == "/" {
        ".".to_string()
    } else {
        base.path.clone()
    }];
    draw(&top, "", &mut lines);
    lines.push(String::new());
    lines.push(format!("{dirs} directories, {files} files"));
    let head = truncate_head(&lines.join("\n"), MAX_LINES, MAX_BYTES);
    let notices = match head.truncated_by {
        Some(_) => vec![format!(
            "Output truncated to {} lines / {}. Use path or depth to narrow it",
            head.output_lines,
            format_size(MAX_BYTES)
        )],
        None => vec![],
    };
    Ok(with_notices(head.content, &notices))
}

fn draw(node: &Node, prefix: &str, out: &mut Vec<String>) {
    let count = node.children.len();
    for (i, (name, child)) in node.children.iter().enumerate() {
        let last = i + 1 == count;
        let suffix = if child.dir { "/" } else { "" };
        out.push(format!("{prefix}{}{name}{suffix}", if last { "└── " } else { "├── " }));
        draw(child, &format!("{prefix}{}", if last { "    " } else { "│   " }), out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::memory::MemoryWorkspace;

    #[test]
    fn draws_nested_dirs_with_depth() {
        let mut ws = MemoryWorkspace::with(&[("/README.md", ""), ("/src/index.ts", ""), ("/src/lib/u.ts", "")]);
        let tree = |ws: &mut MemoryWorkspace, json: &str| run(ws, serde_json::from_str(json).unwrap());
        assert_eq!(
            tree(&mut ws, "{}").unwrap(),
            ".\n├── README.md\n└── src/\n    ├── index.ts\n    └── lib/\n        └── u.ts\n\n2 directories, 3 files"
        );
        assert_eq!(
            tree(&mut ws, r#"{"depth":1}"#).unwrap(),
            ".\n├── README.md\n└── src/\n\n1 directories, 1 files"
        );
        assert_eq!(
            tree(&mut ws, r#"{"path":"src/lib"}"#).unwrap(),
            "/src/lib\n└── u.ts\n\n0 directories, 1 files"
        );
        assert_eq!(
            tree(&mut ws, r#"{"path":"README.md"}"#).unwrap_err(),
            "Not a directory: README.md"
        );
    }

    #[test]
    fn gitignored_paths_are_left_out_unless_asked_for() {
        let mut ws = MemoryWorkspace::with(&[("/.gitignore", "dist\n"), ("/dist/a.js", ""), ("/b.js", "")]);
        let tree = |ws: &mut MemoryWorkspace, json: &str| run(ws, serde_json::from_str(json).unwrap());
        assert_eq!(
            tree(&mut ws, "{}").unwrap(),
            ".\n├── .gitignore\n└── b.js\n\n0 directories, 2 files"
        );
        assert_eq!(
            tree(&mut ws, r#"{"ignored":true}"#).unwrap(),
            ".\n├── .gitignore\n├── b.js\n└── dist/\n    └── a.js\n\n1 directories, 3 files"
        );
    }
}

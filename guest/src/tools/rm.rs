//! `rm`: delete a file or directory.

use schemars::JsonSchema;
use serde::Deserialize;

use super::ToolOutput;
use crate::fs::{Workspace, describe};

pub const NAME: &str = "rm";
pub const DESCRIPTION: &str = "Delete a file, or a directory with recursive: true.";

#[derive(Deserialize, JsonSchema)]
pub struct Args {
    /// Path to the file or directory to delete
    path: String,
    /// Delete a directory and everything in it (default: false)
    recursive: Option<bool>,
}

pub fn run(ws: &mut dyn Workspace, args: Args) -> ToolOutput {
    ws.remove(&args.path, args.recursive.unwrap_or(false))
        .map_err(|e| describe(&e, &args.path))?;
    Ok(format!("Removed {}", args.path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::memory::MemoryWorkspace;

    #[test]
    fn removes_files_and_needs_recursive_for_dirs() {
        let mut ws = MemoryWorkspace::with(&[("/a", ""), ("/d/x", "")]);
        let rm = |ws: &mut MemoryWorkspace, json: &str| run(ws, serde_json::from_str(json).unwrap());
        assert_eq!(rm(&mut ws, r#"{"path":"a"}"#).unwrap(), "Removed a");
        assert!(
            rm(&mut ws, r#"{"path":"d"}"#)
                .unwrap_err()
                .starts_with("Directory not empty: d.")
        );
        assert_eq!(rm(&mut ws, r#"{"path":"d","recursive":true}"#).unwrap(), "Removed d");
        assert_eq!(rm(&mut ws, r#"{"path":"a"}"#).unwrap_err(), "Path not found: a");
    }
}

//! `mv`: move or rename a file or directory.

use schemars::JsonSchema;
use serde::Deserialize;

use super::ToolOutput;
use crate::fs::{Workspace, describe};

pub const NAME: &str = "mv";
pub const DESCRIPTION: &str = "Move or rename a file or directory. Creates missing parent directories of the destination; refuses to overwrite an existing path.";

#[derive(Deserialize, JsonSchema)]
pub struct Args {
    /// Path to move
    from: String,
    /// Destination path
    to: String,
}

pub fn run(ws: &mut dyn Workspace, args: Args) -> ToolOutput {
    ws.rename(&args.from, &args.to).map_err(|e| describe(&e, &args.from))?;
    Ok(format!("Moved {} to {}", args.from, args.to))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::memory::MemoryWorkspace;

    #[test]
    fn moves_and_refuses_overwrite() {
        let mut ws = MemoryWorkspace::with(&[("/a", "1"), ("/b", "2")]);
        let mv = |ws: &mut MemoryWorkspace, json: &str| run(ws, serde_json::from_str(json).unwrap());
        assert_eq!(mv(&mut ws, r#"{"from":"a","to":"c/a"}"#).unwrap(), "Moved a to c/a");
        assert_eq!(ws.files["/c/a"], b"1");
        assert_eq!(
            mv(&mut ws, r#"{"from":"b","to":"c/a"}"#).unwrap_err(),
            "Path already exists: /c/a"
        );
        assert_eq!(
            mv(&mut ws, r#"{"from":"zz","to":"q"}"#).unwrap_err(),
            "Path not found: zz"
        );
    }
}

//! `write`: create or overwrite a file.

use schemars::JsonSchema;
use serde::Deserialize;

use super::ToolOutput;
use crate::fs::{Workspace, describe};

pub const NAME: &str = "write";
pub const DESCRIPTION: &str = "Write content to a file. Creates the file if it doesn't exist, overwrites if it does. Automatically creates parent directories.";

#[derive(Deserialize, JsonSchema)]
pub struct Args {
    /// Path to the file to write (relative or absolute)
    path: String,
    /// Content to write to the file
    content: String,
}

pub fn run(ws: &mut dyn Workspace, args: Args) -> ToolOutput {
    ws.write(&args.path, args.content.as_bytes())
        .map_err(|e| describe(&e, &args.path))?;
    Ok(format!(
        "Successfully wrote {} bytes to {}",
        args.content.len(),
        args.path
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::memory::MemoryWorkspace;

    #[test]
    fn writes_and_reports_bytes() {
        let mut ws = MemoryWorkspace::default();
        let args = serde_json::from_str(r#"{"path":"src/é.ts","content":"héllo"}"#).unwrap();
        assert_eq!(run(&mut ws, args).unwrap(), "Successfully wrote 6 bytes to src/é.ts");
        assert_eq!(ws.files["/src/é.ts"], "héllo".as_bytes());
        let args = serde_json::from_str(r#"{"path":"../x","content":""}"#).unwrap();
        assert!(run(&mut ws, args).unwrap_err().starts_with("Invalid path '../x'"));
    }
}

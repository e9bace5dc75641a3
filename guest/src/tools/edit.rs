//! `edit`: replace one exact, unique piece of a file's text.

use schemars::JsonSchema;
use serde::Deserialize;

use super::ToolOutput;
use crate::fs::{Workspace, describe};

pub const NAME: &str = "edit";
pub const DESCRIPTION: &str = "Edit a file by replacing exact text. The oldText must match exactly (including whitespace). Use this for precise, surgical edits.";

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Args {
    /// Path to the file to edit (relative or absolute)
    path: String,
    /// Exact text to find and replace (must match exactly)
    old_text: String,
    /// New text to replace the old text with
    new_text: String,
}

pub fn run(ws: &mut dyn Workspace, args: Args) -> ToolOutput {
    let path = &args.path;
    let bytes = ws.read(path).map_err(|e| match e {
        crate::bindings::pi::worker::workspace::FsError::NotFound(_) => {
            format!("File not found: {path}")
        }
        other => describe(&other, path),
    })?;
    let raw = String::from_utf8(bytes).map_err(|_| format!("Cannot edit {path}: it is not UTF-8 text"))?;
    let (bom, body) = match raw.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", raw.as_str()),
    };
    // Match on LF text; write back with the file's own line ending.
    let crlf = body
        .find('\n')
        .is_some_and(|i| i > 0 && body.as_bytes()[i - 1] == b'\r');
    let content = to_lf(body);
    let old = to_lf(&args.old_text);
    let new = to_lf(&args.new_text);
    let not_found = || {
        format!(
            "Could not find the exact text in {path}. The old text must match exactly including all whitespace and newlines."
        )
    };
    if old.is_empty() {
        return Err(not_found());
    }
    let occurrences = content.matches(old.as_str()).count();
    if occurrences == 0 {
        return Err(not_found());
    }
    if occurrences > 1 {
        return Err(format!(
            "Found {occurrences} occurrences of the text in {path}. The text must be unique. Please provide more context to make it unique."
        ));
    }
    let updated = content.replacen(old.as_str(), &new, 1);
    if updated == content {
        return Err(format!(
            "No changes made to {path}. The replacement produced identical content. This might indicate an issue with special characters or the text not existing as expected."
        ));
    }
    let updated = if crlf { updated.replace('\n', "\r\n") } else { updated };
    ws.write(path, format!("{bom}{updated}").as_bytes())
        .map_err(|e| describe(&e, path))?;
    Ok(format!("Successfully replaced text in {path}."))
}

fn to_lf(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::memory::MemoryWorkspace;

    fn edit(ws: &mut MemoryWorkspace, path: &str, old: &str, new: &str) -> ToolOutput {
        run(
            ws,
            Args {
                path: path.into(),
                old_text: old.into(),
                new_text: new.into(),
            },
        )
    }

    #[test]
    fn replaces_unique_text_and_refuses_missing_or_ambiguous() {
        let mut ws = MemoryWorkspace::with(&[("/a.ts", "let a = 1;\nlet b = 1;\n")]);
        assert_eq!(
            edit(&mut ws, "a.ts", "a = 1", "a = 2").unwrap(),
            "Successfully replaced text in a.ts."
        );
        assert_eq!(ws.files["/a.ts"], b"let a = 2;\nlet b = 1;\n");
        edit(&mut ws, "a.ts", "b = 1", "b = 3").unwrap();
        assert_eq!(ws.files["/a.ts"], b"let a = 2;\nlet b = 3;\n");
        ws.write("/b.ts", b"x\nx\n").unwrap();
        assert_eq!(
            edit(&mut ws, "b.ts", "x", "y").unwrap_err(),
            "Found 2 occurrences of the text in b.ts. The text must be unique. Please provide more context to make it unique."
        );
        assert!(
            edit(&mut ws, "a.ts", "zzz", "y")
                .unwrap_err()
                .starts_with("Could not find the exact text in a.ts.")
        );
        assert!(
            edit(&mut ws, "a.ts", "", "y")
                .unwrap_err()
                .starts_with("Could not find")
        );
        assert!(
            edit(&mut ws, "a.ts", "a = 2", "a = 2")
                .unwrap_err()
                .starts_with("No changes made to a.ts.")
        );
        assert_eq!(
            edit(&mut ws, "none.ts", "a", "b").unwrap_err(),
            "File not found: none.ts"
        );
    }

    #[test]
    fn keeps_crlf_and_bom() {
        let mut ws = MemoryWorkspace::with(&[("/w.txt", "\u{feff}one\r\ntwo\r\n")]);
        edit(&mut ws, "w.txt", "one\ntwo", "uno\ndos").unwrap();
        assert_eq!(ws.files["/w.txt"], "\u{feff}uno\r\ndos\r\n".as_bytes());
    }
}

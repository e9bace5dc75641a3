//! The compact line a tool call shows as: `✓ write src/a.ts`, `✗ edit src/a.ts: <error>`.

use serde_json::Value;

/// Longest subject shown after a tool's name, in characters.
const SUBJECT_CHARS: usize = 60;
/// Longest error shown after a failed call, in characters.
const ERROR_CHARS: usize = 100;

/// A running call: `write src/a.ts`, `grep TODO in src`, `mv a.ts → b.ts`.
pub fn running(tool: &str, args: &Value) -> String {
    let subject = subject(args);
    if subject.is_empty() {
        tool.to_string()
    } else {
        format!("{tool} {subject}")
    }
}

/// A finished call: `✓ <running>`, or `✗ <running>: <the first line of the error>`.
pub fn finished(running: &str, is_error: bool, result: &str) -> String {
    if !is_error {
        return format!("✓ {running}");
    }
    let error = result
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("failed");
    format!("✗ {running}: {}", shorten(error, ERROR_CHARS))
}

/// What a call is about, in a few words, from the arguments the tools take.
fn subject(args: &Value) -> String {
    let text = |key: &str| args.get(key).and_then(Value::as_str);
    let subject = if let (Some(from), Some(to)) = (text("from"), text("to")) {
        format!("{from} → {to}")
    } else if let Some(pattern) = text("pattern") {
        match text("path") {
            Some(path) => format!("{pattern} in {path}"),
            None => pattern.to_string(),
        }
    } else if let Some(paths) = args.get("paths").and_then(Value::as_array) {
        paths.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" ")
    } else {
        ["path", "ref", "rev", "name", "message"]
            .into_iter()
            .find_map(text)
            .unwrap_or_default()
            .to_string()
    };
    shorten(subject.lines().next().unwrap_or_default(), SUBJECT_CHARS)
}

/// `text`, cut to `max` characters with `…` when longer.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_call_reads_as_its_tool_and_subject() {
        assert_eq!(
            running("write", &json!({ "path": "src/a.ts", "content": "x" })),
            "write src/a.ts"
        );
        assert_eq!(running("mv", &json!({ "from": "a", "to": "b" })), "mv a → b");
        assert_eq!(
            running("grep", &json!({ "pattern": "TODO", "path": "src" })),
            "grep TODO in src"
        );
        assert_eq!(running("git_add", &json!({ "paths": ["a", "b"] })), "git_add a b");
        assert_eq!(
            running("git_commit", &json!({ "message": "Fix it\n\nLong body" })),
            "git_commit Fix it"
        );
        assert_eq!(running("git_status", &json!({})), "git_status");
        assert_eq!(running("read", &json!("not an object")), "read");
        let long = "x".repeat(100);
        assert_eq!(
            running("read", &json!({ "path": long })).chars().count(),
            5 + SUBJECT_CHARS
        );
    }

    #[test]
    fn a_failed_call_shows_the_first_line_of_its_error() {
        assert_eq!(finished("read a", false, "contents"), "✓ read a");
        assert_eq!(
            finished("edit a", true, "\nCould not find the text.\nMore detail"),
            "✗ edit a: Could not find the text."
        );
        assert_eq!(finished("edit a", true, ""), "✗ edit a: failed");
    }
}

//! Our agent component, unmodified, in a second host: transpiled by jco and run in Node against
//! the JavaScript host in `hosts/node/` (a workspace over an in-memory map, git snapshots, a
//! scripted model). Skipped, with a notice, when `node` is not installed; `scripts/test`
//! installs the host's npm packages when `node` is there.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::support::node_host;

/// Runs `scenario` (see `hosts/node/src/run-chat.mjs`) with our guest; returns what happened.
fn run_chat(dir: &Path, scenario: &Value) -> Value {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), scenario.to_string()).unwrap();
    let out = Command::new("node")
        .arg("src/run-chat.mjs")
        .arg(env!("PI_WORKER_GUEST_WASM"))
        .arg(file.path())
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the Node host failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn our_guest_writes_reads_and_edits_a_file_in_the_node_host() {
    let Some(dir) = node_host("@bytecodealliance/jco", "our guest is not run in the Node host") else {
        return;
    };
    let result = run_chat(
        &dir,
        &json!({
            "files": { "/README.md": "# demo\n" },
            "git": [
                { "call": "init" },
                { "call": "add", "args": [["."]] },
                { "call": "commit", "args": ["Initial commit"] },
            ],
            "script": [
                [{ "text": "Writing it." }, { "tool": "write", "args": { "path": "src/hello.ts", "content": "export const hello = 'hi';\n" } }],
                [{ "tool": "read", "args": { "path": "src/hello.ts" } }],
                [{ "tool": "edit", "args": { "path": "src/hello.ts", "oldText": "'hi'", "newText": "'hello'" } }],
                [{ "tool": "read", "args": { "path": "missing.ts" } }],
                [{ "tool": "git_add", "args": { "paths": ["."] } }],
                [{ "tool": "git_commit", "args": { "message": "Add hello" } }],
                [{ "tool": "git_status", "args": {} }],
                [{ "text": "Done." }],
            ],
            "message": "write a hello module",
        }),
    );
    let reply = &result["reply"]["ok"];
    assert_eq!(reply["response"], "Writing it.\n\nDone.", "{result:#}");
    assert_eq!(reply["outcome"], "done");
    let tools: Vec<&str> = reply["toolCalls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["tool"].as_str().unwrap())
        .collect();
    assert_eq!(
        tools,
        ["write", "read", "edit", "read", "git_add", "git_commit", "git_status"]
    );
    assert_eq!(
        result["files"],
        json!({ "/README.md": "# demo\n", "/src/hello.ts": "export const hello = 'hello';\n" })
    );
    // The tool results, as the agent reported them.
    let ends: Vec<(String, bool, String)> = result["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["tag"] == "tool-end")
        .map(|e| {
            let v = &e["val"];
            (
                v["tool"].as_str().unwrap().to_string(),
                v["isError"].as_bool().unwrap(),
                v["result"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(ends[1].2, "export const hello = 'hi';\n", "read saw the write");
    assert!(ends[3].1 && ends[3].2.contains("missing.ts"), "{:?}", ends[3]);
    assert!(!ends[5].1 && ends[5].2.contains("Add hello"), "{:?}", ends[5]);
    assert!(ends[6].2.contains("nothing to commit"), "{:?}", ends[6]);
    // The commit is the host's: a clean status after it, and a log of two.
    assert_eq!(result["status"]["staged"], json!([]));
    assert_eq!(result["status"]["untracked"], json!([]));
    // Every model request carried the conversation so far and the tools.
    let requests = result["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 8);
    assert!(requests[0]["tools"].as_array().unwrap().len() >= 19);
}

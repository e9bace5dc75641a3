//! The `run` tool through the real server: a WASI command (`tests/run-program`, built for
//! `wasm32-wasip2` by `host/build.rs`) uploaded into the workspace and run by the agent, with
//! its output, exit code, written files, CPU and memory limits, and sandbox.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::json;

use crate::support::{Provider, Reply, call, files_beneath, setup_with};

const PROGRAM: &str = env!("PI_WORKER_RUN_PROGRAM_WASM");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_tool_runs_workspace_programs_within_their_limits() {
    let args = [
        "--run-cpu-secs",
        "1",
        "--run-memory-mib",
        "32",
        "--run-output-kib",
        "1",
        "--max-workspace-bytes",
        "8000000",
    ];
    let (fake, server, api) = setup_with(Provider::Anthropic, vec![], &args).await;
    let s = api.new_session().await;
    let wasm = std::fs::read(PROGRAM).expect("the run program was built");
    assert_eq!(api.put_file(&s, "tools/prog.wasm", &wasm).await / 100, 2);

    let limits = &api.info(&s).await["limits"]["run"];
    assert_eq!(limits["maxCpuMs"], 1000, "{limits}");
    assert_eq!(limits["maxMemoryBytes"], 32 << 20, "{limits}");

    // Output, stdout and stderr interleaved in order, arguments split like a shell's, env.
    let (out, err) = call(
        &fake,
        &api,
        &s,
        "run",
        json!({ "command": "./tools/prog.wasm hello 'big world'" }),
    )
    .await;
    assert!(!err, "{out}");
    assert!(
        out.starts_with("hello, big world\nto stderr\nPWD=/\n\n[Exit code 0 after "),
        "{out}"
    );

    // Output past the limit is cut, and the program is not stopped for it.
    let (out, err) = call(
        &fake,
        &api,
        &s,
        "run",
        json!({ "command": "./tools/prog.wasm flood 1000" }),
    )
    .await;
    assert!(!err && out.starts_with("line 0\nline 1\n"), "{out}");
    assert!(out.contains("[Output cut at the server's limit. Exit code 0"), "{out}");
    assert!(out.len() < 1200, "{}", out.len());

    // A streaming chat shows the program's output live, as `tool_output` events of its call,
    // between its `tool_start` and `tool_end`.
    fake.push([
        Reply::tool("run", json!({ "command": "./tools/prog.wasm hello stream" })),
        Reply::text("done"),
    ]);
    let (status, events) = api.chat_stream(&s, "run it").await;
    assert_eq!(status, 200);
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    let start = names.iter().position(|n| *n == "tool_start").expect("tool_start");
    let end = names.iter().position(|n| *n == "tool_end").expect("tool_end");
    let id = &events[start].1["id"];
    let live: Vec<(String, String)> = events[start..end]
        .iter()
        .filter(|(name, data)| name == "tool_output" && &data["id"] == id)
        .map(|(_, data)| {
            (
                data["stream"].as_str().unwrap().into(),
                data["text"].as_str().unwrap().into(),
            )
        })
        .collect();
    let joined: String = live.iter().map(|(_, text)| text.as_str()).collect();
    assert_eq!(joined, "hello, stream\nto stderr\nPWD=/\n", "{live:?}");
    assert!(
        live.iter()
            .any(|(stream, text)| stream == "stderr" && text.contains("to stderr")),
        "{live:?}"
    );

    // A non-zero exit is an error result with the code (wasi-libc's `exit` reports failure as 1).
    let (out, err) = call(&fake, &api, &s, "run", json!({ "command": "tools/prog.wasm exit 3" })).await;
    assert!(err && out.starts_with("[Exit code 1 after "), "{out}");

    // Files it writes land in the workspace: git status sees them.
    let (out, err) = call(
        &fake,
        &api,
        &s,
        "run",
        json!({ "command": "/tools/prog.wasm write out/result.txt done" }),
    )
    .await;
    assert!(!err && out.contains("Changed: /out/result.txt"), "{out}");
    let (status, _) = call(&fake, &api, &s, "git_status", json!({})).await;
    assert!(status.contains("out/"), "{status}");
    let (read, _) = call(&fake, &api, &s, "read", json!({ "path": "out/result.txt" })).await;
    assert!(read.starts_with("done"), "{read}");

    // The next run sees the workspace as it is now, edits by the agent included, and a rename
    // and a removal land as such.
    call(
        &fake,
        &api,
        &s,
        "write",
        json!({ "path": "out/b.txt", "content": "agent" }),
    )
    .await;
    let (out, err) = call(
        &fake,
        &api,
        &s,
        "run",
        json!({ "command": "./tools/prog.wasm mv out/b.txt out/c.txt" }),
    )
    .await;
    assert!(!err && out.contains("Changed: /out/b.txt, /out/c.txt"), "{out}");
    let (out, err) = call(
        &fake,
        &api,
        &s,
        "run",
        json!({ "command": "./tools/prog.wasm rm out/result.txt" }),
    )
    .await;
    assert!(!err && out.contains("Changed: /out/result.txt"), "{out}");
    let (files, _) = call(&fake, &api, &s, "ls", json!({ "path": "out" })).await;
    assert_eq!(files.trim(), "c.txt", "{files}");
    let (read, _) = call(&fake, &api, &s, "read", json!({ "path": "out/c.txt" })).await;
    assert!(read.starts_with("agent"), "{read}");

    // A program cannot fill the disk: its writes stop with "no space" where the workspace's byte
    // quota (8 MB, of which the program takes 0.2) would be passed, and what it wrote is stored.
    let (out, err) = call(
        &fake,
        &api,
        &s,
        "run",
        json!({ "command": "./tools/prog.wasm fill big.bin" }),
    )
    .await;
    assert!(!err, "{out}");
    assert!(out.contains("stopped after 7 MiB"), "{out}");
    assert!(out.contains("writes past the workspace's quota were refused"), "{out}");
    assert!(out.contains("Changed: /big.bin"), "{out}");
    assert_eq!(
        api.info(&s).await["totalBytes"].as_u64().map(|b| b > 7 << 20),
        Some(true)
    );

    // Reading outside `/` and opening a socket are refused.
    let (out, err) = call(&fake, &api, &s, "run", json!({ "command": "./tools/prog.wasm escape" })).await;
    assert!(!err, "{out}");
    assert!(
        out.contains("read outside: refused") && out.contains("socket: refused"),
        "{out}"
    );

    // A spinning program is stopped by its CPU limit, and the server keeps serving meanwhile.
    let started = Instant::now();
    let other = api.new_session().await;
    let (spin, listing) = tokio::join!(
        call(&fake, &api, &s, "run", json!({ "command": "./tools/prog.wasm spin" })),
        async {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            api.info(&other).await
        }
    );
    assert!(spin.1 && spin.0.contains("CPU time limit"), "{}", spin.0);
    assert!(listing["fileCount"].as_u64().is_some(), "{listing}");
    assert!(started.elapsed().as_secs() < 10);

    // An allocating program is stopped by its memory limit.
    let (out, err) = call(&fake, &api, &s, "run", json!({ "command": "./tools/prog.wasm hoard" })).await;
    assert!(err && out.contains("memory limit"), "{out}");

    // What is not there, or not a program, is said so.
    let (out, err) = call(&fake, &api, &s, "run", json!({ "command": "./nope.wasm" })).await;
    assert!(err && out.contains("Program not found"), "{out}");
    let (out, err) = call(&fake, &api, &s, "run", json!({ "command": "src/index.ts" })).await;
    assert!(err && out.contains("Not a runnable"), "{out}");

    // Aborting the chat stops a running program at once, long before its CPU limit.
    fake.push([
        Reply::tool("run", json!({ "command": "./tools/prog.wasm spin" })),
        Reply::text("done"),
    ]);
    let started = Instant::now();
    let (chat, abort) = tokio::join!(api.chat(&s, "spin"), async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        api.post(&format!("/session/{s}/abort"), &json!({})).await
    });
    assert_eq!(abort.0, 202, "{abort:?}");
    assert_eq!(
        (chat.0, chat.1["stopReason"].as_str()),
        (200, Some("aborted")),
        "{chat:?}"
    );
    assert!(started.elapsed().as_millis() < 900, "{:?}", started.elapsed());
    let (_, messages) = api.get(&format!("/session/{s}/messages")).await;
    assert!(
        messages.to_string().contains("Stopped: the chat was aborted"),
        "{messages}"
    );

    // Deleting the session deletes the copy of its files that its programs ran in.
    let programs = server.data_dir().join("programs");
    assert!(files_beneath(&programs).iter().any(|p| p.ends_with("tools/prog.wasm")));
    assert_eq!(api.delete(&format!("/session/{s}")).await.0, 204);
    assert_eq!(files_beneath(&programs), Vec::<PathBuf>::new(), "left in {programs:?}");
}

/// The built-in `node` (`runners/node`) on the sample project: its TypeScript runs, a failing
/// `node:assert` test fails the run with code 1, files it writes reach `git_status`, and the
/// agent is told about it in the `run` tool's description.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_runs_the_samples_typescript_and_its_tests() {
    let (fake, _server, api) = setup_with(Provider::Anthropic, vec![], &[]).await;
    let s = api.new_session().await;

    let (out, err) = call(&fake, &api, &s, "run", json!({ "command": "node src/index.ts" })).await;
    assert!(!err, "{out}");
    assert!(
        out.starts_with("Hello, World!\n2 + 3 = 5\n\n[Exit code 0 after "),
        "{out}"
    );
    let run_tool = &fake.received()[0].body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "run")
        .cloned()
        .unwrap();
    assert!(
        run_tool["description"]
            .as_str()
            .unwrap()
            .contains("Built-in programs: `node`: runs a JavaScript or TypeScript file"),
        "{run_tool}"
    );

    // A test that fails: the assertion's message, and exit code 1.
    let failing = "import assert from \"node:assert\";\nimport { add } from \"../src/utils\";\n\n\
                   assert.strictEqual(add(2, 3), 5);\nassert.strictEqual(add(2, 2), 5, \"2 + 2 is not 5\");\n";
    call(
        &fake,
        &api,
        &s,
        "write",
        json!({ "path": "test/utils.test.ts", "content": failing }),
    )
    .await;
    let (out, err) = call(&fake, &api, &s, "run", json!({ "command": "node test/utils.test.ts" })).await;
    assert!(err, "{out}");
    assert!(
        out.contains("AssertionError") && out.contains("2 + 2 is not 5"),
        "{out}"
    );
    assert!(out.contains("[Exit code 1 after "), "{out}");

    // CommonJS, `node:fs` and `node:path`: what the script writes lands in the workspace.
    let script = "const fs = require(\"node:fs\");\nconst path = require(\"path\");\n\
                  const out = path.join(\"dist\", \"report.json\");\nfs.mkdirSync(\"dist\", { recursive: true });\n\
                  fs.writeFileSync(out, JSON.stringify({ args: process.argv.slice(2) }));\nconsole.log(`wrote ${out}`);\n";
    call(
        &fake,
        &api,
        &s,
        "write",
        json!({ "path": "scripts/report.cjs", "content": script }),
    )
    .await;
    let (out, err) = call(
        &fake,
        &api,
        &s,
        "run",
        json!({ "command": "node scripts/report.cjs 'a b' c" }),
    )
    .await;
    assert!(!err && out.starts_with("wrote dist/report.json\n"), "{out}");
    assert!(out.contains("Changed: /dist/report.json"), "{out}");
    let (status, _) = call(&fake, &api, &s, "git_status", json!({})).await;
    assert!(status.contains("dist/"), "{status}");
    let (read, _) = call(&fake, &api, &s, "read", json!({ "path": "dist/report.json" })).await;
    assert!(read.starts_with(r#"{"args":["a b","c"]}"#), "{read}");

    // A bare name that is not a built-in is said so.
    let (out, err) = call(&fake, &api, &s, "run", json!({ "command": "npm test" })).await;
    assert!(
        err && out.contains("Program not found in the workspace or among the built-ins: npm"),
        "{out}"
    );
}

/// A second language from a registry: CPython, built into a WASI command by
/// `scripts/build-python` (componentize-py from PyPI), which the operator adds by name with
/// `--program python=…`; the agent is told about it and runs scripts with their standard library.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operators_python_runs_scripts_by_name() {
    let wasm = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-python.wasm");
    let built = std::process::Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/build-python"))
        .arg(&wasm)
        .status()
        .expect("scripts/build-python runs");
    assert!(
        built.success(),
        "scripts/build-python failed (it installs componentize-py from PyPI)"
    );
    let program = format!("python={}", wasm.display());
    let (fake, _server, api) = setup_with(Provider::Anthropic, vec![], &["--program", &program]).await;
    let s = api.new_session().await;

    let script = "import json, pathlib, sys\n\
                  from collections import Counter\n\
                  words = Counter(pathlib.Path('README.md').read_text().split())\n\
                  pathlib.Path('out').mkdir(exist_ok=True)\n\
                  pathlib.Path('out/words.json').write_text(json.dumps({'args': sys.argv[1:], 'the': words['the']}))\n\
                  print('counted', len(words), 'words')\n";
    call(
        &fake,
        &api,
        &s,
        "write",
        json!({ "path": "count.py", "content": script }),
    )
    .await;
    let (out, err) = call(&fake, &api, &s, "run", json!({ "command": "python count.py 'x y'" })).await;
    assert!(!err, "{out}");
    assert!(
        out.starts_with("counted ") && out.contains("Changed: /out/words.json"),
        "{out}"
    );
    let (read, _) = call(&fake, &api, &s, "read", json!({ "path": "out/words.json" })).await;
    assert!(read.starts_with(r#"{"args": ["x y"], "the": "#), "{read}");
    let description = fake.received()[0].body["tools"].to_string();
    assert!(
        description.contains("`python ARGS…`: the program `e2e-python.wasm`"),
        "{description}"
    );

    // An uncaught exception: the traceback, and a failed exit.
    let failing = "def check(n):\n    assert n == 2, f'{n} is not 2'\n\ncheck(3)\n";
    call(
        &fake,
        &api,
        &s,
        "write",
        json!({ "path": "check.py", "content": failing }),
    )
    .await;
    let (out, err) = call(&fake, &api, &s, "run", json!({ "command": "python check.py" })).await;
    assert!(
        err && out.contains("AssertionError: 3 is not 2") && out.contains("[Exit code 1 after "),
        "{out}"
    );
}

//! Every tool through a real tool-call round trip: the fake model calls it, the guest runs it
//! against the session's SQLite workspace, and the result goes back to the model.

use serde_json::json;

use crate::support::{Block, Provider, Reply, call, setup, tool_results};

crate::support::on_each_provider!(
    read_write_edit_round_trip,
    ls_tree_find_grep_round_trip,
    search_tools_honour_gitignore_files,
    grep_skips_binary_files_shows_context_and_keeps_its_limits,
    mv_and_rm_round_trip,
    tool_failures_are_results_the_model_reads,
    paths_cannot_leave_the_workspace,
    several_tools_in_one_answer_run_in_order
);

async fn read_write_edit_round_trip(p: Provider) {
    let (fake, _server, api) = setup(p, vec![]).await;
    let s = api.new_session().await;

    let (out, err) = call(&fake, &api, &s, "read", json!({ "path": "src/utils.ts" })).await;
    assert!(
        !err && out.starts_with("export function greet(name: string): string {"),
        "{out}"
    );

    let (out, err) = call(
        &fake,
        &api,
        &s,
        "write",
        json!({ "path": "/notes/todo.md", "content": "- one\n- two\n" }),
    )
    .await;
    assert_eq!(
        (out.as_str(), err),
        ("Successfully wrote 12 bytes to /notes/todo.md", false)
    );

    let (out, err) = call(
        &fake,
        &api,
        &s,
        "edit",
        json!({ "path": "notes/todo.md", "oldText": "- two", "newText": "- 2" }),
    )
    .await;
    assert_eq!(
        (out.as_str(), err),
        ("Successfully replaced text in notes/todo.md.", false)
    );

    let (out, _) = call(
        &fake,
        &api,
        &s,
        "read",
        json!({ "path": "notes/todo.md", "offset": 2, "limit": 1 }),
    )
    .await;
    assert_eq!(out, "- 2\n\n[1 more lines in file. Use offset=3 to continue.]");

    let (out, err) = call(
        &fake,
        &api,
        &s,
        "edit",
        json!({ "path": "notes/todo.md", "oldText": "absent", "newText": "x" }),
    )
    .await;
    assert!(
        err && out.starts_with("Could not find the exact text in notes/todo.md."),
        "{out}"
    );

    let info = api.info(&s).await;
    assert_eq!(info["fileCount"], 6);
}

async fn ls_tree_find_grep_round_trip(p: Provider) {
    let (fake, _server, api) = setup(p, vec![]).await;
    let s = api.new_session().await;

    let (out, _) = call(&fake, &api, &s, "ls", json!({})).await;
    assert_eq!(out, "package.json\nREADME.md\nsrc/\ntsconfig.json");

    let (out, _) = call(&fake, &api, &s, "tree", json!({})).await;
    assert_eq!(
        out,
        ".\n├── README.md\n├── package.json\n├── src/\n│   ├── index.ts\n│   └── utils.ts\n└── tsconfig.json\n\n1 directories, 5 files"
    );

    let (out, _) = call(&fake, &api, &s, "find", json!({ "pattern": "*.ts" })).await;
    assert_eq!(out, "src/index.ts\nsrc/utils.ts");

    let (out, _) = call(&fake, &api, &s, "grep", json!({ "pattern": "greet", "glob": "*.ts" })).await;
    assert_eq!(
        out,
        "src/index.ts:1: import { greet, add } from \"./utils\";\nsrc/index.ts:3: console.log(greet(\"World\"));\nsrc/utils.ts:1: export function greet(name: string): string {"
    );
}

async fn search_tools_honour_gitignore_files(p: Provider) {
    let (fake, _server, api) = setup(p, vec![]).await;
    let s = api.new_session().await;
    for (path, contents) in [
        (".gitignore", "node_modules/\n*.log\n"),
        ("node_modules/lib/index.js", "needle\n"),
        ("app.log", "needle\n"),
        // A nested .gitignore: its rules apply beneath it, over the root's (`!` takes back).
        ("src/.gitignore", "generated/\n!keep.log\n"),
        ("src/generated/out.ts", "needle\n"),
        ("src/keep.log", "needle\n"),
        ("src/main.ts", "const x = 1;\nneedle();\n"),
    ] {
        assert_eq!(api.put_file(&s, path, contents).await, 201, "{path}");
    }
    let run = async |tool: &str, args: serde_json::Value| {
        let (out, err) = call(&fake, &api, &s, tool, args).await;
        assert!(!err, "{out}");
        out
    };

    assert_eq!(
        run("grep", json!({ "pattern": "needle" })).await,
        "src/keep.log:1: needle\nsrc/main.ts:2: needle();"
    );
    assert_eq!(
        run("grep", json!({ "pattern": "needle", "ignored": true })).await,
        "app.log:1: needle\nnode_modules/lib/index.js:1: needle\nsrc/generated/out.ts:1: needle\nsrc/keep.log:1: needle\nsrc/main.ts:2: needle();"
    );
    // A directory named explicitly is searched, ignored or not.
    assert_eq!(
        run("grep", json!({ "pattern": "needle", "path": "node_modules" })).await,
        "node_modules/lib/index.js:1: needle"
    );
    assert_eq!(run("find", json!({ "pattern": "*.log" })).await, "src/keep.log");
    assert_eq!(
        run("find", json!({ "pattern": "*.log", "ignored": true })).await,
        "app.log\nsrc/keep.log"
    );
    assert_eq!(
        run("find", json!({ "pattern": "*.js" })).await,
        "No files found matching pattern"
    );
    assert_eq!(
        run("ls", json!({})).await,
        ".gitignore\npackage.json\nREADME.md\nsrc/\ntsconfig.json"
    );
    assert_eq!(
        run("ls", json!({ "ignored": true })).await,
        ".gitignore\napp.log\nnode_modules/\npackage.json\nREADME.md\nsrc/\ntsconfig.json"
    );
    assert_eq!(
        run("tree", json!({ "path": "src" })).await,
        "/src\n├── .gitignore\n├── index.ts\n├── keep.log\n├── main.ts\n└── utils.ts\n\n0 directories, 5 files"
    );
    assert_eq!(
        run("tree", json!({ "path": "src", "ignored": true })).await,
        "/src\n├── .gitignore\n├── generated/\n│   └── out.ts\n├── index.ts\n├── keep.log\n├── main.ts\n└── utils.ts\n\n1 directories, 6 files"
    );
}

async fn grep_skips_binary_files_shows_context_and_keeps_its_limits(p: Provider) {
    let (fake, _server, api) = setup(p, vec![]).await;
    let s = api.new_session().await;
    let many = format!("needle {}\n", "y".repeat(93)).repeat(1000);
    let long = format!("needle {}\n", "x".repeat(600));
    for (path, contents) in [
        ("data/blob.bin", "needle\0binary\n"),
        ("data/ctx.txt", "a\nb\nneedle 1\nc\nneedle 2\nd\n"),
        ("many/lines.txt", many.as_str()),
        ("long/line.txt", long.as_str()),
    ] {
        assert_eq!(api.put_file(&s, path, contents).await, 201, "{path}");
    }
    let run = async |args: serde_json::Value| call(&fake, &api, &s, "grep", args).await;

    // The binary file is skipped; a line in two matches' context shows in both.
    assert_eq!(
        run(json!({ "pattern": "needle", "path": "data", "context": 1 })).await,
        (
            "data/ctx.txt-2- b\ndata/ctx.txt:3: needle 1\ndata/ctx.txt-4- c\ndata/ctx.txt-4- c\ndata/ctx.txt:5: needle 2\ndata/ctx.txt-6- d".into(),
            false
        )
    );
    assert_eq!(
        run(json!({ "pattern": "needle", "path": "data", "limit": 1 })).await,
        (
            "data/ctx.txt:3: needle 1\n\n[1 matches limit reached. Use limit=2 for more, or refine pattern]".into(),
            false
        )
    );
    let (out, _) = run(json!({ "pattern": "needle", "path": "many" })).await;
    assert_eq!(out.lines().count(), 102, "{out}");
    assert!(
        out.contains(&format!("many/lines.txt:100: needle {}\n", "y".repeat(93))),
        "{out}"
    );
    assert!(out.ends_with("\n\n[100 matches limit reached. Use limit=200 for more, or refine pattern]"));
    let (out, _) = run(json!({ "pattern": "needle", "path": "many", "limit": 1000 })).await;
    assert!(
        out.len() < 51_300 && out.ends_with("\n\n[50.0KB limit reached]"),
        "{}",
        out.len()
    );
    let (out, _) = run(json!({ "pattern": "NEEDLE", "ignoreCase": true, "path": "long" })).await;
    assert_eq!(
        out,
        format!(
            "long/line.txt:1: needle {}... [truncated]\n\n[Some lines truncated to 500 chars. Use read tool to see full lines]",
            "x".repeat(493)
        )
    );
    let (out, err) = run(json!({ "pattern": "(" })).await;
    assert!(err && out.starts_with("Invalid pattern: regex parse error:"), "{out}");
    let (out, err) = run(json!({ "pattern": "a.b", "literal": true, "path": "nowhere" })).await;
    assert_eq!((out.as_str(), err), ("Path not found: nowhere", true));
}

async fn mv_and_rm_round_trip(p: Provider) {
    let (fake, _server, api) = setup(p, vec![]).await;
    let s = api.new_session().await;

    let (out, err) = call(
        &fake,
        &api,
        &s,
        "mv",
        json!({ "from": "src/utils.ts", "to": "lib/utils.ts" }),
    )
    .await;
    assert_eq!((out.as_str(), err), ("Moved src/utils.ts to lib/utils.ts", false));
    let (out, _) = call(&fake, &api, &s, "find", json!({ "pattern": "utils.ts" })).await;
    assert_eq!(out, "lib/utils.ts");

    let (out, err) = call(&fake, &api, &s, "rm", json!({ "path": "lib" })).await;
    assert!(err && out.starts_with("Directory not empty: lib."), "{out}");
    let (out, err) = call(&fake, &api, &s, "rm", json!({ "path": "lib", "recursive": true })).await;
    assert_eq!((out.as_str(), err), ("Removed lib", false));
    assert_eq!(api.info(&s).await["fileCount"], 4);
}

async fn tool_failures_are_results_the_model_reads(p: Provider) {
    let (fake, _server, api) = setup(p, vec![]).await;
    let s = api.new_session().await;

    let (out, err) = call(&fake, &api, &s, "read", json!({ "path": "missing.ts" })).await;
    assert_eq!((out.as_str(), err), ("Path not found: missing.ts", true));

    let (out, err) = call(&fake, &api, &s, "bash", json!({ "command": "ls" })).await;
    assert!(
        err && out.starts_with("Unknown tool: bash. Available tools: read, write, edit"),
        "{out}"
    );

    let (out, err) = call(&fake, &api, &s, "write", json!({ "path": 42 })).await;
    assert!(
        err && out.starts_with("Invalid arguments for write: invalid type: integer `42`"),
        "{out}"
    );

    // Arguments that are not even JSON, streamed as the model produced them.
    fake.push([
        Reply::Answer(vec![Block::RawTool {
            name: "read".into(),
            json: "{\"path\": \"src/index.ts\"".into(),
        }]),
        Reply::text("ok"),
    ]);
    let (status, body) = api.chat(&s, "garbled").await;
    assert_eq!(status, 200, "{body}");
    let (out, err) = tool_results(&fake.received().last().unwrap().body).remove(0);
    assert!(err && out.starts_with("Invalid arguments for read"), "{out}");
}

async fn paths_cannot_leave_the_workspace(p: Provider) {
    let (fake, _server, api) = setup(p, vec![]).await;
    let s = api.new_session().await;
    for path in ["../../etc/passwd", "/../secret", "src/../../x"] {
        let (out, err) = call(&fake, &api, &s, "read", json!({ "path": path })).await;
        assert!(
            err && out.starts_with(&format!("Invalid path '{path}': path '{path}' leaves the workspace")),
            "{out}"
        );
        let (out, err) = call(&fake, &api, &s, "write", json!({ "path": path, "content": "x" })).await;
        assert!(err && out.contains("leaves the workspace"), "{out}");
    }
    let (out, err) = call(&fake, &api, &s, "write", json!({ "path": "a\u{0}b", "content": "x" })).await;
    assert!(err && out.contains("NUL byte"), "{out}");
    assert_eq!(api.info(&s).await["fileCount"], 5);
}

async fn several_tools_in_one_answer_run_in_order(p: Provider) {
    let (fake, _server, api) = setup(
        p,
        vec![
            Reply::Answer(vec![
                Block::Text("Let me do both.".into()),
                Block::Tool {
                    name: "write".into(),
                    input: json!({ "path": "a.txt", "content": "A" }),
                },
                Block::Tool {
                    name: "read".into(),
                    input: json!({ "path": "a.txt" }),
                },
            ]),
            Reply::text("Both done."),
        ],
    )
    .await;
    let s = api.new_session().await;
    let (status, body) = api.chat(&s, "write then read").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["response"], "Let me do both.\n\nBoth done.");
    let results = tool_results(&fake.received()[1].body);
    assert_eq!(
        results,
        vec![
            ("Successfully wrote 1 bytes to a.txt".to_string(), false),
            ("A".to_string(), false)
        ]
    );
    let received = fake.received();
    assert_eq!(
        body["usage"]["inputTokens"],
        received[0].prompt_tokens + received[1].prompt_tokens
    );
    assert!(
        received[0].prompt_tokens > 1_000,
        "the prompt with its tools is a few thousand tokens"
    );
    assert_eq!(body["usage"]["outputTokens"], 40);
}

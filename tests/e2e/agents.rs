//! Several agents in one server: `--guest NAME=PATH`, `{"agent": NAME}` per session, the
//! component's hash recorded at creation and reported by `info`, upgrades applying to new chats;
//! and an agent not written by us, nor in Rust: a JavaScript agent built with componentize-js
//! (skipped, with a notice, when `node` is not installed).

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::support::{Api, Provider, Reply, node_host, setup_with};

const HOSTILE: &str = env!("PI_WORKER_HOSTILE_GUEST_WASM");
const BUILT_IN: &str = env!("PI_WORKER_GUEST_WASM");

/// `sha256:<hex>` of a file, as the server records it.
fn hash_of(path: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, &std::fs::read(path).unwrap());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

async fn new_session(api: &Api, body: Value) -> String {
    let (status, reply) = api.post("/session/new", &body).await;
    assert_eq!(status, 200, "{reply}");
    reply["sessionId"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn sessions_pick_their_agent_record_its_hash_and_follow_upgrades() {
    let hostile_flag = format!("hostile={HOSTILE}");
    let (_fake, mut server, api) = setup_with(
        Provider::Anthropic,
        vec![Reply::text("pi answers"), Reply::text("pi again")],
        &["--guest", &hostile_flag],
    )
    .await;
    // The agents are listed for clients to offer, with the hash a new session records.
    let (status, agents) = api.get("/agents").await;
    assert_eq!(status, 200, "{agents}");
    assert_eq!(
        agents,
        json!({
            "defaultAgent": "pi",
            "agents": [
                { "name": "hostile", "hash": hash_of(HOSTILE), "programs": ["node"] },
                { "name": "pi", "hash": hash_of(BUILT_IN), "programs": ["node"] },
            ]
        })
    );
    let pi = new_session(&api, json!({})).await;
    let hostile = new_session(&api, json!({ "agent": "hostile", "template": "empty" })).await;
    assert_eq!(
        api.info(&pi).await["agent"],
        json!({ "name": "pi", "createdWith": hash_of(BUILT_IN), "current": hash_of(BUILT_IN) })
    );
    let hostile_info = json!({ "name": "hostile", "createdWith": hash_of(HOSTILE), "current": hash_of(HOSTILE) });
    assert_eq!(api.info(&hostile).await["agent"], hostile_info);

    // Each session's chats run its own agent.
    assert_eq!(api.chat(&pi, "hi").await.1["response"], "pi answers");
    assert_eq!(api.chat(&hostile, "hi").await.1["response"], "echo: hi");

    // An agent the server does not run creates nothing.
    let (status, body) = api.post("/session/new", &json!({ "agent": "nope" })).await;
    assert_eq!(status, 400, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(error.contains("'nope'") && error.contains("hostile, pi"), "{error}");
    let (status, body) = upload_tar(&api, "nope").await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = upload_tar(&api, "hostile").await;
    assert_eq!(status, 200, "{body}");
    let imported = body["sessionId"].as_str().unwrap();
    assert_eq!(api.info(imported).await["agent"]["name"], "hostile");

    // An upgrade: the name now runs another component. The session keeps the hash it was
    // created with; its next chat runs the new component (here, the built-in agent).
    let upgraded = format!("hostile={BUILT_IN}");
    server.restart_with(&["--guest", &upgraded]);
    let api = Api::new(&server.url);
    assert_eq!(
        api.info(&hostile).await["agent"],
        json!({ "name": "hostile", "createdWith": hash_of(HOSTILE), "current": hash_of(BUILT_IN) })
    );
    assert_eq!(api.chat(&hostile, "hi").await.1["response"], "pi again");
    assert_eq!(api.get("/agents").await.1["agents"][0]["hash"], hash_of(BUILT_IN));

    // A server that no longer runs the agent refuses the chat, and says why.
    server.restart_with(&[]);
    let api = Api::new(&server.url);
    let (status, body) = api.chat(&hostile, "hi").await;
    assert_eq!(status, 503, "{body}");
    assert!(body["error"].as_str().unwrap().contains("'hostile'"), "{body}");
    assert_eq!(api.info(&hostile).await["agent"]["current"], Value::Null);
    assert_eq!(
        api.chat(&pi, "still fine").await.0,
        502,
        "pi's session runs (the fake has no answer left)"
    );
}

/// Starts a session from a one-file tar archive, with `?agent=`.
async fn upload_tar(api: &Api, agent: &str) -> (u16, Value) {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(1);
    header.set_mode(0o644);
    builder.append_data(&mut header, "a.txt", &b"a"[..]).unwrap();
    let response = reqwest::Client::new()
        .post(format!("{}/session/new?agent={agent}", api.base))
        .header("content-type", "application/x-tar")
        .body(builder.into_inner().unwrap())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_slice(&response.bytes().await.unwrap()).unwrap(),
    )
}

/// Builds `examples/js-agent/agent.js` into a component with componentize-js; `None` (with a
/// notice) when this machine has no `node`.
fn build_js_agent(out: &Path) -> Option<Value> {
    let host = node_host(
        "@bytecodealliance/componentize-js",
        "the JavaScript agent is not built or run",
    )?;
    let root = host.join("../..");
    let built = Command::new("node")
        .arg("src/componentize.mjs")
        .arg(root.join("examples/js-agent/agent.js"))
        .arg(root.join("wit"))
        .arg(out)
        .current_dir(&host)
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "componentize-js failed:\n{}",
        String::from_utf8_lossy(&built.stderr)
    );
    Some(serde_json::from_slice(&built.stdout).unwrap())
}

#[tokio::test]
async fn a_javascript_agent_runs_its_tool_loop_through_the_http_api() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("js-agent.wasm");
    let Some(built) = build_js_agent(&wasm) else { return };
    eprintln!("the JavaScript agent: {built}");
    let flag = format!("js={}", wasm.display());
    let (fake, _server, api) = setup_with(
        Provider::Anthropic,
        vec![
            Reply::tool("write", json!({ "path": "notes/todo.md", "content": "- ship it\n" })),
            Reply::tool("read", json!({ "path": "notes/todo.md" })),
            Reply::tool("read", json!({ "path": "missing.md" })),
            Reply::tool("ls", json!({ "path": "/notes" })),
            Reply::text("Wrote notes/todo.md."),
        ],
        &["--guest", &flag],
    )
    .await;
    let s = new_session(&api, json!({ "agent": "js", "template": "empty" })).await;
    assert_eq!(
        api.info(&s).await["agent"]["createdWith"],
        hash_of(wasm.to_str().unwrap())
    );

    let (status, reply) = api.chat(&s, "write a todo list").await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["response"], "Wrote notes/todo.md.");
    assert_eq!(reply["stopReason"], "end_turn");
    let tools: Vec<&str> = reply["toolCalls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["tool"].as_str().unwrap())
        .collect();
    assert_eq!(tools, ["write", "read", "read", "ls"]);
    assert_eq!(reply["usage"]["outputTokens"], 100, "summed over five answers");

    // The file is the workspace's, through our storage; the tool results went back to the model.
    let (status, body) = api.get(&format!("/session/{s}/files/notes/todo.md")).await;
    assert_eq!((status, body), (200, Value::String("- ship it\n".into())));
    let requests = fake.received();
    assert_eq!(requests.len(), 5);
    assert!(requests[0].body["system"].to_string().contains("small coding agent"));
    assert_eq!(requests[0].body["tools"].as_array().unwrap().len(), 3);
    let results = crate::support::tool_results(&requests[2].body);
    assert_eq!(results, [("- ship it\n".to_string(), false)]);
    let results = crate::support::tool_results(&requests[3].body);
    assert!(results[0].1 && results[0].0.contains("not-found"), "{results:?}");
    let results = crate::support::tool_results(&requests[4].body);
    assert_eq!(results, [("/notes/todo.md".to_string(), false)]);

    // Its conversation is stored like ours: the next chat sees it.
    let (status, body) = api.get(&format!("/session/{s}/messages")).await;
    assert_eq!(status, 200);
    assert_eq!(body["messages"].as_array().unwrap().len(), 10, "{body:#}");
}

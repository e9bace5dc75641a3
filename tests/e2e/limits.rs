//! Per-session limits: each trips with a clear message, and the session carries on.

use serde_json::json;

use crate::support::{Provider, Reply, setup_with, tool_results};

crate::support::on_each_provider!(
    the_repeat_guard_stops_a_model_stuck_on_one_call,
    tool_output_and_workspace_quotas_are_enforced
);

async fn the_repeat_guard_stops_a_model_stuck_on_one_call(p: Provider) {
    let (fake, _server, api) = setup_with(p, vec![], &[]).await;
    let s = api.new_session().await;
    fake.push((0..6).map(|_| Reply::tool("read", json!({ "path": "README.md" }))));
    let (status, body) = api.chat(&s, "loop").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["stopReason"], "repeat_guard");
    assert_eq!(body["toolCalls"].as_array().unwrap().len(), 4);
    assert!(
        body["response"]
            .as_str()
            .unwrap()
            .contains("same tool call with the same arguments 4 times"),
        "{body}"
    );
    assert_eq!(fake.pending(), 2);
}

async fn tool_output_and_workspace_quotas_are_enforced(p: Provider) {
    let args = [
        "--max-tool-output-bytes",
        "1024",
        "--max-workspace-files",
        "6",
        "--max-workspace-bytes",
        "20000",
    ];
    let (fake, _server, api) = setup_with(p, vec![], &args).await;
    let s = api.new_session().await;
    let big = "0123456789\n".repeat(500);
    fake.push([
        Reply::tool("write", json!({ "path": "big.txt", "content": big })),
        Reply::tool("read", json!({ "path": "big.txt" })),
        Reply::tool("write", json!({ "path": "one-too-many.txt", "content": "x" })),
        Reply::tool("write", json!({ "path": "big.txt", "content": "y".repeat(30_000) })),
        Reply::text("done"),
    ]);
    let (status, body) = api.chat(&s, "fill it up").await;
    assert_eq!(status, 200, "{body}");
    let received = fake.received();
    let (read, _) = tool_results(&received[2].body).remove(0);
    assert!(
        read.len() < 1200 && read.ends_with("[Output cut to 1024 of 5500 bytes by the server's tool-output limit.]"),
        "{read}"
    );
    assert_eq!(
        tool_results(&received[3].body).remove(0),
        (
            "Cannot write one-too-many.txt: the workspace may hold at most 6 files".to_string(),
            true
        )
    );
    let (out, err) = tool_results(&received[4].body).remove(0);
    assert!(err && out.contains("at most 20000 bytes"), "{out}");
    let info = api.info(&s).await;
    assert_eq!(
        (info["fileCount"].as_u64(), info["limits"]["maxWorkspaceFiles"].as_u64()),
        (Some(6), Some(6))
    );
    assert_eq!(info["limits"]["maxToolOutputBytes"], 1024);
}

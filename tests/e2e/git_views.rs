//! The read-only views behind the web app: the working tree's diff against HEAD, the log and a
//! commit's diff, files as they stood at a checkpoint, the models list; and the app's own files,
//! served without a token, gzipped, with entity tags.

use serde_json::{Value, json};

use crate::support::{Api, Provider, Server, ServerOptions, call, setup};

fn paths(files: &Value) -> Vec<(String, String)> {
    files
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["change"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_diff_shows_the_working_tree_against_head_and_the_log_each_commits_diff() {
    let (_fake, _server, api) = setup(Provider::Anthropic, vec![]).await;
    let s = api.new_session().await;
    let head = api.info(&s).await["head"].as_str().unwrap().to_string();

    let (status, clean) = api.get(&format!("/session/{s}/diff")).await;
    assert_eq!(status, 200, "{clean}");
    assert_eq!(clean, json!({ "branch": "main", "head": head, "files": [] }));

    assert_eq!(api.put_file(&s, "notes/new.md", "hello\nworld\n").await, 201);
    assert_eq!(api.put_file(&s, "README.md", "# Changed\n").await, 204);
    let (_, dirty) = api.get(&format!("/session/{s}/diff")).await;
    assert_eq!(
        paths(&dirty["files"]),
        [("M".into(), "README.md".into()), ("A".into(), "notes/new.md".into())]
    );
    let added = &dirty["files"][1];
    assert_eq!(added["binary"], false);
    assert_eq!(
        added["hunks"],
        json!([{ "oldStart": 0, "oldLines": 0, "newStart": 1, "newLines": 2, "lines": ["+hello", "+world"] }])
    );
    let changed = dirty["files"][0]["hunks"][0]["lines"].as_array().unwrap();
    assert!(changed.contains(&json!("-# Sample Project")), "{changed:?}");
    assert!(changed.contains(&json!("+# Changed")), "{changed:?}");

    let (status, log) = api.get(&format!("/session/{s}/log")).await;
    assert_eq!(status, 200, "{log}");
    let commits = log["commits"].as_array().unwrap();
    assert_eq!(commits.len(), 1);
    assert_eq!(commits[0]["id"], head.as_str());
    assert_eq!(commits[0]["message"], "Initial commit\n");
    assert_eq!(commits[0]["parents"], json!([]));

    for rev in [head.as_str(), "HEAD", "main"] {
        let (status, shown) = api.get(&format!("/session/{s}/log/{rev}")).await;
        assert_eq!(status, 200, "{shown}");
        assert_eq!(shown["commit"]["id"], head.as_str());
        let files = paths(&shown["files"]);
        assert!(files.contains(&("A".into(), "src/index.ts".into())), "{files:?}");
        assert!(files.iter().all(|(change, _)| change == "A"), "{files:?}");
    }
    assert_eq!(api.get(&format!("/session/{s}/log/no-such-branch")).await.0, 404);
    assert_eq!(api.get(&format!("/session/{s}/log?limit=0")).await.0, 400);
    assert_eq!(api.get("/session/0123456789abcdef0123456789abcdef/diff").await.0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoint_files_are_the_files_as_they_stood() {
    let (fake, _server, api) = setup(Provider::Anthropic, vec![]).await;
    let s = api.new_session().await;
    call(
        &fake,
        &api,
        &s,
        "write",
        json!({ "path": "notes.md", "content": "v1\n" }),
    )
    .await;
    // Changed by hand afterwards: the checkpoint keeps the agent's version.
    assert_eq!(api.put_file(&s, "notes.md", "v2 by hand\n").await, 204);

    let (_, checkpoints) = api.get(&format!("/session/{s}/checkpoints")).await;
    let last = checkpoints["checkpoints"].as_array().unwrap().last().unwrap()["seq"]
        .as_u64()
        .unwrap();
    let (status, listing) = api.get(&format!("/session/{s}/checkpoints/{last}/files")).await;
    assert_eq!(status, 200, "{listing}");
    assert_eq!(listing["seq"], last);
    let files: Vec<&str> = listing["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        files.contains(&"notes.md") && files.contains(&"src/utils.ts"),
        "{files:?}"
    );

    assert_eq!(
        api.get(&format!("/session/{s}/checkpoints/{last}/files/notes.md"))
            .await,
        (200, Value::String("v1\n".into()))
    );
    assert_eq!(
        api.get(&format!("/session/{s}/files/notes.md")).await,
        (200, Value::String("v2 by hand\n".into()))
    );
    // Before the chat's first checkpoint there is none; a later number finds the latest.
    let first = checkpoints["checkpoints"][0]["seq"].as_u64().unwrap();
    let (_, before) = api.get(&format!("/session/{s}/checkpoints/{first}/files")).await;
    assert!(
        !before["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "notes.md"),
        "{before}"
    );
    let (_, later) = api.get(&format!("/session/{s}/checkpoints/{}/files", last + 100)).await;
    assert_eq!(later["seq"], last);
    assert_eq!(
        api.get(&format!("/session/{s}/checkpoints/{last}/files/missing.md"))
            .await
            .0,
        404
    );
    let (status, empty) = api.post("/session/new", &json!({})).await;
    assert_eq!(status, 200);
    let fresh = empty["sessionId"].as_str().unwrap();
    assert_eq!(api.get(&format!("/session/{fresh}/checkpoints/0/files")).await.0, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn models_lists_the_default_model_and_the_providers() {
    let server = Server::start(ServerOptions {
        llm_url: Some("http://127.0.0.1:9".into()),
        args: vec!["--model-context".into(), "openai/gpt-4o=128000".into()],
        env: vec![("PI_WORKER_MODEL".into(), "claude-opus-4-1".into())],
        ..ServerOptions::default()
    });
    let (status, models) = Api::new(&server.url).get("/models").await;
    assert_eq!(status, 200, "{models}");
    assert_eq!(
        models,
        json!({
            "defaultModel": "claude-opus-4-1",
            "models": ["claude-opus-4-1", "openai/gpt-4o"],
            "providers": [
                { "prefix": "anthropic", "configured": true, "unprefixed": true },
                { "prefix": "openai", "configured": false, "unprefixed": false },
            ],
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_app_loads_without_a_token_gzipped_and_cached() {
    let token = "a-token-of-sixteen-chars";
    let server = Server::start(ServerOptions {
        env: vec![("PI_WORKER_TOKEN".into(), token.into())],
        ..ServerOptions::default()
    });
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("{}{path}", server.url));

    let page = get("/").send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    assert!(page.text().await.unwrap().contains("/web/js/app.js"));

    let script = get("/web/js/app.js")
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert_eq!(script.headers()["content-encoding"], "gzip");
    assert_eq!(script.headers()["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(script.headers()["cache-control"], "no-cache");
    let etag = script.headers()["etag"].to_str().unwrap().to_string();
    let again = get("/web/js/app.js")
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    assert_eq!(get("/web/no-such-file.js").send().await.unwrap().status(), 404);
    // The API still needs the token.
    assert_eq!(get("/sessions").send().await.unwrap().status(), 401);
    assert_eq!(get("/models").send().await.unwrap().status(), 401);
    let api = Api::with_token(&server.url, token);
    assert_eq!(api.get("/models").await.0, 200);
}

//! Checkpoints, revert and fork: files and conversation taken back together, in the session
//! itself (and undone) or in a copy that shares spilled blobs by reference.

use serde_json::{Value, json};

use crate::support::{Api, FakeLlm, Provider, Reply, call, files_beneath, setup_with};

async fn file(api: &Api, s: &str, path: &str) -> Option<String> {
    match api.get(&format!("/session/{s}/files/{path}")).await {
        (200, Value::String(text)) => Some(text),
        (200, json) => Some(json.to_string()),
        (404, _) => None,
        (status, body) => panic!("{status} {body}"),
    }
}

/// The `seq`s of a session's messages, in the record or in the model's view.
async fn seqs(api: &Api, s: &str, view: &str) -> Vec<u64> {
    let (status, body) = api.get(&format!("/session/{s}/messages?view={view}")).await;
    assert_eq!(status, 200, "{body}");
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect()
}

async fn post(api: &Api, path: &str, body: Value) -> Value {
    let (status, reply) = api.post(path, &body).await;
    assert_eq!(status, 200, "{path}: {reply}");
    reply
}

/// How many messages the model was sent in its last request.
fn last_request_len(fake: &FakeLlm) -> usize {
    fake.received().last().unwrap().body["messages"]
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn revert_after_three_chats_then_undo_then_fork_and_delete() {
    let (fake, server, api) = setup_with(Provider::Anthropic, vec![], &["--spill-bytes", "2000"]).await;
    let s = api.new_session().await;
    let utils = file(&api, &s, "src/utils.ts").await.unwrap();
    // A spilled file, written by hand before the chats: forks share it by hard link.
    let big = "b".repeat(5000);
    assert_eq!(api.put_file(&s, "big.txt", &big).await, 201);

    // Three chats of four messages each: the user's, the tool call, its result, "done".
    call(
        &fake,
        &api,
        &s,
        "write",
        json!({ "path": "notes.md", "content": "v1\n" }),
    )
    .await;
    call(
        &fake,
        &api,
        &s,
        "edit",
        json!({ "path": "src/utils.ts", "oldText": "a + b", "newText": "a + b + 1" }),
    )
    .await;
    call(&fake, &api, &s, "rm", json!({ "path": "README.md" })).await;
    assert_eq!(seqs(&api, &s, "record").await, (1..=12).collect::<Vec<_>>());
    let after_chat_3 = (
        file(&api, &s, "notes.md").await,
        file(&api, &s, "src/utils.ts").await,
        file(&api, &s, "README.md").await,
    );
    assert_eq!(after_chat_3.2, None);

    // Checkpoints: before the first chat (with the hand-written file), then after every turn.
    let (_, body) = api.get(&format!("/session/{s}/checkpoints")).await;
    let checkpoints = body["checkpoints"].as_array().unwrap();
    let at: Vec<u64> = checkpoints.iter().map(|c| c["seq"].as_u64().unwrap()).collect();
    assert_eq!(at, [0, 3, 4, 7, 8, 11, 12]);
    assert_eq!(checkpoints[1]["summary"], "1 file changed: A notes.md");
    assert_eq!(
        checkpoints[3]["changes"],
        json!([{ "change": "M", "path": "src/utils.ts" }])
    );
    assert_eq!(checkpoints[5]["summary"], "1 file changed: D README.md");

    // Revert to just after the first chat: its files, and the model continues from message 4.
    let reverted = post(&api, &format!("/session/{s}/revert"), json!({ "atMessage": 4 })).await;
    assert_eq!(reverted, json!({ "atMessage": 4, "marker": 13, "checkpoint": 4 }));
    assert_eq!(file(&api, &s, "notes.md").await.as_deref(), Some("v1\n"));
    assert_eq!(file(&api, &s, "src/utils.ts").await, Some(utils.clone()));
    assert!(file(&api, &s, "README.md").await.is_some());
    assert_eq!(seqs(&api, &s, "model").await, [1, 2, 3, 4]);
    let (_, record) = api.get(&format!("/session/{s}/messages")).await;
    assert_eq!(
        record["messages"][12],
        json!({ "seq": 13, "role": "revert", "atMessage": 4, "createdAt": record["messages"][12]["createdAt"] })
    );
    // git_status shows exactly the difference from HEAD: the untracked notes and the big file.
    let (status, _) = call(&fake, &api, &s, "git_status", json!({})).await;
    assert!(status.contains("notes.md") && status.contains("big.txt"), "{status}");
    assert!(!status.contains("utils.ts") && !status.contains("README"), "{status}");
    // The model saw messages 1-4 and the new question, not the reverted chats.
    assert_eq!(fake.received().len(), 8);
    assert_eq!(last_request_len(&fake), 7);
    let before_first_request = &fake.received()[6].body["messages"];
    assert_eq!(
        before_first_request.as_array().unwrap().len(),
        5,
        "{before_first_request}"
    );

    // Undo the revert: back to how things stood before it (message 12).
    let undone = post(&api, &format!("/session/{s}/revert"), json!({ "atMessage": 12 })).await;
    assert_eq!(undone["marker"], 18);
    assert_eq!(
        (
            file(&api, &s, "notes.md").await,
            file(&api, &s, "src/utils.ts").await,
            file(&api, &s, "README.md").await
        ),
        after_chat_3
    );
    assert_eq!(seqs(&api, &s, "model").await, (1..=12).collect::<Vec<_>>());

    // Bad reverts are refused and change nothing.
    let (status, body) = api
        .post(&format!("/session/{s}/revert"), &json!({ "atMessage": 99 }))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("past the last message (18)"),
        "{body}"
    );
    assert_eq!(api.post(&format!("/session/{s}/revert"), &json!({})).await.0, 400);

    // Fork at message 8 (after the second chat): that checkpoint's files, the conversation cut.
    let forked = post(&api, &format!("/session/{s}/fork"), json!({ "atMessage": 8 })).await;
    let f = forked["sessionId"].as_str().unwrap().to_string();
    assert_eq!(forked["forkedFrom"], s.as_str());
    assert_eq!(file(&api, &f, "notes.md").await.as_deref(), Some("v1\n"));
    assert_eq!(file(&api, &f, "src/utils.ts").await, after_chat_3.1);
    assert!(file(&api, &f, "README.md").await.is_some());
    assert_eq!(seqs(&api, &f, "record").await, (1..=8).collect::<Vec<_>>());
    assert_eq!(seqs(&api, &f, "model").await, (1..=8).collect::<Vec<_>>());
    assert_eq!(api.info(&f).await["head"], api.info(&s).await["head"]);
    // A whole fork, then the source deleted: the forks keep their (shared) spilled file.
    let whole = post(&api, &format!("/session/{s}/fork"), json!({})).await;
    let w = whole["sessionId"].as_str().unwrap().to_string();
    assert_eq!(file(&api, &w, "README.md").await, None);
    let data = server.data_dir();
    let blob_files = |id: &str| {
        files_beneath(&data.join("blobs").join(id))
            .into_iter()
            .map(|p| std::fs::metadata(p).unwrap())
            .collect::<Vec<_>>()
    };
    use std::os::unix::fs::MetadataExt as _;
    assert!(
        blob_files(&w).iter().all(|m| m.nlink() >= 3),
        "shared by link, not copied"
    );
    assert_eq!(api.delete(&format!("/session/{s}")).await.0, 204);
    for fork in [&f, &w] {
        assert_eq!(file(&api, fork, "big.txt").await.as_deref(), Some(big.as_str()));
    }
    assert!(blob_files(&w).iter().all(|m| m.nlink() == 2));
    assert_eq!(api.post(&format!("/session/{s}/fork"), &json!({})).await.0, 404);
}

#[tokio::test]
async fn a_reply_in_the_models_view_survives_reverts_of_other_chats() {
    let (fake, _server, api) = setup_with(Provider::OpenAi, vec![], &[]).await;
    let s = api.new_session().await;
    fake.push([Reply::text("first answer")]);
    assert_eq!(api.chat(&s, "first question").await.0, 200);
    fake.push([Reply::text("second answer")]);
    assert_eq!(api.chat(&s, "second question").await.0, 200);
    post(&api, &format!("/session/{s}/revert"), json!({ "atMessage": 2 })).await;
    fake.push([Reply::text("third answer")]);
    assert_eq!(api.chat(&s, "third question").await.0, 200);
    let sent = fake.received().last().unwrap().body["messages"].to_string();
    assert!(
        sent.contains("first answer") && sent.contains("third question"),
        "{sent}"
    );
    assert!(!sent.contains("second"), "{sent}");
    assert_eq!(seqs(&api, &s, "model").await, [1, 2, 6, 7]);
    assert_eq!(api.info(&s).await["messageCount"], 7);
}

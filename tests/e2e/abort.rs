//! Abort: `POST /session/:id/abort` stops the running chat at its next safe point; the chat
//! answers `stopReason: "aborted"` with what it produced, its finished turns are kept, and the
//! conversation stays valid for the next chat.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Api, FakeLlm, Provider, Reply, setup};

crate::support::on_each_provider!(
    an_abort_during_a_model_call_ends_the_chat_at_once,
    an_abort_in_a_tool_loop_keeps_the_finished_turns
);

/// Starts a chat in the background; returns its handle once the model has `requests` requests.
async fn chat_until(
    fake: &FakeLlm,
    api: &Api,
    session: &str,
    requests: usize,
) -> tokio::task::JoinHandle<(u16, Value)> {
    let chat = {
        let (api, session) = (Api::new(&api.base), session.to_string());
        tokio::spawn(async move { api.chat(&session, "work on it").await })
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while fake.received().len() < requests {
        assert!(Instant::now() < deadline, "the model was never asked");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    chat
}

async fn abort(api: &Api, session: &str) -> (u16, Value) {
    api.post(&format!("/session/{session}/abort"), &json!({})).await
}

async fn an_abort_during_a_model_call_ends_the_chat_at_once(p: Provider) {
    let (fake, _server, api) = setup(
        p,
        vec![Reply::Slow(Duration::from_secs(20), Box::new(Reply::text("too late")))],
    )
    .await;
    let s = api.new_session().await;
    assert_eq!(abort(&api, &s).await.0, 409, "no chat runs yet");
    assert_eq!(abort(&api, "no-such-session").await.0, 404);

    let chat = chat_until(&fake, &api, &s, 1).await;
    let started = Instant::now();
    assert_eq!(abort(&api, &s).await, (202, json!({ "aborted": true })));
    let (status, reply) = chat.await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the model's 20 s were not waited for"
    );
    assert_eq!(
        (status, reply["stopReason"].as_str()),
        (200, Some("aborted")),
        "{reply}"
    );
    assert!(reply["response"].as_str().unwrap().contains("Aborted"), "{reply}");

    // The conversation stays valid: the next chat goes through, with the aborted one before it.
    fake.push([Reply::text("fine")]);
    let (status, reply) = api.chat(&s, "still there?").await;
    assert_eq!((status, reply["response"].as_str()), (200, Some("fine")), "{reply}");
    let (_, messages) = api.get(&format!("/session/{s}/messages")).await;
    let roles: Vec<&str> = messages["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant", "user", "assistant"]);
}

async fn an_abort_in_a_tool_loop_keeps_the_finished_turns(p: Provider) {
    let (fake, _server, api) = setup(
        p,
        vec![
            Reply::tool("write", json!({ "path": "a.txt", "content": "a" })),
            Reply::Slow(
                Duration::from_secs(20),
                Box::new(Reply::tool("write", json!({ "path": "b.txt", "content": "b" }))),
            ),
        ],
    )
    .await;
    let s = api.new_session().await;
    let chat = chat_until(&fake, &api, &s, 2).await;
    assert_eq!(abort(&api, &s).await.0, 202);
    let (status, reply) = chat.await.unwrap();
    assert_eq!(
        (status, reply["stopReason"].as_str()),
        (200, Some("aborted")),
        "{reply}"
    );
    assert_eq!(
        reply["toolCalls"],
        json!([{ "tool": "write", "args": { "path": "a.txt", "content": "a" } }])
    );
    assert_eq!(api.get(&format!("/session/{s}/files/a.txt")).await.0, 200);
    assert_eq!(api.get(&format!("/session/{s}/files/b.txt")).await.0, 404);
    // Every tool call in the record has its result, and the next chat continues from there.
    fake.push([Reply::text("ok")]);
    assert_eq!(api.chat(&s, "go on").await.0, 200);
    assert_eq!(abort(&api, &s).await.0, 409, "nothing runs any more");
}

#[tokio::test]
async fn a_streaming_client_that_leaves_aborts_its_chat_only_when_it_asked() {
    let (fake, server, api) = setup(Provider::Anthropic, vec![]).await;
    let s = api.new_session().await;
    for (query, aborted) in [("", false), ("?abortOnDisconnect=true", true)] {
        let seen = fake.received().len();
        fake.push([Reply::Slow(Duration::from_secs(3), Box::new(Reply::text("late")))]);
        let client = reqwest::Client::new();
        let response = client
            .post(format!("{}/session/{s}/chat{query}", server.url))
            .body(json!({ "message": "stream it", "stream": true }).to_string())
            .send()
            .await
            .unwrap();
        while fake.received().len() == seen {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        drop(response);
        drop(client);
        tokio::time::sleep(Duration::from_millis(300)).await;
        // Aborted: nothing runs any more. Not aborted: the chat runs on (and is stopped here).
        let (status, _) = abort(&api, &s).await;
        assert_eq!(status, if aborted { 409 } else { 202 }, "{query}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while abort(&api, &s).await.0 != 409 {
            assert!(Instant::now() < deadline, "the chat never ended");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

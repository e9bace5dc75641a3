//! Conversation memory across chats and server restarts, and isolation between sessions.

use serde_json::json;

use crate::support::{Api, Provider, Reply, conversation, setup};

crate::support::on_each_provider!(
    each_chat_continues_the_conversation,
    history_and_files_survive_a_restart,
    sessions_are_isolated,
    chat_creates_a_session_on_first_use,
    empty_template_and_turn_limit
);

async fn each_chat_continues_the_conversation(p: Provider) {
    let (fake, _server, api) = setup(p, vec![Reply::text("Noted: 42."), Reply::text("You said 42.")]).await;
    let s = api.new_session().await;
    assert_eq!(api.chat(&s, "Remember the number 42.").await.0, 200);
    let (status, body) = api.chat(&s, "What number did I say?").await;
    assert_eq!((status, body["response"].as_str()), (200, Some("You said 42.")));

    let second = &fake.received()[1].body;
    let said = |role: &str, text: &str| (role.to_string(), text.to_string());
    assert_eq!(
        conversation(second),
        [
            said("user", "Remember the number 42."),
            said("assistant", "Noted: 42."),
            said("user", "What number did I say?")
        ]
    );
    match p {
        Provider::Anthropic => {
            // Prompt-caching breakpoints: system prompt, last tool, last message.
            assert!(second["system"][0]["text"].as_str().unwrap().contains("coding agent"));
            assert_eq!(second["system"][0]["cache_control"], json!({ "type": "ephemeral" }));
            assert_eq!(second["tools"][19]["cache_control"], json!({ "type": "ephemeral" }));
            assert_eq!(
                second["messages"][2]["content"][0]["cache_control"],
                json!({ "type": "ephemeral" })
            );
        }
        Provider::OpenAi => {
            assert_eq!(second["messages"][0]["role"], "system");
            assert!(
                second["messages"][0]["content"]
                    .as_str()
                    .unwrap()
                    .contains("coding agent")
            );
            assert_eq!(second["model"], "gpt-fake");
            assert_eq!(second["tools"][0]["type"], "function");
        }
    }
    assert_eq!(second["tools"].as_array().unwrap().len(), 20);

    let (status, body) = api.get(&format!("/session/{s}/messages")).await;
    assert_eq!(status, 200);
    assert_eq!(body["messages"].as_array().unwrap().len(), 4);
    assert_eq!(
        body["messages"][3]["content"][0],
        json!({ "type": "text", "text": "You said 42." })
    );
    assert_eq!(api.info(&s).await["messageCount"], 4);
}

async fn history_and_files_survive_a_restart(p: Provider) {
    let (fake, mut server, api) = setup(
        p,
        vec![
            Reply::tool("write", json!({ "path": "memo.txt", "content": "before restart" })),
            Reply::text("Written."),
        ],
    )
    .await;
    let s = api.new_session().await;
    assert_eq!(api.chat(&s, "write a memo").await.0, 200);

    server.restart();
    let api = Api::new(&server.url);
    fake.push([
        Reply::tool("read", json!({ "path": "memo.txt" })),
        Reply::text("It says: before restart."),
    ]);
    let (status, body) = api.chat(&s, "what does the memo say?").await;
    assert_eq!(status, 200, "{body}");
    let received = fake.received();
    let after = conversation(&received[2].body);
    assert_eq!(after.len(), 5, "{after:?}");
    assert_eq!(after[0], ("user".to_string(), "write a memo".to_string()));
    assert_eq!(crate::support::tool_results(&received[3].body)[0].0, "before restart");
    assert_eq!(api.info(&s).await["messageCount"], 8);
}

async fn sessions_are_isolated(p: Provider) {
    let (fake, _server, api) = setup(
        p,
        vec![
            Reply::tool("write", json!({ "path": "secret.txt", "content": "only in A" })),
            Reply::text("ok"),
            Reply::tool("read", json!({ "path": "secret.txt" })),
            Reply::text("not found"),
        ],
    )
    .await;
    let a = api.new_session().await;
    let b = api.new_session().await;
    assert_ne!(a, b);
    assert_eq!(api.chat(&a, "write a secret").await.0, 200);
    assert_eq!(api.chat(&b, "read the secret").await.0, 200);
    let received = fake.received();
    assert_eq!(
        crate::support::tool_results(&received[3].body)[0],
        ("Path not found: secret.txt".to_string(), true)
    );
    // B's conversation does not contain A's.
    assert_eq!(conversation(&received[2].body).len(), 1);
    assert_eq!(api.info(&a).await["fileCount"], 6);
    assert_eq!(api.info(&b).await["fileCount"], 5);
}

async fn chat_creates_a_session_on_first_use(p: Provider) {
    let (_fake, _server, api) = setup(p, vec![Reply::text("hello")]).await;
    let (status, _) = api.get("/session/my-own-session/info").await;
    assert_eq!(status, 404);
    let (status, body) = api.chat("my-own-session", "hi").await;
    assert_eq!((status, body["response"].as_str()), (200, Some("hello")));
    let info = api.info("my-own-session").await;
    assert_eq!(
        (info["fileCount"].as_u64(), info["template"].as_str()),
        (Some(5), Some("sample"))
    );
}

async fn empty_template_and_turn_limit(p: Provider) {
    let (fake, _server, api) = crate::support::setup_with(p, vec![], &["--max-turns", "2"]).await;
    let (status, body) = api.post("/session/new", &json!({ "template": "empty" })).await;
    assert_eq!(status, 200);
    let s = body["sessionId"].as_str().unwrap().to_string();
    assert_eq!(api.info(&s).await["fileCount"], 0);
    fake.push([
        Reply::tool("ls", json!({})),
        Reply::tool("ls", json!({})),
        Reply::tool("ls", json!({})),
    ]);
    let (status, body) = api.chat(&s, "loop forever").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["stopReason"], "max_turns");
    assert!(
        body["response"].as_str().unwrap().contains("limit of 2 model turns"),
        "{body}"
    );
    assert_eq!(body["toolCalls"].as_array().unwrap().len(), 2);
    assert_eq!(fake.pending(), 1);
    assert_eq!(api.info(&s).await["limits"]["maxTurns"], 2);
}

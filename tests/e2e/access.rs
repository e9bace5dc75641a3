//! Access control: with `PI_WORKER_TOKEN` set, every route but `/health` needs the bearer token.

use serde_json::json;

use crate::support::{Api, FakeLlm, Reply, Server, ServerOptions};

#[tokio::test]
async fn a_configured_token_guards_every_route_but_health() {
    let fake = FakeLlm::start(vec![Reply::text("hello")]).await;
    let server = Server::start(ServerOptions {
        llm_url: Some(fake.url.clone()),
        env: vec![("PI_WORKER_TOKEN".into(), "s3cret-token".into())],
        ..ServerOptions::default()
    });
    let anonymous = Api::new(&server.url);
    let wrong = Api::with_token(&server.url, "s3cret-tokeX");
    let right = Api::with_token(&server.url, "s3cret-token");

    assert_eq!(anonymous.get("/health").await, (200, json!("ok")));
    let s = right.new_session().await;
    for api in [&anonymous, &wrong] {
        let (status, body) = api.post("/session/new", &json!({})).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("missing or wrong bearer token"))
        );
        assert_eq!(api.chat(&s, "hi").await.0, 401);
        assert_eq!(api.get(&format!("/session/{s}/info")).await.0, 401);
        assert_eq!(api.get(&format!("/session/{s}/messages")).await.0, 401);
        assert_eq!(api.get(&format!("/session/{s}/git/info/refs")).await.0, 401);
        assert_eq!(api.get(&format!("/session/{s}/archive.tar")).await.0, 401);
        assert_eq!(api.get(&format!("/session/{s}/archive.tar.gz")).await.0, 401);
        assert_eq!(api.get(&format!("/session/{s}/files")).await.0, 401);
        assert_eq!(api.get(&format!("/session/{s}/files/package.json")).await.0, 401);
        assert_eq!(api.get("/no/such/route").await.0, 401);
    }
    assert!(fake.received().is_empty(), "refused chats never reached the model");
    let (status, body) = right.chat(&s, "hi").await;
    assert_eq!((status, body["response"].as_str()), (200, Some("hello")));
    assert_eq!(right.get(&format!("/session/{s}/git/info/refs")).await.0, 200);
}

#[tokio::test]
async fn tenants_see_and_touch_only_their_own_sessions_and_tokens_reload() {
    const ALICE: &str = "alice-token-0123456789";
    const BOB: &str = "bob-token-0123456789ab";
    const CAROL: &str = "carol-token-0123456789";
    const SINGLE: &str = "single-user-token-xyz";
    let fake = FakeLlm::start(vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, format!("# name token\nalice {ALICE}\nbob {BOB}\n")).unwrap();
    let server = Server::start(ServerOptions {
        llm_url: Some(fake.url.clone()),
        args: vec!["--tokens-file".into(), tokens.to_str().unwrap().into()],
        env: vec![("PI_WORKER_TOKEN".into(), SINGLE.into())],
        ..ServerOptions::default()
    });
    let alice = Api::with_token(&server.url, ALICE);
    let bob = Api::with_token(&server.url, BOB);
    let single = Api::with_token(&server.url, SINGLE);

    let a = alice.new_session().await;
    fake.push([Reply::text("hi alice")]);
    assert_eq!(alice.chat(&a, "hello").await.0, 200);
    let b = bob.new_session().await;
    let own = single.new_session().await;
    for (api, mine) in [(&alice, &a), (&bob, &b), (&single, &own)] {
        let (status, page) = api.get("/sessions").await;
        assert_eq!(status, 200, "{page}");
        let ids: Vec<&str> = page["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["sessionId"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [mine.as_str()], "each tenant lists only its own");
    }
    assert_eq!(alice.info(&a).await["owner"], "alice");
    assert_eq!(single.info(&own).await["owner"], serde_json::Value::Null);

    // Bob cannot read, chat with, clone from, fork, revert or delete Alice's session: 404s, as
    // if it did not exist.
    let not_found = json!(format!("session '{a}' not found"));
    let http = reqwest::Client::new();
    let as_bob =
        |method: reqwest::Method, path: String| http.request(method, format!("{}{path}", server.url)).bearer_auth(BOB);
    for path in [
        "info",
        "events",
        "messages",
        "checkpoints",
        "files",
        "files/README.md",
        "archive.tar",
        "git/info/refs",
    ] {
        let (status, body) = bob.get(&format!("/session/{a}/{path}")).await;
        assert_eq!((status, &body["error"]), (404, &not_found), "{path}");
    }
    for (method, path, body) in [
        (
            reqwest::Method::POST,
            format!("/session/{a}/chat"),
            r#"{"message":"hi"}"#,
        ),
        (reqwest::Method::POST, format!("/session/{a}/fork"), "{}"),
        (
            reqwest::Method::POST,
            format!("/session/{a}/revert"),
            r#"{"atMessage":0}"#,
        ),
        (reqwest::Method::PUT, format!("/session/{a}/files/x.txt"), "x"),
        (reqwest::Method::DELETE, format!("/session/{a}/files/README.md"), ""),
        (reqwest::Method::DELETE, format!("/session/{a}"), ""),
    ] {
        let response = as_bob(method.clone(), path.clone()).body(body).send().await.unwrap();
        assert_eq!(response.status(), 404, "{method} {path}");
    }
    // An escaped id cannot slip past the check.
    let escaped: String = a.chars().map(|c| format!("%{:02X}", c as u8)).collect();
    assert_eq!(bob.get(&format!("/session/{escaped}/info")).await.0, 400);
    let clone_dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("git")
        .args([
            "-c",
            &format!("http.extraHeader=Authorization: Bearer {BOB}"),
            "clone",
            "-q",
        ])
        .arg(format!("{}/session/{a}/git", server.url))
        .arg(clone_dir.path().join("c"))
        .output()
        .unwrap();
    assert!(!out.status.success(), "bob cloned alice's session");
    // Nor push into it.
    let mine = clone_dir.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .args(["-c", "user.name=Bob", "-c", "user.email=bob@example.com"])
            .args(args)
            .current_dir(&mine)
            .output()
            .unwrap()
    };
    run(&["init", "-q", "-b", "main"]);
    std::fs::write(mine.join("evil.txt"), "bob was here\n").unwrap();
    run(&["add", "evil.txt"]);
    run(&["commit", "-qm", "bob"]);
    let auth = format!("http.extraHeader=Authorization: Bearer {BOB}");
    let url = format!("{}/session/{a}/git", server.url);
    let pushed = run(&["-c", &auth, "push", &url, "main:refs/heads/bob"]);
    assert!(!pushed.status.success(), "bob pushed into alice's session");
    let stderr = String::from_utf8_lossy(&pushed.stderr);
    assert!(stderr.contains("not found"), "{stderr}");
    // Alice's session is untouched; the only chat it had was hers.
    assert_eq!(alice.info(&a).await["messageCount"], 2);
    assert_eq!(fake.received().len(), 1);

    // The tokens file reloads: Carol arrives, Bob leaves, no restart.
    assert_eq!(Api::with_token(&server.url, CAROL).get("/sessions").await.0, 401);
    std::fs::write(&tokens, format!("alice {ALICE}\ncarol {CAROL}\n")).unwrap();
    let (status, page) = Api::with_token(&server.url, CAROL).get("/sessions").await;
    assert_eq!((status, page["sessions"].as_array().unwrap().len()), (200, 0));
    assert_eq!(bob.get("/sessions").await.0, 401);
    // No token reaches the log.
    let log = server.log();
    for token in [ALICE, BOB, CAROL, SINGLE] {
        assert!(!log.contains(token), "a token in the log");
    }
}

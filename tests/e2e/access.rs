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

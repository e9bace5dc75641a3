//! Managing sessions: the listing (order, pagination, titles) read from the catalogue, kept right
//! across SIGKILL; deleting a session, refused while a chat runs.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Api, Provider, Reply, Server, setup};

/// Every session of the listing, following `nextCursor` with pages of `limit`.
async fn list_all(api: &Api, limit: usize) -> (Vec<Value>, usize) {
    let (mut sessions, mut pages, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let path = match &cursor {
            Some(c) => format!("/sessions?limit={limit}&cursor={c}"),
            None => format!("/sessions?limit={limit}"),
        };
        let (status, page) = api.get(&path).await;
        assert_eq!(status, 200, "{page}");
        pages += 1;
        sessions.extend(page["sessions"].as_array().unwrap().iter().cloned());
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return (sessions, pages),
        }
    }
}

fn ids(sessions: &[Value]) -> Vec<String> {
    sessions
        .iter()
        .map(|s| s["sessionId"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn sessions_list_newest_first_in_pages_and_delete() {
    let (fake, server, api) = setup(Provider::Anthropic, vec![]).await;
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(api.new_session().await);
        // Distinct creation times keep the expected order unambiguous.
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    fake.push([Reply::text("hello")]);
    let long = format!("Please   refactor\nthe utils {}", "x".repeat(100));
    assert_eq!(api.chat(&created[1], &long).await.0, 200);

    let (sessions, pages) = list_all(&api, 2).await;
    assert_eq!(pages, 3);
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();
    assert_eq!(ids(&sessions), newest_first);
    let chatted = &sessions[3];
    assert_eq!(chatted["messageCount"], 2);
    let title = chatted["title"].as_str().unwrap();
    assert!(
        title.starts_with("Please refactor the utils xxx") && title.ends_with('…'),
        "{title}"
    );
    assert_eq!(title.chars().count(), 81);
    assert_eq!(chatted["fileCount"], 5);
    assert_eq!(chatted["branch"], "main");
    assert_eq!(chatted["head"], api.info(&created[1]).await["head"]);
    assert!(chatted["updatedAt"].as_u64() >= chatted["createdAt"].as_u64());
    assert_eq!(sessions[0]["title"], Value::Null);

    // Bad pages are refused.
    assert_eq!(api.get("/sessions?limit=0").await.0, 400);
    assert_eq!(api.get("/sessions?cursor=nonsense").await.0, 400);

    // Delete: the session, its database and its blobs go; a second delete is 404.
    let gone = &created[2];
    let data = server.data_dir();
    assert!(data.join(format!("sessions/{gone}.sqlite")).exists());
    let http = reqwest::Client::new();
    let delete = |s: &str| http.delete(format!("{}/session/{s}", server.url)).send();
    assert_eq!(delete(gone).await.unwrap().status(), 204);
    assert!(!data.join(format!("sessions/{gone}.sqlite")).exists());
    assert!(!data.join(format!("blobs/{gone}")).exists());
    assert_eq!(api.get(&format!("/session/{gone}/info")).await.0, 404);
    assert_eq!(delete(gone).await.unwrap().status(), 404);
    let (sessions, _) = list_all(&api, 50).await;
    assert!(!ids(&sessions).contains(gone));
    assert_eq!(sessions.len(), 4);

    // While a chat runs, the session cannot be deleted.
    fake.push([Reply::Slow(Duration::from_millis(1500), Box::new(Reply::text("slow")))]);
    let busy = created[0].clone();
    let chat = {
        let api = Api::new(&server.url);
        let busy = busy.clone();
        tokio::spawn(async move { api.chat(&busy, "take your time").await })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    let refused = delete(&busy).await.unwrap();
    assert_eq!(refused.status(), 409);
    assert!(refused.text().await.unwrap().contains("busy"));
    assert_eq!(chat.await.unwrap().0, 200);
    assert_eq!(delete(&busy).await.unwrap().status(), 204);
}

#[tokio::test]
async fn the_listing_stays_right_after_sigkill() {
    let fake = crate::support::FakeLlm::start(vec![]).await;
    let mut server = Server::start(crate::support::ServerOptions {
        llm_url: Some(fake.url.clone()),
        ..Default::default()
    });
    let api = Api::new(&server.url);
    let kept = api.new_session().await;
    let chatted = api.new_session().await;

    // SIGKILL mid-chat: the row was marked stale before the chat, and is recomputed at start.
    fake.push([
        Reply::tool("write", json!({ "path": "a.txt", "content": "a" })),
        Reply::Slow(Duration::from_secs(30), Box::new(Reply::text("never"))),
    ]);
    let chat = {
        let api = Api::new(&server.url);
        let chatted = chatted.clone();
        tokio::spawn(async move { api.try_chat(&chatted, "write a.txt").await })
    };
    while fake.received().len() < 2 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A creation cut short by the crash: a half-made database and blobs under the temporary name.
    let data = server.data_dir();
    std::fs::copy(
        data.join(format!("sessions/{kept}.sqlite")),
        data.join("sessions/halfmade.creating"),
    )
    .unwrap();
    std::fs::create_dir_all(data.join("blobs/halfmade")).unwrap();
    server.kill();
    assert!(chat.await.unwrap().is_err());

    server.start_again();
    let api = Api::new(&server.url);
    let (sessions, _) = list_all(&api, 10).await;
    assert_eq!(ids(&sessions), [chatted.clone(), kept.clone()]);
    // The write acknowledged before the kill is in the listing's counts.
    assert_eq!(sessions[0]["fileCount"], 6);
    assert_eq!(sessions[0]["title"], "write a.txt");
    assert!(!data.join("sessions/halfmade.creating").exists());
    assert!(!data.join("blobs/halfmade").exists());
    assert!(
        server
            .log()
            .contains("removed the leftovers of interrupted session creations")
    );
}

#[tokio::test]
async fn sigkill_in_the_middle_of_a_sessions_creation_leaves_no_trace() {
    let mut server = Server::start(crate::support::ServerOptions {
        args: vec!["--max-upload-bytes".into(), "200000000".into()],
        ..Default::default()
    });
    let api = Api::new(&server.url);
    let kept = api.new_session().await;
    // An archive big enough that its import is still running when the server dies.
    let mut builder = tar::Builder::new(Vec::new());
    for i in 0..6000 {
        let data = format!("file {i}\n").repeat(400);
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        builder
            .append_data(&mut header, format!("d{}/f{i}.txt", i % 50), data.as_bytes())
            .unwrap();
    }
    let archive = builder.into_inner().unwrap();
    let url = format!("{}/session/new", server.url);
    let upload = tokio::spawn(async move {
        reqwest::Client::new()
            .post(url)
            .header("content-type", "application/x-tar")
            .body(archive)
            .send()
            .await
    });
    let sessions = server.data_dir().join("sessions");
    let creating = || {
        std::fs::read_dir(&sessions)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with(".creating"))
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !creating() {
        assert!(std::time::Instant::now() < deadline, "the import never started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill();
    assert!(upload.await.unwrap().is_err(), "the import finished before the kill");

    server.start_again();
    let api = Api::new(&server.url);
    let (listed, _) = list_all(&api, 50).await;
    assert_eq!(ids(&listed), [kept.as_str()], "only the finished session is listed");
    let mut on_disk: Vec<String> = std::fs::read_dir(&sessions)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    // The finished session's database, with its WAL and shared memory (kept between opens).
    assert_eq!(
        on_disk,
        [
            format!("{kept}.sqlite"),
            format!("{kept}.sqlite-shm"),
            format!("{kept}.sqlite-wal")
        ]
    );
    let blobs: Vec<_> = std::fs::read_dir(server.data_dir().join("blobs"))
        .unwrap()
        .flatten()
        .collect();
    assert!(
        blobs.iter().all(|e| e.file_name().to_string_lossy() == kept),
        "no orphan blobs"
    );
    assert_eq!(api.info(&kept).await["fileCount"], 5);
}

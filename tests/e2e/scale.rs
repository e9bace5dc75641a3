//! Chats at scale: a chat waiting for the model holds no thread, so thousands wait at once with
//! the default settings; a guest that spins yields to the others.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use crate::support::{Api, FakeLlm, Reply, Server, ServerOptions};

/// Raised once every chat is waiting for the model.
static RELEASED: AtomicBool = AtomicBool::new(false);

fn held_answer(_request: &serde_json::Value) -> Reply {
    Reply::Held(&RELEASED, Box::new(Reply::text("done")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_chats_wait_for_the_model_at_once_and_all_complete() {
    const CHATS: usize = 2000;
    let fake = FakeLlm::with_responder(held_answer).await;
    let server = Server::start(ServerOptions {
        llm_url: Some(fake.url.clone()),
        ..ServerOptions::default()
    });
    let api = Arc::new(Api::new(&server.url));
    let sessions: Vec<String> = futures_util::stream::iter(0..CHATS)
        .map(|_| {
            let api = api.clone();
            async move { api.new_session().await }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let probe = sessions[0].clone();
    let started = Instant::now();
    let chats: Vec<_> = sessions
        .into_iter()
        .map(|s| {
            let api = api.clone();
            tokio::spawn(async move { api.chat(&s, "wait for it").await })
        })
        .collect();
    // The model answers nobody until the server counts every chat in flight at once: each holds
    // a slot while it waits, none queued behind another's wait.
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let info = api.info(&probe).await;
        let server = &info["server"];
        if server["chatsInFlight"] == CHATS as u64 {
            assert_eq!(server["chatsQueued"], 0, "{info}");
            assert!(server["maxChats"].as_u64().unwrap() >= CHATS as u64, "{info}");
            break;
        }
        assert!(Instant::now() < deadline, "never all in flight: {info}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let all_waiting = started.elapsed();
    RELEASED.store(true, Ordering::Release);
    for chat in chats {
        let (status, body) = chat.await.unwrap();
        assert_eq!((status, body["response"].as_str()), (200, Some("done")), "{body}");
    }
    let info = api.info(&probe).await;
    assert_eq!(info["server"]["chatsInFlight"], 0, "{info}");
    eprintln!(
        "{CHATS} chats all waiting on the model after {all_waiting:.2?}, all done after {:.2?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spinning_guests_yield_to_the_other_chats() {
    // More spinning chats than the server has cores (and so runtime threads).
    const SPINNERS: usize = 4;
    const OTHERS: usize = 20;
    let server = crate::hostile::hostile_server_with(&["--guest-cpu-secs", "5"]);
    let api = Arc::new(Api::new(&server.url));
    let mut spinners = Vec::new();
    for _ in 0..SPINNERS {
        let (api, s) = (api.clone(), api.new_session().await);
        spinners.push(tokio::spawn(async move {
            let reply = api.chat(&s, "spin").await;
            (reply, Instant::now())
        }));
    }
    let mut sessions = Vec::new();
    for _ in 0..OTHERS {
        sessions.push(api.new_session().await);
    }
    // The spinners are running; now the others, all at once.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let others: Vec<_> = sessions
        .into_iter()
        .map(|s| {
            let api = api.clone();
            tokio::spawn(async move {
                let reply = api.chat(&s, "still there?").await;
                (reply, Instant::now())
            })
        })
        .collect();
    let mut last_other = None;
    for other in others {
        let ((status, body), done) = other.await.unwrap();
        assert_eq!((status, body["response"].as_str()), (200, Some("echo: still there?")));
        last_other = last_other.max(Some(done));
    }
    let mut first_spinner: Option<Instant> = None;
    for spinner in spinners {
        let ((status, body), done) = spinner.await.unwrap();
        assert_eq!(status, 500, "{body}");
        assert!(body["error"].as_str().unwrap().contains("CPU time limit"), "{body}");
        first_spinner = Some(first_spinner.map_or(done, |first| first.min(done)));
    }
    assert!(
        last_other < first_spinner,
        "every other chat finished while the spinners still ran"
    );
}

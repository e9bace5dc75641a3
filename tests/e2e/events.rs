//! The session's event stream (`GET /session/:id/events`): every chat, several viewers, ids that
//! increase, and rejoining with `Last-Event-ID`.

use std::time::{Duration, Instant};

use eventsource_stream::{Event, EventStreamError, Eventsource};
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use serde_json::{Value, json};

use crate::support::{Api, Block, Provider, Reply, setup};

crate::support::on_each_provider!(
    two_viewers_one_slow_both_see_every_event_in_order_and_the_agent_is_not_slowed,
    a_viewer_that_rejoins_mid_chat_with_last_event_id_misses_nothing_and_repeats_nothing,
    the_streaming_chat_and_the_session_stream_share_increasing_ids,
    a_streaming_chat_rejoined_with_last_event_id_continues_to_its_done_without_a_second_chat
);

/// One event as a viewer saw it: `(id, name, data)`.
type Seen = (String, String, Value);

/// An open event stream of a session.
struct Viewer {
    events: BoxStream<'static, Result<Event, EventStreamError<reqwest::Error>>>,
}

impl Viewer {
    /// Opens `/session/:s/events` (with `Last-Event-ID: last` when given); the server has
    /// subscribed it once this returns.
    async fn open(api: &Api, s: &str, last: Option<&str>) -> Self {
        let mut request = reqwest::Client::new().get(format!("{}/session/{s}/events", api.base));
        if let Some(last) = last {
            request = request.header("Last-Event-ID", last);
        }
        Self::from(request.send().await.unwrap())
    }

    fn from(response: reqwest::Response) -> Self {
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Self {
            events: response.bytes_stream().eventsource().boxed(),
        }
    }

    async fn next(&mut self) -> Seen {
        let event = tokio::time::timeout(Duration::from_secs(30), self.events.next())
            .await
            .expect("no event within 30 s")
            .expect("the stream ended")
            .unwrap();
        (event.id, event.event, serde_json::from_str(&event.data).unwrap())
    }

    /// Reads events until (and with) the next `chat_end`, pausing `pause` before each read.
    async fn until_chat_end(&mut self, pause: Duration) -> Vec<Seen> {
        let mut seen = Vec::new();
        loop {
            tokio::time::sleep(pause).await;
            let event = self.next().await;
            let end = event.1 == "chat_end";
            seen.push(event);
            if end {
                return seen;
            }
        }
    }
}

fn names(events: &[Seen]) -> Vec<&str> {
    events.iter().map(|(_, name, _)| name.as_str()).collect()
}

fn assert_ids_increase(events: &[Seen]) {
    let ids: Vec<u64> = events.iter().map(|(id, _, _)| id.parse().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
}

fn tool_then_text() -> Vec<Reply> {
    vec![
        Reply::Answer(vec![
            Block::Text("Reading the file.".into()),
            Block::Tool {
                name: "read".into(),
                input: json!({ "path": "README.md", "limit": 1 }),
            },
        ]),
        Reply::text("It is a sample project."),
    ]
}

async fn two_viewers_one_slow_both_see_every_event_in_order_and_the_agent_is_not_slowed(p: Provider) {
    let (fake, _server, api) = setup(p, tool_then_text()).await;
    let s = api.new_session().await;
    let mut fast = Viewer::open(&api, &s, None).await;
    let mut slow = Viewer::open(&api, &s, None).await;

    let started = Instant::now();
    let (status, reply) = api.chat(&s, "what is this?").await;
    let chat_took = started.elapsed();
    assert_eq!(status, 200, "{reply}");

    let fast_seen = fast.until_chat_end(Duration::ZERO).await;
    let slow_started = Instant::now();
    let slow_seen = slow.until_chat_end(Duration::from_millis(300)).await;
    assert_eq!(fast_seen, slow_seen);
    // The slow viewer's reading took longer than the whole chat: the chat did not wait for it.
    assert!(slow_started.elapsed() > chat_took, "{chat_took:?}");

    let names = names(&fast_seen);
    assert_eq!(names.first(), Some(&"chat_start"), "{names:?}");
    let tool = names.iter().position(|n| *n == "tool_start").unwrap();
    assert_eq!(names[tool + 1], "tool_end");
    assert!(names[1..tool].iter().all(|n| *n == "text_delta"), "{names:?}");
    assert_ids_increase(&fast_seen);
    let (_, _, start) = &fast_seen[0];
    let (_, _, end) = fast_seen.last().unwrap();
    assert_eq!(start["message"], "what is this?");
    assert_eq!(start["chatId"], end["chatId"]);
    assert_eq!(end["stopReason"], "end_turn");
    let text: String = fast_seen
        .iter()
        .filter(|(_, n, _)| n == "text_delta")
        .map(|(_, _, d)| d["text"].as_str().unwrap())
        .collect();
    assert_eq!(text, "Reading the file.It is a sample project.");

    // The stream stays open between chats.
    fake.push([Reply::text("yes")]);
    let (status, _) = api.chat(&s, "again?").await;
    assert_eq!(status, 200);
    let next = fast.until_chat_end(Duration::ZERO).await;
    assert_eq!(next[0].2["message"], "again?");
    assert_ne!(next[0].2["chatId"], start["chatId"]);
    assert!(next[0].0.parse::<u64>().unwrap() > end_id(&fast_seen));
}

fn end_id(events: &[Seen]) -> u64 {
    events.last().unwrap().0.parse().unwrap()
}

/// A chat with pauses: the model answers its second and third requests a second late.
fn a_long_chat() -> Vec<Reply> {
    let step = |text: &str, path: &str| {
        Reply::Answer(vec![
            Block::Text(text.into()),
            Block::Tool {
                name: "write".into(),
                input: json!({ "path": path, "content": text }),
            },
        ])
    };
    vec![
        step("one", "one.txt"),
        Reply::Slow(Duration::from_secs(1), Box::new(step("two", "two.txt"))),
        Reply::Slow(Duration::from_secs(1), Box::new(Reply::text("three"))),
    ]
}

async fn a_viewer_that_rejoins_mid_chat_with_last_event_id_misses_nothing_and_repeats_nothing(p: Provider) {
    let (_fake, _server, api) = setup(p, a_long_chat()).await;
    let s = api.new_session().await;
    let mut whole = Viewer::open(&api, &s, None).await;
    let mut rejoining = Viewer::open(&api, &s, None).await;
    let chat = {
        let (api, s) = (Api::new(&api.base), s.clone());
        tokio::spawn(async move { api.chat(&s, "write three files").await })
    };

    // Read up to the first tool's end, hang up, and come back once more has happened.
    let mut before = Vec::new();
    while before.last().is_none_or(|(_, name, _): &Seen| name != "tool_end") {
        before.push(rejoining.next().await);
    }
    drop(rejoining);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let last = before.last().unwrap().0.clone();
    let mut rejoined = Viewer::open(&api, &s, Some(&last)).await;
    let after = rejoined.until_chat_end(Duration::ZERO).await;

    let whole = whole.until_chat_end(Duration::ZERO).await;
    assert_eq!(chat.await.unwrap().0, 200);
    assert!(!after.is_empty() && names(&after).contains(&"tool_start"), "{after:?}");
    let joined: Vec<Seen> = before.into_iter().chain(after).collect();
    assert_eq!(joined, whole);
    assert_ids_increase(&whole);
    assert_eq!(names(&whole).iter().filter(|n| **n == "tool_end").count(), 2);
}

/// The streaming chat's answer with each event's id: `(id, name, data)`.
async fn chat_stream_with_ids(api: &Api, s: &str, message: &str) -> Vec<Seen> {
    let response = reqwest::Client::new()
        .post(format!("{}/session/{s}/chat", api.base))
        .body(json!({ "message": message, "stream": true }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    collect(response.bytes_stream().eventsource()).await
}

async fn collect(events: impl Stream<Item = Result<Event, EventStreamError<reqwest::Error>>>) -> Vec<Seen> {
    events
        .map(|e| {
            let e = e.unwrap();
            (e.id, e.event, serde_json::from_str(&e.data).unwrap())
        })
        .collect()
        .await
}

async fn the_streaming_chat_and_the_session_stream_share_increasing_ids(p: Provider) {
    let mut replies = tool_then_text();
    replies.extend(tool_then_text());
    let (_fake, _server, api) = setup(p, replies).await;
    let s = api.new_session().await;
    let mut viewer = Viewer::open(&api, &s, None).await;

    let first = chat_stream_with_ids(&api, &s, "what is this?").await;
    let second = chat_stream_with_ids(&api, &s, "and now?").await;
    for chat in [&first, &second] {
        assert!(chat.iter().all(|(id, _, _)| !id.is_empty()), "{chat:?}");
        assert_eq!(names(chat).last(), Some(&"done"));
        assert!(!names(chat).contains(&"chat_start"));
    }
    let both: Vec<Seen> = first.iter().chain(&second).cloned().collect();
    assert_ids_increase(&both);

    // The session's stream has the same events under the same ids; `done` has its `chat_end`'s.
    let watched: Vec<Seen> = [
        viewer.until_chat_end(Duration::ZERO).await,
        viewer.until_chat_end(Duration::ZERO).await,
    ]
    .concat();
    let without_markers = |events: &[Seen]| -> Vec<Seen> {
        events
            .iter()
            .filter(|(_, n, _)| !["chat_start", "chat_end", "done"].contains(&n.as_str()))
            .cloned()
            .collect()
    };
    assert_eq!(without_markers(&both), without_markers(&watched));
    let ends: Vec<&String> = watched
        .iter()
        .filter(|(_, n, _)| n == "chat_end")
        .map(|(id, _, _)| id)
        .collect();
    assert_eq!(ends, [&first.last().unwrap().0, &second.last().unwrap().0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_older_than_the_buffer_is_reset_then_the_stream_continues_live() {
    let (fake, _server, api) = setup(Provider::Anthropic, vec![]).await;
    let s = api.new_session().await;
    let mut viewer = Viewer::open(&api, &s, None).await;
    let mut starts = Vec::new();
    for n in 0..3 {
        fake.push([Reply::text(&format!("answer {n}"))]);
        assert_eq!(api.chat(&s, &format!("chat {n}")).await.0, 200);
        starts.push(viewer.until_chat_end(Duration::ZERO).await[0].0.clone());
    }

    // The buffer keeps the current and the last chat: the first chat's events are gone...
    let mut reset = Viewer::open(&api, &s, Some(&starts[0])).await;
    let (id, name, data) = reset.next().await;
    assert_eq!(name, "reset", "{data}");
    assert!(id.is_empty());
    assert!(data["reason"].as_str().unwrap().contains("/messages"), "{data}");
    // ...and the second's are still there.
    let mut resumed = Viewer::open(&api, &s, Some(&starts[1])).await;
    let rest = resumed.until_chat_end(Duration::ZERO).await;
    let text: String = rest.iter().filter_map(|(_, _, d)| d["text"].as_str()).collect();
    assert_eq!(text, "answer 1", "{rest:?}");
    assert_eq!(names(&rest).last(), Some(&"chat_end"));

    // Ids that were never ours, in the header or the query, reset too.
    let by_query = reqwest::Client::new()
        .get(format!("{}/session/{s}/events?lastEventId=12", api.base))
        .send()
        .await
        .unwrap();
    let mut by_query = Viewer::from(by_query);
    assert_eq!(by_query.next().await.1, "reset");
    let mut garbage = Viewer::open(&api, &s, Some("not-an-id")).await;
    assert_eq!(garbage.next().await.1, "reset");

    // After a reset the stream continues live.
    fake.push([Reply::text("live")]);
    assert_eq!(api.chat(&s, "chat 3").await.0, 200);
    let live = reset.until_chat_end(Duration::ZERO).await;
    assert_eq!(live[0].2["message"], "chat 3");
    assert_eq!(by_query.until_chat_end(Duration::ZERO).await, live);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_session_has_no_events() {
    let (_fake, _server, api) = setup(Provider::Anthropic, vec![]).await;
    let (status, body) = api.get("/session/nope/events").await;
    assert_eq!(status, 404, "{body}");
}

/// A streaming chat request, sent with `Last-Event-ID: last` when given.
async fn post_chat_stream(api: &Api, s: &str, message: &str, last: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(format!("{}/session/{s}/chat", api.base))
        .body(json!({ "message": message, "stream": true }).to_string());
    if let Some(last) = last {
        request = request.header("Last-Event-ID", last);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    response
}

async fn a_streaming_chat_rejoined_with_last_event_id_continues_to_its_done_without_a_second_chat(p: Provider) {
    let (fake, _server, api) = setup(p, a_long_chat()).await;
    let s = api.new_session().await;
    let mut whole = Viewer::open(&api, &s, None).await;

    let response = post_chat_stream(&api, &s, "write three files", None).await;
    let mut events = response.bytes_stream().eventsource();
    let mut before: Vec<Seen> = Vec::new();
    while before.last().is_none_or(|(_, name, _)| name != "tool_end") {
        let e = events.next().await.unwrap().unwrap();
        before.push((e.id, e.event, serde_json::from_str(&e.data).unwrap()));
    }
    drop(events);
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let last = before.last().unwrap().0.clone();
    let response = post_chat_stream(&api, &s, "write three files", Some(&last)).await;
    let after = collect(response.bytes_stream().eventsource()).await;
    assert!(names(&after).contains(&"tool_start"), "{after:?}");
    let (end_id, _, done) = after.last().unwrap().clone();
    assert_eq!(names(&after).last(), Some(&"done"), "{after:?}");
    assert_eq!(done["toolCalls"].as_array().unwrap().len(), 2, "{done}");

    let joined: Vec<Seen> = before.into_iter().chain(after).collect();
    assert_ids_increase(&joined);
    let watched = whole.until_chat_end(Duration::ZERO).await;
    let (chat_end_id, _, _) = watched.last().unwrap();
    assert_eq!(&end_id, chat_end_id);
    assert_eq!(joined[..joined.len() - 1], watched[1..watched.len() - 1]);
    // One chat: three model calls, not a second chat's.
    assert_eq!(fake.received().len(), 3);

    // An id no longer buffered gets `reset` alone.
    let response = post_chat_stream(&api, &s, "write three files", Some("1")).await;
    let reset = collect(response.bytes_stream().eventsource()).await;
    assert_eq!(names(&reset), ["reset"]);
    assert_eq!(fake.received().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_an_old_id_is_reset_and_new_ids_are_larger() {
    let (fake, mut server, api) = setup(Provider::Anthropic, vec![Reply::text("before")]).await;
    let s = api.new_session().await;
    let mut viewer = Viewer::open(&api, &s, None).await;
    assert_eq!(api.chat(&s, "before the restart").await.0, 200);
    let before = viewer.until_chat_end(Duration::ZERO).await;
    drop(viewer);

    server.restart();
    let api = Api::new(&server.url);
    let last = &before.last().unwrap().0;
    let mut rejoined = Viewer::open(&api, &s, Some(last)).await;
    assert_eq!(rejoined.next().await.1, "reset");
    fake.push([Reply::text("after")]);
    assert_eq!(api.chat(&s, "after the restart").await.0, 200);
    let after = rejoined.until_chat_end(Duration::ZERO).await;
    assert_eq!(after[0].2["message"], "after the restart");
    assert_ids_increase(&[before, after].concat());
}

#[tokio::test]
async fn a_streaming_chat_rejoined_after_its_done_repeats_the_outcome_and_ends() {
    let (fake, _server, api) = setup(Provider::Anthropic, vec![Reply::text("finished")]).await;
    let s = api.new_session().await;
    let first = chat_stream_with_ids(&api, &s, "one").await;
    let (done_id, name, done) = first.last().unwrap().clone();
    assert_eq!(name, "done");
    let response = post_chat_stream(&api, &s, "one", Some(&done_id)).await;
    let again = tokio::time::timeout(Duration::from_secs(10), collect(response.bytes_stream().eventsource()))
        .await
        .expect("the rejoined stream ended at its done");
    assert_eq!(again, [(done_id, "done".to_string(), done)]);
    assert_eq!(fake.received().len(), 1, "no second chat");
}

//! Compaction: sessions that outgrow the model's context window keep working, the model keeps
//! what the summary must carry, and the record keeps every message.
//!
//! The fake model enforces a context window (its prompts' characters ÷ 4) with each provider's
//! real "too long" error, and plays a model that summarises faithfully: its summaries carry the
//! facts ("my name is …") it finds in what it is given, previous summary included.

use serde_json::{Value, json};

use crate::support::{Api, FakeLlm, Provider, Reply, Server, ServerOptions};

crate::support::on_each_provider!(
    three_hundred_chats_outlive_the_window_and_remember_the_first,
    a_too_long_answer_compacts_harder_and_retries,
    a_message_larger_than_the_window_fails_clearly,
);

/// The fake model's context window, in tokens.
const WINDOW: u64 = 16_000;

/// A file of about 3 KB the model reads every chat.
fn page() -> String {
    "All work and no play makes a dull log line. ".repeat(70)
}

/// Every text in a request's messages (tool results included), as one string.
fn request_text(body: &Value) -> String {
    body["messages"].to_string()
}

/// Whether a request is the agent asking for a summary (by its system prompt, in either wire
/// format).
fn is_summary_request(body: &Value) -> bool {
    let system = body["system"].to_string() + &body["messages"][0].to_string();
    system.contains("working memory of a coding agent")
}

/// The last message of a request, as `(is tool results, its last text)`, in either wire format.
fn last_message(body: &Value) -> (bool, String) {
    let last = body["messages"].as_array().unwrap().last().unwrap();
    if last["role"] == "tool" {
        return (true, String::new());
    }
    match &last["content"] {
        Value::String(text) => (false, text.clone()),
        Value::Array(blocks) => {
            let results = blocks.iter().any(|b| b["type"] == "tool_result");
            let text = blocks.iter().rev().find_map(|b| b["text"].as_str()).unwrap_or_default();
            (results, text.to_string())
        }
        _ => (false, String::new()),
    }
}

/// The name after "name is " somewhere in `text`, as a model reading it would find it.
fn name_in(text: &str) -> Option<String> {
    text.match_indices("name is ").find_map(|(at, found)| {
        let name: String = text[at + found.len()..]
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .collect();
        (name.len() > 1 && name != "the").then_some(name)
    })
}

/// The model: summaries keep the user's name; a question about it is answered from the
/// prompt; any other message reads `page.txt`, then says so.
fn model(body: &Value) -> Reply {
    let text = request_text(body);
    if is_summary_request(body) {
        let facts = match name_in(&text) {
            Some(name) => format!("- The user's name is {name}."),
            None => "- None yet.".into(),
        };
        return Reply::text(&format!(
            "## Goal\n- Read page.txt whenever asked.\n## Facts and preferences\n{facts}\n## Files\n- page.txt (read)"
        ));
    }
    let (results, last) = last_message(body);
    if results {
        return Reply::text("Read it.");
    }
    if last.contains("What is my name?") {
        return Reply::text(&match name_in(&text) {
            Some(name) => format!("Your name is {name}."),
            None => "I do not know your name.".into(),
        });
    }
    Reply::tool("read", json!({ "path": "page.txt" }))
}

async fn start(p: Provider, server_window: u64, fake_window: u64) -> (FakeLlm, Server, Api, String) {
    let fake = FakeLlm::with_responder(model).await;
    fake.set_context_window(fake_window);
    let server = Server::start(ServerOptions {
        llm_url: Some(fake.url.clone()),
        provider: p,
        args: vec!["--context-tokens".into(), server_window.to_string()],
        ..ServerOptions::default()
    });
    let api = Api::new(&server.url);
    let s = api.new_session().await;
    assert_eq!(api.put_file(&s, "page.txt", &page()).await, 201);
    (fake, server, api, s)
}

async fn chat_ok(api: &Api, s: &str, message: &str) -> Value {
    let (status, body) = api.chat(s, message).await;
    assert_eq!(status, 200, "{message}: {body}");
    body
}

/// The user messages of the record that open a chat.
fn questions(record: &Value) -> Vec<String> {
    record["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .filter_map(|m| m["content"][0]["text"].as_str().map(String::from))
        .collect()
}

async fn three_hundred_chats_outlive_the_window_and_remember_the_first(p: Provider) {
    let (fake, _server, api, s) = start(p, WINDOW, WINDOW).await;
    chat_ok(&api, &s, "chat 1: hello, my name is Zephyrine. Please read page.txt.").await;
    for n in 2..=300 {
        let body = chat_ok(&api, &s, &format!("chat {n}: please read page.txt again")).await;
        assert_eq!(body["response"], "Read it.");
    }
    let body = chat_ok(&api, &s, "What is my name?").await;
    assert_eq!(body["response"], "Your name is Zephyrine.");

    let received = fake.received();
    assert!(
        received.iter().all(|r| !r.too_long),
        "compaction came before the window filled"
    );
    assert!(received.iter().all(|r| r.prompt_tokens <= WINDOW));
    let info = api.info(&s).await;
    let compactions = info["compactions"].as_u64().unwrap();
    assert!(compactions >= 10, "{info}");
    let context = info["contextTokens"].as_u64().unwrap();
    assert!(context > 3_000 && context <= WINDOW * 8 / 10 + 2_000, "{info}");
    assert_eq!(info["limits"]["compactAtPercent"], 80);
    assert_eq!(info["contextWindow"], WINDOW);

    // The record keeps every exchange, with the compaction points marked.
    let (status, record) = api.get(&format!("/session/{s}/messages")).await;
    assert_eq!(status, 200);
    let asked = questions(&record);
    assert_eq!(asked.len(), 301);
    assert!(asked[0].contains("Zephyrine") && asked[299].starts_with("chat 300:"));
    let markers: Vec<&Value> = record["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "compaction")
        .collect();
    assert_eq!(markers.len() as u64, compactions);
    let last = markers.last().unwrap();
    assert!(last["summary"].as_str().unwrap().contains("Zephyrine"), "{last}");
    assert!(last["tokensBefore"].as_u64().unwrap() > WINDOW * 8 / 10);
    assert!(last["keepFrom"].as_u64().unwrap() < last["seq"].as_u64().unwrap());
    // The model's view: the latest summary, then recent turns only.
    let (_, view) = api.get(&format!("/session/{s}/messages?view=model")).await;
    let view = view["messages"].as_array().unwrap();
    assert_eq!(view[0]["role"], "compaction");
    assert_eq!(view[0]["seq"], last["seq"]);
    let view_chars = Value::Array(view.clone()).to_string().len() as u64;
    assert!(
        view_chars < WINDOW * 4 && view.len() < 80,
        "{} messages, {view_chars} chars",
        view.len()
    );
    // The model was shown the summary, and never a turn cut from its tool call.
    let final_request = &received.last().unwrap().body;
    assert!(request_text(final_request).contains("The user's name is Zephyrine"));
    assert!(!request_text(final_request).contains("chat 1:"));
}

async fn a_too_long_answer_compacts_harder_and_retries(p: Provider) {
    // The server believes the window is far larger than the model's: only the provider's "too
    // long" answers make the agent compact.
    let (fake, _server, api, s) = start(p, 4 * WINDOW, WINDOW).await;
    chat_ok(&api, &s, "chat 1: my name is Quillon. Read page.txt.").await;
    for n in 2..=40 {
        chat_ok(&api, &s, &format!("chat {n}: read page.txt")).await;
    }
    let received = fake.received();
    let refused: Vec<usize> = (0..received.len()).filter(|&i| received[i].too_long).collect();
    assert!(refused.len() >= 2, "{refused:?}");
    for &i in &refused {
        // The retry after a compaction (a summary request in between) fits.
        let retry = received[i + 1..].iter().find(|r| !is_summary_request(&r.body));
        assert!(retry.is_some_and(|r| !r.too_long), "request {i} was retried and fit");
    }
    assert_eq!(
        chat_ok(&api, &s, "What is my name?").await["response"],
        "Your name is Quillon."
    );
    assert!(api.info(&s).await["compactions"].as_u64().unwrap() >= 2);
}

async fn a_message_larger_than_the_window_fails_clearly(p: Provider) {
    let (fake, _server, api, s) = start(p, WINDOW, WINDOW).await;
    chat_ok(&api, &s, "chat 1: read page.txt").await;
    let huge = "word ".repeat(WINDOW as usize);
    // Streamed: the compaction it tried (chat 1 summarised) shows, then the error.
    let (status, events) = api.chat_stream(&s, &huge).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["compaction", "error"], "{events:?}");
    let compaction = &events[0].1;
    assert!(compaction["tokensBefore"].as_u64().unwrap() > compaction["tokensAfter"].as_u64().unwrap());
    assert_eq!(events[1].1["status"], 502);
    // Again, with nothing left to summarise.
    let (status, body) = api.chat(&s, &huge).await;
    assert_eq!(status, 502, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("does not fit the model's context window, even after compacting it"),
        "{error}"
    );
    let expected = match p {
        Provider::Anthropic => "prompt is too long",
        Provider::OpenAi => "maximum context length",
    };
    assert!(error.contains(expected), "{error}");
    assert!(fake.received().iter().any(|r| r.too_long));
    // Nothing of the failed chat was stored, and the session goes on.
    let (_, record) = api.get(&format!("/session/{s}/messages")).await;
    assert!(questions(&record).iter().all(|q| q.len() < 100));
    chat_ok(&api, &s, "chat 2: read page.txt").await;
}

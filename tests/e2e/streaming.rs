//! The streaming chat: SSE events in the order things happened.

use serde_json::json;

use crate::support::{Block, Provider, Reply, setup};

crate::support::on_each_provider!(
    events_arrive_in_order_and_done_carries_the_reply,
    an_llm_failure_mid_chat_ends_with_an_error_event_and_keeps_the_work
);

async fn events_arrive_in_order_and_done_carries_the_reply(p: Provider) {
    let (_fake, _server, api) = setup(
        p,
        vec![
            Reply::Answer(vec![
                Block::Text("Reading the file.".into()),
                Block::Tool {
                    name: "read".into(),
                    input: json!({ "path": "README.md", "limit": 1 }),
                },
            ]),
            Reply::text("It is a sample project."),
        ],
    )
    .await;
    let s = api.new_session().await;
    let (status, events) = api.chat_stream(&s, "what is this?").await;
    assert_eq!(status, 200);
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    let first_tool = names.iter().position(|n| *n == "tool_start").unwrap();
    assert!(
        names[..first_tool].iter().all(|n| *n == "text_delta") && first_tool > 1,
        "{names:?}"
    );
    assert_eq!(names[first_tool + 1], "tool_end");
    assert!(
        names[first_tool + 2..names.len() - 1]
            .iter()
            .all(|n| *n == "text_delta"),
        "{names:?}"
    );
    assert_eq!(*names.last().unwrap(), "done");

    let text: String = events
        .iter()
        .filter(|(n, _)| n == "text_delta")
        .map(|(_, d)| d["text"].as_str().unwrap())
        .collect();
    assert_eq!(text, "Reading the file.It is a sample project.");
    let (_, start) = &events[first_tool];
    assert_eq!(start["tool"], "read");
    assert_eq!(start["args"], json!({ "path": "README.md", "limit": 1 }));
    let (_, end) = &events[first_tool + 1];
    assert_eq!(end["id"], start["id"]);
    assert_eq!(end["isError"], false);
    assert!(
        end["result"]
            .as_str()
            .unwrap()
            .starts_with("# Sample Project\n\n[6 more lines in file."),
        "{end}"
    );
    let (_, done) = events.last().unwrap();
    assert_eq!(done["response"], "Reading the file.\n\nIt is a sample project.");
    assert_eq!(
        done["toolCalls"],
        json!([{ "tool": "read", "args": { "path": "README.md", "limit": 1 } }])
    );
}

async fn an_llm_failure_mid_chat_ends_with_an_error_event_and_keeps_the_work(p: Provider) {
    let (fake, _server, api) = setup(
        p,
        vec![
            Reply::tool("write", json!({ "path": "kept.txt", "content": "kept" })),
            Reply::Drop,
        ],
    )
    .await;
    let s = api.new_session().await;
    let (status, events) = api.chat_stream(&s, "write and then lose the connection").await;
    assert_eq!(status, 200);
    let (last, data) = events.last().unwrap();
    assert_eq!(last, "error", "{events:?}");
    assert!(data["error"].as_str().unwrap().contains("transport error"), "{data}");
    assert_eq!(data["status"], 502);
    assert!(events.iter().any(|(n, d)| n == "tool_end" && d["isError"] == false));

    // The write stayed written and the session is still usable.
    fake.push([
        Reply::tool("read", json!({ "path": "kept.txt" })),
        Reply::text("still here"),
    ]);
    let (status, body) = api.chat(&s, "read it back").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        crate::support::tool_results(&fake.received().last().unwrap().body)[0].0,
        "kept"
    );
}

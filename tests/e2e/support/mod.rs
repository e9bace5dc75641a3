//! Test support: the fake model, the real server as a child process, an HTTP client, stock
//! `git http-backend` serving repositories, and a headless browser.

pub mod browser;
pub mod fake_llm;
pub mod git_http_backend;
mod openai_wire;
pub mod server;

pub use fake_llm::{Block, FakeLlm, Reply};
pub use server::{Provider, Server, ServerOptions};

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use serde_json::{Value, json};

/// A session-level client over plain HTTP.
pub struct Api {
    pub base: String,
    client: reqwest::Client,
}

impl Api {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.to_string(),
            client: reqwest::Client::new(),
        }
    }

    /// A client sending `Authorization: Bearer <token>` with every request.
    pub fn with_token(base: &str, token: &str) -> Self {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        Self {
            base: base.to_string(),
            client: reqwest::Client::builder().default_headers(headers).build().unwrap(),
        }
    }

    /// POSTs raw bytes; returns status and parsed JSON body (or the text as a JSON string).
    pub async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .body(body)
            .send()
            .await
            .unwrap();
        read(response).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.post_raw(path, body.to_string()).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        read(self.client.get(format!("{}{path}", self.base)).send().await.unwrap()).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        read(self.client.delete(format!("{}{path}", self.base)).send().await.unwrap()).await
    }

    pub async fn new_session(&self) -> String {
        let (status, body) = self.post("/session/new", &json!({})).await;
        assert_eq!(status, 200, "{body}");
        body["sessionId"].as_str().unwrap().to_string()
    }

    /// A non-streaming chat that reports a broken connection instead of panicking.
    pub async fn try_chat(&self, session: &str, message: &str) -> Result<(u16, Value), reqwest::Error> {
        let body = json!({ "message": message }).to_string();
        let response = self
            .client
            .post(format!("{}/session/{session}/chat", self.base))
            .body(body)
            .send()
            .await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text))))
    }

    /// Starts a chat and hangs up after `after`, without waiting for the answer.
    pub async fn chat_and_hang_up(&self, session: &str, message: &str, after: std::time::Duration) {
        let body = json!({ "message": message }).to_string();
        let request = self
            .client
            .post(format!("{}/session/{session}/chat", self.base))
            .body(body)
            .timeout(after);
        assert!(
            request.send().await.is_err(),
            "the chat finished before the client hung up"
        );
    }

    /// A non-streaming chat; returns status and body.
    pub async fn chat(&self, session: &str, message: &str) -> (u16, Value) {
        self.post(&format!("/session/{session}/chat"), &json!({ "message": message }))
            .await
    }

    /// A streaming chat; returns the status and the `(event, data)` pairs in order.
    pub async fn chat_stream(&self, session: &str, message: &str) -> (u16, Vec<(String, Value)>) {
        let response = self
            .client
            .post(format!("{}/session/{session}/chat", self.base))
            .body(json!({ "message": message, "stream": true }).to_string())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let mut events = Vec::new();
        let mut stream = response.bytes_stream().eventsource();
        while let Some(event) = stream.next().await {
            let event = event.unwrap();
            events.push((event.event, serde_json::from_str(&event.data).unwrap()));
        }
        (status, events)
    }

    /// PUTs a file through the file API; returns the status.
    pub async fn put_file(&self, session: &str, path: &str, contents: impl AsRef<[u8]>) -> u16 {
        self.client
            .put(format!("{}/session/{session}/files/{path}", self.base))
            .body(contents.as_ref().to_vec())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    pub async fn info(&self, session: &str) -> Value {
        let (status, body) = self.get(&format!("/session/{session}/info")).await;
        assert_eq!(status, 200, "{body}");
        body
    }
}

async fn read(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// `hosts/node`, with the npm `package` installed there, or `None` (with a notice naming
/// `skipped`) when this machine has no `node`: the tests that need it are skipped then.
pub fn node_host(package: &str, skipped: &str) -> Option<std::path::PathBuf> {
    if std::process::Command::new("node").arg("--version").output().is_err() {
        eprintln!("SKIPPED: `node` is not installed, so {skipped}");
        return None;
    }
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../hosts/node")).to_path_buf();
    assert!(
        dir.join("node_modules").join(package).exists(),
        "hosts/node has no {package}: run `npm ci` there (./scripts/test does)"
    );
    Some(dir)
}

/// The tool results at the end of a request the fake received, as `(content, is_error)`, in
/// either wire format (Anthropic `tool_result` blocks, or OpenAI `tool` messages).
pub fn tool_results(request: &Value) -> Vec<(String, bool)> {
    let messages = request["messages"].as_array().unwrap();
    if messages.last().is_some_and(|m| m["role"] == "tool") {
        let trailing: Vec<&Value> = messages.iter().rev().take_while(|m| m["role"] == "tool").collect();
        return trailing
            .into_iter()
            .rev()
            .map(|m| {
                let content = m["content"].as_str().unwrap();
                match content.strip_prefix("Error: ") {
                    Some(error) => (error.to_string(), true),
                    None => (content.to_string(), false),
                }
            })
            .collect();
    }
    let last = messages.last().unwrap();
    last["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "tool_result")
        .map(|b| {
            (
                b["content"].as_str().unwrap().to_string(),
                b["is_error"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

/// The conversation of a request the fake received as `(role, text)` pairs, in either wire
/// format, without the system prompt; tool calls and results read as `<tool call>` and `<tool result>`.
pub fn conversation(request: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for m in request["messages"].as_array().unwrap() {
        let role = m["role"].as_str().unwrap().to_string();
        match (&m["content"], role.as_str()) {
            (_, "system") => {}
            (_, "tool") => out.push(("user".into(), "<tool result>".into())),
            (Value::String(text), _) => out.push((role.clone(), text.clone())),
            (Value::Array(blocks), _) => {
                for b in blocks {
                    let text = match b["type"].as_str() {
                        Some("text") => b["text"].as_str().unwrap().to_string(),
                        Some("tool_use") => "<tool call>".into(),
                        _ => "<tool result>".into(),
                    };
                    out.push((role.clone(), text));
                }
            }
            _ => {}
        }
        if m["tool_calls"].is_array() {
            out.push((role, "<tool call>".into()));
        }
    }
    out
}

/// Runs an end-to-end scenario (an `async fn(Provider)`) once per provider wire format.
macro_rules! on_each_provider {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn anthropic() {
                super::$scenario(crate::support::Provider::Anthropic).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn openai() {
                super::$scenario(crate::support::Provider::OpenAi).await
            }
        }
    )*};
}
pub(crate) use on_each_provider;

/// A fake model with `replies`, a server using it through `provider`, and a client.
pub async fn setup(provider: Provider, replies: Vec<Reply>) -> (FakeLlm, Server, Api) {
    setup_with(provider, replies, &[]).await
}

/// Like [`setup`], with extra server flags.
pub async fn setup_with(provider: Provider, replies: Vec<Reply>, args: &[&str]) -> (FakeLlm, Server, Api) {
    setup_full(provider, replies, args, &[]).await
}

/// Like [`setup`], with extra server flags and environment variables.
pub async fn setup_full(
    provider: Provider,
    replies: Vec<Reply>,
    args: &[&str],
    env: &[(&str, &str)],
) -> (FakeLlm, Server, Api) {
    let fake = FakeLlm::start(replies).await;
    let server = Server::start(ServerOptions {
        llm_url: Some(fake.url.clone()),
        provider,
        args: args.iter().map(|s| s.to_string()).collect(),
        env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    });
    let api = Api::new(&server.url);
    (fake, server, api)
}

/// Runs one chat in which the model calls `tool` with `args`, then answers "done". Returns the
/// tool's result as the model saw it, and whether it was an error.
pub async fn call(fake: &FakeLlm, api: &Api, session: &str, tool: &str, args: Value) -> (String, bool) {
    fake.push([Reply::tool(tool, args.clone()), Reply::text("done")]);
    let (status, body) = api.chat(session, &format!("please use {tool}")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["response"], "done");
    assert_eq!(body["toolCalls"], json!([{ "tool": tool, "args": args }]));
    let received = fake.received();
    let mut results = tool_results(&received.last().unwrap().body);
    assert_eq!(results.len(), 1);
    results.remove(0)
}

/// Runs the stock `git` client in `dir`, failing the test when it fails; returns its output.
pub fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git is installed by scripts/test");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every file beneath `dir`.
pub fn files_beneath(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_beneath(&path));
        } else {
            files.push(path);
        }
    }
    files
}

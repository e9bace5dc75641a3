//! The command-line client: `pi-worker chat`, `sessions`, `rm` and `open`, run as the real
//! binary against the real server and the fake model.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Api, Block, FakeLlm, Provider, Reply, Server, ServerOptions, conversation, setup, setup_with};

/// What a finished command did.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// `pi-worker <args>` with `env` (and none of the client's variables from the test's own
/// environment).
fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pi-worker"));
    cmd.args(args)
        .env_remove("PI_WORKER_URL")
        .env_remove("PI_WORKER_TOKEN")
        .env_remove("PI_WORKER_SESSION")
        .envs(env.iter().copied());
    cmd
}

/// Runs `pi-worker <args>` to its end, `stdin` as its input.
async fn pi(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Run {
    let mut cmd = command(args, env);
    let stdin = stdin.to_string();
    tokio::task::spawn_blocking(move || {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    })
    .await
    .unwrap()
}

/// The session id `chat` printed on stderr when it made a new session.
fn new_session_id(stderr: &str) -> String {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("new session "))
        .unwrap_or_else(|| panic!("{stderr}"));
    line["new session ".len()..].split(' ').next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_streams_the_answer_and_shows_each_tool_call_as_a_line() {
    let (fake, server, api) = setup(
        Provider::Anthropic,
        vec![
            Reply::Answer(vec![
                Block::Text("Reading the file.".into()),
                Block::Tool {
                    name: "read".into(),
                    input: json!({ "path": "README.md", "limit": 1 }),
                },
            ]),
            Reply::tool(
                "edit",
                json!({ "path": "README.md", "oldText": "no such text", "newText": "x" }),
            ),
            Reply::text("It is a sample project."),
        ],
    )
    .await;
    let s = api.new_session().await;
    let run = pi(
        &["chat", "--url", &server.url, "--session", &s, "what", "is", "this?"],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "Reading the file.\n\nIt is a sample project.\n");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines[0], "✓ read README.md", "{run:?}");
    assert!(lines[1].starts_with("✗ edit README.md: Could not find"), "{run:?}");
    assert!(
        lines[2].starts_with("— end_turn · 2 tool calls · "),
        "the summary line: {run:?}"
    );
    assert_eq!(lines.len(), 3, "{run:?}");
    assert!(
        !run.stderr.contains('\x1b'),
        "no escape codes when stderr is not a terminal"
    );
    assert_eq!(
        conversation(&fake.received()[0].body),
        [("user".to_string(), "what is this?".to_string())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_reads_stdin_and_picks_its_session_from_flags_or_the_environment() {
    let (fake, server, api) = setup(Provider::Anthropic, vec![Reply::text("Hello!")]).await;
    let url = server.url.as_str();
    let run = pi(&["chat", "--url", url, "--new"], &[], "hello\nfrom stdin\n").await;
    assert_eq!((run.code, run.stdout.as_str()), (0, "Hello!\n"), "{run:?}");
    let s = new_session_id(&run.stderr);
    assert_eq!(api.info(&s).await["messageCount"], 2);
    assert_eq!(conversation(&fake.received()[0].body)[0].1, "hello\nfrom stdin\n");

    // PI_WORKER_SESSION continues it; --new wins over it.
    fake.push([Reply::text("Again."), Reply::text("Fresh.")]);
    let env = [("PI_WORKER_SESSION", s.as_str())];
    let run = pi(&["chat", "--url", url, "once more"], &env, "").await;
    assert_eq!((run.code, run.stdout.as_str()), (0, "Again.\n"), "{run:?}");
    assert!(!run.stderr.contains("new session"), "{run:?}");
    assert_eq!(api.info(&s).await["messageCount"], 4);
    let run = pi(&["chat", "--url", url, "--new", "start over"], &env, "").await;
    assert_eq!((run.code, run.stdout.as_str()), (0, "Fresh.\n"), "{run:?}");
    let other = new_session_id(&run.stderr);
    assert_ne!(other, s);
    assert_eq!(api.info(&other).await["messageCount"], 2);

    // Neither: a new session too.
    fake.push([Reply::text("New.")]);
    let run = pi(&["chat", "--url", url, "hi"], &[], "").await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_ne!(new_session_id(&run.stderr), s);
    assert_eq!(
        pi(&["chat", "--url", url, "--new", "--session", &s, "hi"], &[], "")
            .await
            .code,
        2,
        "--new and --session together"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_agent_starts_a_session_running_that_agent() {
    let flag = format!("echo={}", env!("PI_WORKER_HOSTILE_GUEST_WASM"));
    let (_fake, server, api) = setup_with(Provider::Anthropic, vec![], &["--guest", &flag]).await;
    let url = server.url.as_str();
    // --agent implies a new session, even with PI_WORKER_SESSION set.
    let existing = api.new_session().await;
    let env = [("PI_WORKER_SESSION", existing.as_str())];
    let run = pi(&["chat", "--url", url, "--agent", "echo", "hi"], &env, "").await;
    assert_eq!((run.code, run.stdout.as_str()), (0, "echo: hi\n"), "{run:?}");
    let s = new_session_id(&run.stderr);
    assert_ne!(s, existing);
    assert_eq!(api.info(&s).await["agent"]["name"], "echo");
    assert_eq!(api.info(&existing).await["messageCount"], 0);

    // An agent the server does not run: its 400, naming those it runs.
    let run = pi(&["chat", "--url", url, "--agent", "nope", "hi"], &[], "").await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("'nope'") && run.stderr.contains("echo, pi"),
        "{run:?}"
    );
    let run = pi(
        &["chat", "--url", url, "--agent", "echo", "--session", &s, "hi"],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 2, "--agent and --session together: {run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_json_prints_the_reply_alone() {
    let (_fake, server, api) = setup(
        Provider::Anthropic,
        vec![
            Reply::tool("write", json!({ "path": "a.txt", "content": "A" })),
            Reply::text("Wrote it."),
        ],
    )
    .await;
    let s = api.new_session().await;
    let run = pi(
        &["chat", "--url", &server.url, "--session", &s, "--json", "write a file"],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout.lines().count(), 1, "{run:?}");
    let reply: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(reply["response"], "Wrote it.");
    assert_eq!(
        reply["toolCalls"],
        json!([{ "tool": "write", "args": { "path": "a.txt", "content": "A" } }])
    );
    assert_eq!(reply["stopReason"], "end_turn");
    assert!(reply["usage"]["inputTokens"].as_u64().unwrap() > 0, "{reply}");
    assert!(run.stderr.starts_with("✓ write a.txt\n"), "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_exit_non_zero_with_the_servers_error() {
    // No provider configured: 503.
    let bare = Server::start(ServerOptions::default());
    let run = pi(&["chat", "--url", &bare.url, "--session", "s1", "hi"], &[], "").await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("the server answered 503: ") && run.stderr.contains("ANTHROPIC_API_KEY"),
        "{run:?}"
    );
    assert_eq!(run.stdout, "");

    // The model fails: 502, with the provider's message.
    let (_fake, server, _api) = setup(
        Provider::Anthropic,
        vec![Reply::http_error(
            400,
            "invalid_request_error",
            "the model is on strike",
        )],
    )
    .await;
    let run = pi(
        &["chat", "--url", &server.url, "--session", "s2", "--json", "hi"],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("the server answered 502: ") && run.stderr.contains("the model is on strike"),
        "{run:?}"
    );
    assert_eq!(run.stdout, "", "--json prints nothing but a reply");

    // A bad session id: 400 before any chat.
    let run = pi(&["chat", "--url", &server.url, "--session", "no/such", "hi"], &[], "").await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("the server answered 400: invalid session id"),
        "{run:?}"
    );

    // Nobody listening: 3. An empty message: 2.
    let run = pi(&["sessions", "--url", "http://127.0.0.1:1"], &[], "").await;
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr.contains("cannot reach the server at http://127.0.0.1:1"),
        "{run:?}"
    );
    let run = pi(&["chat", "--url", &server.url, "--new"], &[], " \n").await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("the message is empty"), "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_lists_every_page_as_a_table_or_json() {
    let (_fake, server, api) = setup(Provider::Anthropic, vec![Reply::text("Sure.")]).await;
    let url = server.url.as_str();
    let run = pi(&["sessions", "--url", url], &[], "").await;
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", "no sessions\n")
    );

    // More than one page (100 a page), the newest with a title.
    for _ in 0..100 {
        let (status, _) = api.post("/session/new", &json!({ "template": "empty" })).await;
        assert_eq!(status, 200);
    }
    let newest = api.new_session().await;
    assert_eq!(api.chat(&newest, "Add a subtract function").await.0, 200);

    let run = pi(&["sessions", "--url", url], &[], "").await;
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 102, "a header and every session");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(header, ["SESSION", "UPDATED", "FILES", "MESSAGES", "TITLE"]);
    let first: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        first,
        [
            newest.as_str(),
            "just",
            "now",
            "5",
            "2",
            "Add",
            "a",
            "subtract",
            "function"
        ]
    );

    let run = pi(&["sessions", "--url", url, "--json"], &[], "").await;
    let all: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(all["sessions"].as_array().unwrap().len(), 101);
    assert_eq!(all["nextCursor"], Value::Null);
    assert_eq!(all["sessions"][0]["sessionId"], newest.as_str());
    assert_eq!(all["sessions"][0]["title"], "Add a subtract function");

    let run = pi(&["sessions", "--url", url, "--json", "--limit", "3"], &[], "").await;
    let some: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        some["sessions"].as_array().unwrap()[..],
        all["sessions"].as_array().unwrap()[..3]
    );
    assert!(some["nextCursor"].is_string(), "{some}");
    assert_eq!(pi(&["sessions", "--url", url, "--limit", "0"], &[], "").await.code, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rm_deletes_a_session_and_reports_what_it_cannot() {
    let (fake, server, api) = setup(
        Provider::Anthropic,
        vec![Reply::Slow(Duration::from_secs(20), Box::new(Reply::text("late")))],
    )
    .await;
    let url = server.url.as_str();
    let s = api.new_session().await;
    let run = pi(&["rm", "--url", url, &s], &[], "").await;
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", ""),
        "{run:?}"
    );
    assert_eq!(api.get(&format!("/session/{s}/info")).await.0, 404);
    let run = pi(&["rm", "--url", url, &s], &[], "").await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("the server answered 404: "), "{run:?}");

    // While a chat runs on it: 409, and the session stays.
    let busy = api.new_session().await;
    let chat = {
        let (api, busy) = (Api::new(url), busy.clone());
        tokio::spawn(async move { api.chat(&busy, "take your time").await })
    };
    wait_for(|| !fake.received().is_empty()).await;
    let run = pi(&["rm", "--url", url, &busy], &[], "").await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("the server answered 409: "), "{run:?}");
    assert_eq!(api.post(&format!("/session/{busy}/abort"), &json!({})).await.0, 202);
    assert_eq!(chat.await.unwrap().0, 200);
    assert_eq!(api.get(&format!("/session/{busy}/info")).await.0, 200);
}

#[tokio::test]
async fn open_prints_the_sessions_address_in_the_web_app() {
    let run = pi(&["open", "--url", "http://example.test:8787", "abc123"], &[], "").await;
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "http://example.test:8787/#/session/abc123\n")
    );
    let env = [("PI_WORKER_URL", "https://pi.example.test/team/")];
    let run = pi(&["open", "abc123"], &env, "").await;
    assert_eq!(run.stdout, "https://pi.example.test/team/#/session/abc123\n");
    let run = pi(&["open", "--url", "http://example.test", "../etc"], &[], "").await;
    assert_eq!(run.code, 2, "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_url_and_token_come_from_the_environment() {
    const TOKEN: &str = "cli-token-0123456789";
    let fake = FakeLlm::start(vec![Reply::text("Authorised.")]).await;
    let server = Server::start(ServerOptions {
        llm_url: Some(fake.url.clone()),
        env: vec![("PI_WORKER_TOKEN".into(), TOKEN.into())],
        ..ServerOptions::default()
    });
    let with_token = [("PI_WORKER_URL", server.url.as_str()), ("PI_WORKER_TOKEN", TOKEN)];
    let run = pi(&["chat", "--new", "hello"], &with_token, "").await;
    assert_eq!((run.code, run.stdout.as_str()), (0, "Authorised.\n"), "{run:?}");
    let s = new_session_id(&run.stderr);
    let run = pi(&["sessions", "--json"], &with_token, "").await;
    let listed: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(listed["sessions"][0]["sessionId"], s.as_str());

    let without = [("PI_WORKER_URL", server.url.as_str())];
    for args in [&["sessions"][..], &["chat", "--session", &s, "hi"], &["rm", &s]] {
        let run = pi(args, &without, "").await;
        assert_eq!(run.code, 1, "{args:?}: {run:?}");
        assert!(
            run.stderr
                .contains("the server answered 401: missing or wrong bearer token"),
            "{run:?}"
        );
    }
    assert_eq!(fake.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_aborts_the_chat_on_the_server() {
    let (fake, server, api) = setup(
        Provider::Anthropic,
        vec![Reply::Slow(Duration::from_secs(30), Box::new(Reply::text("too late")))],
    )
    .await;
    let s = api.new_session().await;
    let child = command(&["chat", "--url", &server.url, "--session", &s, "work on it"], &[])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(|| !fake.received().is_empty()).await;
    let started = Instant::now();
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the model's 30 s were not waited for"
    );
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    );
    assert_eq!(out.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(stdout.contains("[Aborted"), "the reply's text: {stdout}");
    assert!(stderr.contains("aborting the chat"), "{stderr}");
    assert!(stderr.contains("— aborted · "), "{stderr}");
    assert_eq!(
        api.post(&format!("/session/{s}/abort"), &json!({})).await.0,
        409,
        "no chat runs any more"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_chat_reads_and_sends_until_ctrl_d_and_ctrl_c_aborts_a_chat() {
    // Declared first so that, when the test fails, the screen is printed last, after the
    // server's log.
    let mut terminal: Terminal;
    let (fake, server, api) = setup(
        Provider::Anthropic,
        vec![
            Reply::tool("read", json!({ "path": "README.md", "limit": 1 })),
            Reply::text("First answer."),
            Reply::text("Second answer."),
            Reply::Slow(Duration::from_secs(30), Box::new(Reply::text("too late"))),
        ],
    )
    .await;
    let s = api.new_session().await;
    terminal = Terminal::run(&format!(
        "'{}' chat --url {} --session {s}",
        env!("CARGO_BIN_EXE_pi-worker"),
        server.url
    ));
    // Each key goes in only once the prompt is back: rustyline puts the terminal in raw mode
    // before it prints the prompt, and a key typed in cooked mode (between chats) is read
    // differently (^D ends the line discipline's input instead of reaching rustyline).
    const PROMPT: &str = "› ";
    terminal.wait_for("", PROMPT).await;
    terminal.type_keys(b"what is this?\r");
    terminal.wait_for("First answer.", PROMPT).await;
    terminal.type_keys(b"and then?\r");
    terminal.wait_for("Second answer.", PROMPT).await;
    // Ctrl-C on the terminal while a chat runs aborts it, and the loop goes on.
    terminal.type_keys(b"take your time\r");
    wait_for(|| fake.received().len() == 4).await;
    terminal.type_keys(b"\x03");
    terminal.wait_for("— aborted · ", PROMPT).await;
    terminal.type_keys(b"\x04");
    let (status, screen) = terminal.wait().await;
    assert_eq!(status.code(), Some(0), "the client's exit status");
    for shown in [
        "✓ read README.md",
        "— end_turn · 1 tool call · ",
        "aborting the chat",
        "[Aborted: the chat was stopped on request.]",
    ] {
        assert!(screen.contains(shown), "{shown:?} is not on the screen");
    }
    let requests = fake.received();
    assert_eq!(requests.len(), 4);
    let texts: Vec<String> = conversation(&requests[2].body).into_iter().map(|(_, t)| t).collect();
    assert_eq!(
        texts,
        [
            "what is this?",
            "<tool call>",
            "<tool result>",
            "First answer.",
            "and then?"
        ],
        "both messages went to one session, in order"
    );
}

/// A command on a terminal of its own (a pty, from `script`): keys typed into it, and
/// everything it shows. A failing test prints the screen when the terminal is dropped.
struct Terminal {
    child: Option<std::process::Child>,
    keyboard: Option<std::process::ChildStdin>,
    /// The bytes shown so far (decoded only as a whole: a read may end inside a character).
    screen: Arc<Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Terminal {
    /// Starts `command` (a shell command line) on a new terminal.
    ///
    /// `script` runs it with `$SHELL -c`. The shell is `/bin/sh` whatever the test's
    /// environment says, and it `exec`s the command: a shell left waiting in the command's
    /// process group would get the terminal's Ctrl-C too, and end with status 130 (dash does;
    /// bash happens to `exec` a lone command by itself).
    fn run(command: &str) -> Self {
        let mut child = Command::new("script")
            .args(["-qec", &format!("exec {command}"), "/dev/null"])
            .env("SHELL", "/bin/sh")
            .env("TERM", "xterm")
            .env_remove("PI_WORKER_URL")
            .env_remove("PI_WORKER_TOKEN")
            .env_remove("PI_WORKER_SESSION")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("script (util-linux) is installed by scripts/test");
        let screen = Arc::new(Mutex::new(Vec::new()));
        let reader = {
            let (screen, mut stdout) = (screen.clone(), child.stdout.take().unwrap());
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = stdout.read(&mut buf) {
                    screen.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            })
        };
        Self {
            keyboard: child.stdin.take(),
            child: Some(child),
            screen,
            reader: Some(reader),
        }
    }

    /// What the terminal has shown so far.
    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap()).into_owned()
    }

    /// Types `keys`.
    fn type_keys(&self, keys: &[u8]) {
        let mut keyboard = self.keyboard.as_ref().unwrap();
        keyboard.write_all(keys).unwrap();
        keyboard.flush().unwrap();
    }

    /// Waits (up to 60 s) until the terminal shows `first`, then `then` after it.
    async fn wait_for(&self, first: &str, then: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let shown = self.screen();
            if shown
                .find(first)
                .is_some_and(|at| shown[at + first.len()..].contains(then))
            {
                return;
            }
            assert!(Instant::now() < deadline, "{first:?} then {then:?} never showed");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits (up to 60 s) for the command to end; its exit status and the whole screen.
    async fn wait(&mut self) -> (std::process::ExitStatus, String) {
        let mut child = self.child.take().unwrap();
        let status = tokio::time::timeout(
            Duration::from_secs(60),
            tokio::task::spawn_blocking(move || child.wait().unwrap()),
        )
        .await
        .expect("the command did not end")
        .unwrap();
        self.reader.take().unwrap().join().unwrap();
        (status, self.screen())
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!("--- the terminal's screen ---\n{}", self.screen().escape_debug());
        }
    }
}

/// Waits (up to 20 s) until `done` holds.
async fn wait_for(done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

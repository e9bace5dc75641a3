//! The API's description: `GET /openapi.json` is valid OpenAPI 3.1 (judged by the real
//! `openapi-spec-validator`), describes what the server really sends (real bodies checked against
//! its schemas with `jsonschema`), lists every route the server serves and README documents, and
//! `GET /docs` renders it with local assets only. `./scripts/test` installs the validator.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::support::{Api, FakeLlm, Reply, Server, ServerOptions};

const TOKEN: &str = "openapi-test-token";

/// A server that needs a token, and a client that has it.
async fn guarded_server(fake: &FakeLlm) -> (Server, Api) {
    let server = Server::start(ServerOptions {
        llm_url: Some(fake.url.clone()),
        env: vec![("PI_WORKER_TOKEN".into(), TOKEN.into())],
        ..ServerOptions::default()
    });
    let api = Api::with_token(&server.url, TOKEN);
    (server, api)
}

/// The document, fetched without a token (it needs none).
async fn document(server: &Server) -> Value {
    let (status, doc) = Api::new(&server.url).get("/openapi.json").await;
    assert_eq!(status, 200, "{doc}");
    doc
}

/// Runs `python3 <args>`; panics with a hint when the validator is missing.
fn python(args: &[&OsStr]) -> std::process::Output {
    let probe = Command::new("python3")
        .args(["-c", "import openapi_spec_validator, jsonschema"])
        .output()
        .expect("python3 runs");
    assert!(
        probe.status.success(),
        "openapi-spec-validator is not installed: run ./scripts/test, which installs it \
         (or `python3 -m pip install openapi-spec-validator`)\n{}",
        String::from_utf8_lossy(&probe.stderr)
    );
    Command::new("python3").args(args).output().unwrap()
}

/// `openapi-spec-validator <file>`.
fn validate(file: &Path) -> std::process::Output {
    python(&["-m".as_ref(), "openapi_spec_validator".as_ref(), file.as_os_str()])
}

/// [`CHECK_BODIES`] on a document and `(schema, body)` pairs.
fn check_bodies(doc: &Path, cases: &Path) -> std::process::Output {
    python(&["-c".as_ref(), CHECK_BODIES.as_ref(), doc.as_os_str(), cases.as_os_str()])
}

#[tokio::test]
async fn the_document_is_valid_openapi_3_1_and_needs_no_token() {
    let fake = FakeLlm::start(vec![]).await;
    let (server, _) = guarded_server(&fake).await;
    assert_eq!(Api::new(&server.url).get("/sessions").await.0, 401);
    let doc = document(&server).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let scheme = &doc["components"]["securitySchemes"]["bearerToken"];
    assert_eq!((&scheme["type"], &scheme["scheme"]), (&json!("http"), &json!("bearer")));
    assert_eq!(
        doc["paths"]["/sessions"]["get"]["security"],
        json!([{ "bearerToken": [] }])
    );
    assert!(doc["paths"]["/health"]["get"].get("security").is_none());
    for event in [
        "text_delta",
        "tool_start",
        "tool_end",
        "compaction",
        "lagged",
        "reset",
        "chat_start",
        "chat_end",
        "done",
        "error",
    ] {
        let text = doc["components"]["schemas"]["StreamEvent"].to_string();
        assert!(
            text.contains(&format!("\"{event}\"")),
            "the SSE event {event} is described"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let out = validate(&file);
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "openapi-spec-validator refused the document:\n{report}"
    );
    assert!(report.contains("OK"), "{report}");

    // A broken document is refused: the validator really judges.
    let mut broken = doc.clone();
    broken["paths"]["/sessions"]["get"]["responses"]["200"] = json!({ "content": "nope" });
    std::fs::write(&file, broken.to_string()).unwrap();
    let out = validate(&file);
    assert!(!out.status.success(), "a broken document is refused");
}

/// Checks `(schema name, body)` pairs against the document's schemas with `jsonschema`.
const CHECK_BODIES: &str = r##"
import json, sys, jsonschema
doc = json.load(open(sys.argv[1]))
failures = []
for name, body in json.load(open(sys.argv[2])):
    schema = {"$ref": "#/components/schemas/" + name, "components": doc["components"]}
    for error in jsonschema.Draft202012Validator(schema).iter_errors(body):
        failures.append(f"{name}: {error.message} at {list(error.absolute_path)} in {json.dumps(body)[:400]}")
print("\n".join(failures))
sys.exit(1 if failures else 0)
"##;

#[tokio::test]
async fn real_answers_match_the_document_schemas() {
    let fake = FakeLlm::start(vec![
        Reply::tool("write", json!({ "path": "notes.md", "content": "# Notes\n" })),
        Reply::text("wrote it"),
        Reply::tool("read", json!({ "path": "notes.md" })),
        Reply::text("read it"),
    ])
    .await;
    let (server, api) = guarded_server(&fake).await;
    let doc = document(&server).await;
    let mut cases: Vec<(&str, Value)> = Vec::new();
    let mut ok = |schema: &'static str, (status, body): (u16, Value)| {
        assert!((200..300).contains(&status), "{schema}: {status} {body}");
        cases.push((schema, body));
    };

    let (status, created) = api.post("/session/new", &json!({})).await;
    let s = created["sessionId"].as_str().unwrap().to_string();
    ok("NewSessionReply", (status, created));
    ok("ChatReplyBody", api.chat(&s, "write notes").await);
    // Both kinds of event stream: the session's (`/events`, from before the chat) and the
    // streaming chat's; the third chat finds the model's script exhausted and ends in `error`.
    let watch = |last: &str| {
        reqwest::Client::new()
            .get(format!("{}/session/{s}/events", server.url))
            .bearer_auth(TOKEN)
            .header("Last-Event-ID", last)
            .send()
    };
    let mut session_events = watch("0").await.unwrap().bytes_stream().eventsource();
    let mut events = api.chat_stream(&s, "read notes").await.1;
    events.extend(api.chat_stream(&s, "and again").await.1);
    loop {
        let event = tokio::time::timeout(Duration::from_secs(30), session_events.next())
            .await
            .expect("an event within 30 s")
            .unwrap()
            .unwrap();
        let data: Value = serde_json::from_str(&event.data).unwrap();
        let last_end = event.event == "chat_end" && data["stopReason"] == "error";
        events.push((event.event, data));
        if last_end {
            break;
        }
    }
    let names: BTreeSet<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    let expected = [
        "reset",
        "chat_start",
        "text_delta",
        "tool_start",
        "tool_end",
        "done",
        "error",
        "chat_end",
    ];
    assert_eq!(names, expected.into_iter().collect(), "every kind of event was seen");
    for (event, data) in &events {
        ok("StreamEvent", (200, json!({ "event": event, "data": data })));
    }
    ok("SessionInfoBody", api.get(&format!("/session/{s}/info")).await);
    ok("SessionList", api.get("/sessions?limit=5").await);
    ok("AgentsJson", api.get("/agents").await);
    ok("ModelsJson", api.get("/models").await);
    ok("CheckpointList", api.get(&format!("/session/{s}/checkpoints")).await);
    ok("DirectoryListing", api.get(&format!("/session/{s}/files")).await);
    ok(
        "RevertReply",
        api.post(&format!("/session/{s}/revert"), &json!({ "atMessage": 4 }))
            .await,
    );
    ok("MessagesReply", api.get(&format!("/session/{s}/messages")).await);
    ok(
        "ForkReply",
        api.post(&format!("/session/{s}/fork"), &json!({ "atMessage": 2 }))
            .await,
    );
    let client = reqwest::Client::new();
    let mut archive = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(3);
    header.set_mode(0o644);
    archive.append_data(&mut header, "a.txt", &b"abc"[..]).unwrap();
    let imported = client
        .post(format!("{}/session/new", server.url))
        .bearer_auth(TOKEN)
        .header("content-type", "application/x-tar")
        .body(archive.into_inner().unwrap())
        .send()
        .await
        .unwrap();
    let status = imported.status().as_u16();
    let imported: Value = serde_json::from_slice(&imported.bytes().await.unwrap()).unwrap();
    assert_eq!(imported["fileCount"], 1, "{imported}");
    ok("NewSessionReply", (status, imported));
    let put = client
        .put(format!("{}/session/{s}/files/docs/new.txt", server.url))
        .bearer_auth(TOKEN)
        .body("new")
        .send()
        .await
        .unwrap();
    let status = put.status().as_u16();
    ok(
        "FileCreated",
        (status, serde_json::from_slice(&put.bytes().await.unwrap()).unwrap()),
    );
    let (status, error) = api.get("/session/no-such-session/info").await;
    assert_eq!(status, 404);
    cases.push(("ErrorBody", error));
    let messages = &cases.iter().find(|(name, _)| *name == "MessagesReply").unwrap().1;
    let roles: Vec<&str> = messages["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert!(roles.contains(&"revert") && roles.contains(&"assistant"), "{roles:?}");

    let dir = tempfile::tempdir().unwrap();
    let (doc_file, cases_file) = (dir.path().join("openapi.json"), dir.path().join("cases.json"));
    std::fs::write(&doc_file, doc.to_string()).unwrap();
    std::fs::write(&cases_file, json!(cases).to_string()).unwrap();
    let out = check_bodies(&doc_file, &cases_file);
    assert!(
        out.status.success(),
        "answers that do not match the document:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // The check can fail: a body missing a required field is refused.
    std::fs::write(&cases_file, json!([["SessionCreated", {}]]).to_string()).unwrap();
    assert!(!check_bodies(&doc_file, &cases_file).status.success());
}

/// `METHOD path` pairs, with every path parameter written `{}`.
type Routes = BTreeSet<(String, String)>;

/// A path with its parameters blanked: `/session/:id/files/{path}` → `/session/{}/files/{}`.
fn shape(path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    path.split('/')
        .map(|segment| {
            if segment.starts_with(':') || segment.starts_with('{') || segment == "..." {
                "{}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The routes of README's HTTP API table (its first column: `` `GET /path` ``).
fn readme_routes() -> Routes {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).unwrap();
    let table = readme
        .split("## HTTP API")
        .nth(1)
        .expect("README has an HTTP API section");
    let mut routes = Routes::new();
    for line in table.lines().skip_while(|l| !l.starts_with("| route")).skip(2) {
        let Some(cell) = line.strip_prefix("| `").and_then(|l| l.split('`').next()) else {
            break;
        };
        let (methods, path) = cell.split_once(' ').unwrap();
        for method in methods.split("\\|") {
            routes.insert((method.to_string(), shape(path)));
        }
    }
    assert!(routes.len() > 20, "README's table was read: {routes:?}");
    routes
}

/// The operations of the document.
fn document_routes(doc: &Value) -> Routes {
    let mut routes = Routes::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "put", "post", "delete", "patch"] {
            if item.get(method).is_some() {
                routes.insert((method.to_uppercase(), shape(path)));
            }
        }
    }
    routes
}

/// Whether the server routes `method path` (it does not answer the fallback's 404 or a 405).
async fn routed(server: &Server, method: &str, path: &str) -> Result<(), String> {
    let url = format!(
        "{}{}",
        server.url,
        path.replace("{id}", "probe-no-such-session").replace("{path}", "a/b")
    );
    let response = reqwest::Client::new()
        .request(method.parse().unwrap(), &url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    if status == 405 || (status == 404 && body.contains("no such route")) {
        return Err(format!("{method} {path} -> {status} {body}"));
    }
    Ok(())
}

#[tokio::test]
async fn every_route_is_documented_served_and_in_the_readme() {
    let fake = FakeLlm::start(vec![]).await;
    let (server, _) = guarded_server(&fake).await;
    let doc = document(&server).await;
    let documented = document_routes(&doc);
    let undocumented = doc["x-undocumented-routes"].as_object().unwrap();
    let deliberate: Routes = undocumented
        .keys()
        .map(|path| ("GET".to_string(), shape(path)))
        .collect();

    let readme = readme_routes();
    let missing: Vec<_> = readme
        .difference(&documented)
        .filter(|r| !deliberate.contains(*r))
        .collect();
    assert!(
        missing.is_empty(),
        "routes in README's table but not in /openapi.json (register them in http::api_routes \
         with `routes!` and a #[utoipa::path], or as undocumented_get with a reason): {missing:?}"
    );
    let unlisted: Vec<_> = documented.difference(&readme).collect();
    assert!(
        unlisted.is_empty(),
        "routes in /openapi.json but not in README's HTTP API table: {unlisted:?}"
    );

    let mut unrouted = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if let Err(e) = routed(&server, &method.to_uppercase(), path).await {
                unrouted.push(e);
            }
        }
    }
    for path in undocumented.keys() {
        if let Err(e) = routed(&server, "GET", path).await {
            unrouted.push(e);
        }
    }
    assert!(unrouted.is_empty(), "documented but not served: {unrouted:?}");
    assert!(
        routed(&server, "GET", "/no/such/route").await.is_err(),
        "the probe can fail"
    );
}

#[tokio::test]
async fn docs_render_the_document_with_local_assets_only() {
    let fake = FakeLlm::start(vec![]).await;
    let (server, _) = guarded_server(&fake).await;
    let client = reqwest::Client::new();
    let page = client.get(format!("{}/docs", server.url)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("://"),
        "no absolute URL, so nothing loads from elsewhere:\n{html}"
    );

    let mut assets = Vec::new();
    for attribute in ["src=\"", "href=\"", "spec-url=\""] {
        for part in html.split(attribute).skip(1) {
            assets.push(part.split('"').next().unwrap().to_string());
        }
    }
    assert_eq!(assets, ["docs/redoc.standalone.js", "openapi.json"], "{html}");
    for asset in assets {
        // Relative to /docs, as a browser resolves them; fetched without a token.
        let response = client.get(format!("{}/{asset}", server.url)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{asset}");
        let kind = response.headers()["content-type"].to_str().unwrap().to_string();
        let body = response.bytes().await.unwrap();
        if asset.ends_with(".js") {
            assert!(kind.starts_with("text/javascript"), "{kind}");
            assert!(body.len() > 500_000, "the whole Redoc bundle: {} bytes", body.len());
            assert!(body.starts_with(b"/*! For license information please see redoc.standalone.js"));
        } else {
            assert_eq!(kind, "application/json");
            let doc: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(doc["info"]["title"], "pi-worker");
        }
    }
}

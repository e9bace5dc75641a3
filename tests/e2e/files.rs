//! The file API with real clients: `curl` and reqwest for reads, writes, ranges and conditions,
//! Python's `urllib` for a `413` that must reach a client still sending, and the agent's
//! `git_status` seeing API writes like its own.

use std::process::Command;

use serde_json::{Value, json};

use crate::support::{Provider, Server, ServerOptions, call, git, setup, setup_with};

/// The blob id stock git gives `contents`.
fn git_blob_id(contents: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), contents).unwrap();
    git(dir.path(), &["hash-object", "f"]).trim().to_string()
}

/// Runs `curl` with `args`; returns stdout. `-sS` keeps errors visible.
fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .arg("-sS")
        .args(args)
        .output()
        .expect("curl is installed by scripts/test");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn etag(response: &reqwest::Response) -> String {
    response.headers()["etag"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn files_round_trip_with_etags_ranges_conditions_and_listings() {
    let (fake, server, api) = setup(Provider::Anthropic, vec![]).await;
    let s = api.new_session().await;
    let files = format!("{}/session/{s}/files", server.url);
    let http = reqwest::Client::new();

    // Create with curl: 201 and the blob id stock git computes, parents created.
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("todo.md");
    std::fs::write(&local, "hello world\n").unwrap();
    let out = curl(&[
        "-i",
        "-H",
        "Expect:",
        "-T",
        local.to_str().unwrap(),
        &format!("{files}/notes/deep/todo.md"),
    ]);
    let id = git_blob_id(b"hello world\n");
    assert!(out.starts_with("HTTP/1.1 201"), "{out}");
    assert!(out.to_lowercase().contains(&format!("etag: \"{id}\"")), "{out}");

    // Read it back: bytes, type from the extension, ETag, and ranges.
    let response = http.get(format!("{files}/notes/deep/todo.md")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/markdown");
    assert_eq!(etag(&response), format!("\"{id}\""));
    assert_eq!(response.text().await.unwrap(), "hello world\n");
    let out = curl(&["-i", "-r", "6-10", &format!("{files}/notes/deep/todo.md")]);
    assert!(out.starts_with("HTTP/1.1 206"), "{out}");
    assert!(out.to_lowercase().contains("content-range: bytes 6-10/12"), "{out}");
    assert!(out.ends_with("\r\n\r\nworld"), "{out}");
    let suffix = http
        .get(format!("{files}/notes/deep/todo.md"))
        .header("range", "bytes=-3")
        .send()
        .await
        .unwrap();
    assert_eq!(suffix.status(), 206);
    assert_eq!(suffix.text().await.unwrap(), "ld\n");
    let beyond = http
        .get(format!("{files}/notes/deep/todo.md"))
        .header("range", "bytes=50-60")
        .send()
        .await
        .unwrap();
    assert_eq!(beyond.status(), 416);
    assert_eq!(beyond.headers()["content-range"], "bytes */12");
    let cached = http
        .get(format!("{files}/notes/deep/todo.md"))
        .header("if-none-match", format!("\"{id}\""))
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);

    // Conditional writes: a stale If-Match and a create-only on an existing file change nothing.
    let put = |path: &str, body: &'static str| http.put(format!("{files}/{path}")).body(body);
    let stale = put("notes/deep/todo.md", "lost update")
        .header("if-match", "\"0000000000000000000000000000000000000000\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);
    let exists = put("notes/deep/todo.md", "lost update")
        .header("if-none-match", "*")
        .send()
        .await
        .unwrap();
    assert_eq!(exists.status(), 412);
    let (_, text) = api.get(&format!("/session/{s}/files/notes/deep/todo.md")).await;
    assert_eq!(text, "hello world\n");
    let replaced = put("notes/deep/todo.md", "hello again\n")
        .header("if-match", format!("\"{id}\""))
        .send()
        .await
        .unwrap();
    assert_eq!(replaced.status(), 204);
    assert_eq!(etag(&replaced), format!("\"{}\"", git_blob_id(b"hello again\n")));
    let created = put("notes/new.txt", "new\n")
        .header("if-none-match", "*")
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    // Listings: the root and a directory, with kinds and sizes.
    let (status, root) = api.get(&format!("/session/{s}/files")).await;
    assert_eq!(status, 200, "{root}");
    assert_eq!(root["path"], "/");
    let names: Vec<&str> = root["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"notes") && names.contains(&"package.json"), "{names:?}");
    let (_, notes) = api.get(&format!("/session/{s}/files/notes")).await;
    let entries: Vec<(Value, Value, Value)> = notes["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].clone(), e["kind"].clone(), e["size"].clone()))
        .collect();
    assert_eq!(
        entries,
        vec![
            (json!("deep"), json!("directory"), json!(0)),
            (json!("new.txt"), json!("file"), json!(4)),
        ]
    );
    assert!(notes["entries"][1]["mtimeMs"].as_u64().unwrap() > 0);

    // The agent's git_status sees API writes exactly like its own.
    let (status_out, _) = call(&fake, &api, &s, "git_status", json!({})).await;
    assert!(
        status_out.contains("notes/deep/todo.md") && status_out.contains("notes/new.txt"),
        "{status_out}"
    );

    // Deleting: a non-empty directory needs ?recursive=true; a missing path is 404.
    let delete = |path: &str| http.delete(format!("{files}/{path}"));
    assert_eq!(delete("notes").send().await.unwrap().status(), 409);
    assert_eq!(delete("notes/new.txt").send().await.unwrap().status(), 204);
    assert_eq!(delete("notes?recursive=true").send().await.unwrap().status(), 204);
    assert_eq!(delete("notes").send().await.unwrap().status(), 404);
    assert_eq!(api.get(&format!("/session/{s}/files/notes/deep/todo.md")).await.0, 404);
    let (status_out, _) = call(&fake, &api, &s, "git_status", json!({})).await;
    assert_eq!(status_out, "On branch main\n\nnothing to commit, working tree clean");

    // Refusals: a path leaving the workspace, a file where a directory is, an unknown session.
    let (status, body) = api
        .get(&format!("/session/{s}/files/src%2F..%2F..%2Fetc%2Fpasswd"))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(put("package.json/inner.txt", "x").send().await.unwrap().status(), 409);
    assert_eq!(put("src", "x").send().await.unwrap().status(), 409);
    assert_eq!(api.get("/session/nope/files/a.txt").await.0, 404);
}

#[tokio::test]
async fn an_upload_over_the_limit_answers_413_even_to_a_client_still_sending() {
    let (_fake, server, api) = setup_with(
        Provider::Anthropic,
        vec![],
        &["--max-file-bytes", "1000000", "--max-upload-bytes", "4000000"],
    )
    .await;
    let s = api.new_session().await;
    // Python's urllib writes the whole body before it reads the answer.
    let script = r#"
import sys, urllib.request, urllib.error
url, size = sys.argv[1], int(sys.argv[2])
request = urllib.request.Request(url, data=b"x" * size, method="PUT")
try:
    urllib.request.urlopen(request)
    print("accepted")
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
"#;
    for size in ["1500000", "24000000"] {
        let out = Command::new("python3")
            .args(["-c", script, &format!("{}/session/{s}/files/big.bin", server.url), size])
            .output()
            .expect("python3 is installed by scripts/test");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.starts_with("413 ") && stdout.contains("too large"),
            "a {size}-byte upload: stdout {stdout}, stderr {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(api.get(&format!("/session/{s}/files/big.bin")).await.0, 404);
    // Under the limits, the same client's upload lands.
    let out = Command::new("python3")
        .args([
            "-c",
            script,
            &format!("{}/session/{s}/files/big.bin", server.url),
            "900000",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "accepted");
    assert_eq!(api.info(&s).await["limits"]["maxUploadBytes"], 4000000);
}

#[tokio::test]
async fn archives_stream_as_tar_gz_of_the_tree_or_a_ref() {
    let server = Server::start(ServerOptions::default());
    let api = crate::support::Api::new(&server.url);
    let s = api.new_session().await;
    let http = reqwest::Client::new();
    let response = http
        .put(format!("{}/session/{s}/files/extra.txt", server.url))
        .body("uncommitted\n")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    for (query, has_extra) in [("", true), ("?ref=main", false)] {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("a.tar.gz");
        curl(&[
            "-f",
            "-o",
            archive.to_str().unwrap(),
            &format!("{}/session/{s}/archive.tar.gz{query}", server.url),
        ]);
        let out = Command::new("tar")
            .args(["-xzf", "a.tar.gz"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(dir.path().join("package.json").is_file());
        assert_eq!(dir.path().join("extra.txt").is_file(), has_extra, "{query}");
    }
}

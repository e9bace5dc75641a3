//! Starting a session from your code: `POST /session/new` with a tar or tar.gz body, or with a
//! repository URL cloned over smart HTTP from stock `git http-backend`.

mod archive;
mod backend;
mod repo;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::{Server, ServerOptions, git};

/// A server without a model (imports need none), with extra flags.
fn server(args: &[&str]) -> Server {
    Server::start(ServerOptions {
        args: args.iter().map(|s| s.to_string()).collect(),
        ..ServerOptions::default()
    })
}

/// `curl --data-binary @file` with a content type: the status and the JSON answer.
fn curl_post(url: &str, file: &Path, content_type: &str) -> (u16, Value) {
    let out = Command::new("curl")
        .args(["-sS", "-w", "\n%{http_code}", "-H"])
        .arg(format!("Content-Type: {content_type}"))
        .arg("--data-binary")
        .arg(format!("@{}", file.display()))
        .arg(url)
        .output()
        .expect("curl is installed by scripts/test");
    assert!(out.status.success(), "curl: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (
        status.parse().unwrap(),
        serde_json::from_str(body).unwrap_or(Value::String(body.into())),
    )
}

/// Every file of a session in the data directory (`sessions/*`, `blobs/*`), finished or not.
fn session_files(server: &Server) -> Vec<String> {
    let mut names = Vec::new();
    for dir in ["sessions", "blobs"] {
        for entry in std::fs::read_dir(server.data_dir().join(dir)).unwrap() {
            names.push(format!("{dir}/{}", entry.unwrap().file_name().to_string_lossy()));
        }
    }
    names
}

/// Clones the session over its dumb HTTP export into `dir/name`; returns the clone's path.
fn clone_session(server: &Server, session: &str, dir: &Path, name: &str) -> std::path::PathBuf {
    let url = format!("{}/session/{session}/git", server.url);
    git(dir, &["clone", "-q", &url, name]);
    dir.join(name)
}

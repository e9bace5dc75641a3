//! Stock `git http-backend` (CGI) serving a directory of bare repositories over smart HTTP on an
//! ephemeral loopback port: a real git server for imports, clones and pushes.
//!
//! Self-contained (no `crate::support` imports) so a benchmark can include it with `#[path]`.
//! It needs only `axum`, `tokio` (`net`, `sync`, `rt`) and `futures-util`; the CGI child runs as a
//! `std::process` child on a blocking thread, its output streamed back as it comes.
//!
//! Every repository under the root is exported (`GIT_HTTP_EXPORT_ALL`), and pushes are allowed
//! (`http.receivepack=true`). A repository `<root>/demo.git` is at `{url}/demo.git`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue, Response, StatusCode};

/// One request the backend answered: method, path and query, and the CGI status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Served {
    /// The HTTP method.
    pub method: String,
    /// The path and query, as requested.
    pub uri: String,
    /// The status answered.
    pub status: u16,
}

/// A running `git http-backend` server; it stops when dropped.
pub struct GitHttpBackend {
    addr: SocketAddr,
    served: Arc<Mutex<Vec<Served>>>,
    task: tokio::task::JoinHandle<()>,
}

struct Shared {
    root: PathBuf,
    served: Arc<Mutex<Vec<Served>>>,
}

/// Serves the bare repositories under `root` on `127.0.0.1:<ephemeral>`.
pub async fn serve(root: &Path) -> GitHttpBackend {
    let served = Arc::new(Mutex::new(Vec::new()));
    let shared = Arc::new(Shared {
        root: root.to_path_buf(),
        served: served.clone(),
    });
    let app = Router::new().fallback(cgi).with_state(shared);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("a bound listener has an address");
    let task = tokio::spawn(async move {
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        let _ = axum::serve(listener, service).await;
    });
    GitHttpBackend { addr, served, task }
}

impl GitHttpBackend {
    /// The base URL, `http://127.0.0.1:<port>` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The URL of the repository at `<root>/<name>`.
    pub fn repo_url(&self, name: &str) -> String {
        format!("{}/{name}", self.url())
    }

    /// `127.0.0.1:<port>`, as an allow-list entry.
    pub fn host_port(&self) -> String {
        self.addr.to_string()
    }

    /// The requests answered so far, in order.
    pub fn served(&self) -> Vec<Served> {
        self.served.lock().expect("not poisoned").clone()
    }
}

impl Drop for GitHttpBackend {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Runs `git http-backend` for one request and streams its answer.
async fn cgi(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let method = parts.method.to_string();
    let uri = parts.uri.to_string();
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return plain(StatusCode::BAD_REQUEST, "could not read the request body");
    };
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let mut env: Vec<(String, String)> = vec![
        ("GIT_PROJECT_ROOT".into(), shared.root.display().to_string()),
        ("GIT_HTTP_EXPORT_ALL".into(), "1".into()),
        ("GIT_CONFIG_COUNT".into(), "1".into()),
        ("GIT_CONFIG_KEY_0".into(), "http.receivepack".into()),
        ("GIT_CONFIG_VALUE_0".into(), "true".into()),
        ("GATEWAY_INTERFACE".into(), "CGI/1.1".into()),
        ("SERVER_PROTOCOL".into(), "HTTP/1.1".into()),
        ("REQUEST_METHOD".into(), method.clone()),
        ("PATH_INFO".into(), parts.uri.path().to_string()),
        ("QUERY_STRING".into(), parts.uri.query().unwrap_or("").to_string()),
        ("REMOTE_ADDR".into(), peer.ip().to_string()),
        ("REMOTE_USER".into(), "test".into()),
        ("CONTENT_LENGTH".into(), body.len().to_string()),
    ];
    if let Some(kind) = header("content-type") {
        env.push(("CONTENT_TYPE".into(), kind));
    }
    if let Some(encoding) = header("content-encoding") {
        env.push(("HTTP_CONTENT_ENCODING".into(), encoding));
    }
    if let Some(protocol) = header("git-protocol") {
        env.push(("GIT_PROTOCOL".into(), protocol.clone()));
        env.push(("HTTP_GIT_PROTOCOL".into(), protocol));
    }

    let (head_tx, head_rx) = tokio::sync::oneshot::channel();
    let (chunk_tx, chunk_rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    tokio::task::spawn_blocking(move || run(env, body, head_tx, chunk_tx));
    let Ok(Ok((status, headers))) = head_rx.await else {
        return record(
            &shared,
            method,
            uri,
            plain(StatusCode::BAD_GATEWAY, "git http-backend gave no answer"),
        );
    };
    let stream = futures_util::stream::unfold(chunk_rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (Ok::<_, std::io::Error>(chunk), rx))
    });
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = status;
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(&value)) {
            response.headers_mut().append(name, value);
        }
    }
    record(&shared, method, uri, response)
}

fn record(shared: &Shared, method: String, uri: String, response: Response<Body>) -> Response<Body> {
    let status = response.status().as_u16();
    shared
        .served
        .lock()
        .expect("not poisoned")
        .push(Served { method, uri, status });
    response
}

fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response
}

type Head = (StatusCode, Vec<(String, String)>);

/// The blocking part: start the CGI, feed it the body, parse its header block, stream the rest.
fn run(
    env: Vec<(String, String)>,
    body: Bytes,
    head_tx: tokio::sync::oneshot::Sender<std::io::Result<Head>>,
    chunk_tx: tokio::sync::mpsc::Sender<Bytes>,
) {
    let child = Command::new("git")
        .arg("http-backend")
        .envs(env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            let _ = head_tx.send(Err(e));
            return;
        }
    };
    let (Some(mut stdin), Some(stdout), Some(mut stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return;
    };
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut stdout = BufReader::new(stdout);
    match read_head(&mut stdout) {
        Ok(head) => {
            if head_tx.send(Ok(head)).is_ok() {
                let mut buf = vec![0; 64 * 1024];
                while let Ok(n @ 1..) = stdout.read(&mut buf) {
                    if chunk_tx.blocking_send(Bytes::copy_from_slice(&buf[..n])).is_err() {
                        break;
                    }
                }
            }
        }
        Err(e) => {
            let _ = head_tx.send(Err(e));
        }
    }
    drop(stdout);
    let _ = writer.join();
    let _ = child.wait();
    if let Ok(text) = errors.join()
        && !text.trim().is_empty()
    {
        eprintln!("git http-backend: {}", text.trim());
    }
}

/// Reads the CGI header block (`Name: value` lines up to an empty line); `Status:` sets the
/// status, 200 otherwise.
fn read_head(stdout: &mut impl BufRead) -> std::io::Result<Head> {
    let mut status = StatusCode::OK;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if stdout.read_line(&mut line)? == 0 {
            break;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            let code = value.split_whitespace().next().and_then(|c| c.parse().ok());
            status = code
                .and_then(|c| StatusCode::from_u16(c).ok())
                .unwrap_or(StatusCode::BAD_GATEWAY);
        } else {
            headers.push((name.to_string(), value.to_string()));
        }
    }
    Ok((status, headers))
}

//! The HTTP client of the server's API: its base URL, the bearer token, and one method per
//! route the commands use. Error answers become [`CliError::Server`] with the server's message.

use std::time::Duration;

use reqwest::{Response, StatusCode, Url};
use serde_json::{Value, json};

use super::{CliError, ServerArgs};

/// How long connecting to the server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A client of one server.
pub struct ServerClient {
    base: Url,
    http: reqwest::Client,
}

impl ServerClient {
    /// A client of the server at `--url` / `PI_WORKER_URL`, sending `PI_WORKER_TOKEN` (when set)
    /// as `Authorization: Bearer`.
    pub fn new(args: &ServerArgs) -> Result<Self, CliError> {
        let base = Url::parse(&args.url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
            .ok_or_else(|| CliError::Usage(format!("--url: not an http(s) URL: {}", args.url)))?;
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(token) = std::env::var("PI_WORKER_TOKEN").ok().filter(|t| !t.trim().is_empty()) {
            let mut value = format!("Bearer {}", token.trim())
                .parse::<reqwest::header::HeaderValue>()
                .map_err(|_| CliError::Usage("PI_WORKER_TOKEN is not a valid header value".into()))?;
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| CliError::connection("cannot set up the HTTP client", &e))?;
        Ok(Self { base, http })
    }

    /// The URL of a route, its segments escaped (a session id never leaves its segment).
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// The web app's page of a session: `<url>/#/session/<id>`.
    pub fn web_url(&self, session: &str) -> Url {
        let mut url = self.url(&[""]);
        url.set_fragment(Some(&format!("/session/{session}")));
        url
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Response, CliError> {
        let response = request.send().await.map_err(|e| {
            let base = self.base.as_str().trim_end_matches('/');
            CliError::connection(&format!("cannot reach the server at {base}"), &e.without_url())
        })?;
        checked(response).await
    }

    /// `POST /session/new`: a new session (the sample project) running `agent` (the server's
    /// default when `None`); returns its id.
    pub async fn new_session(&self, agent: Option<&str>) -> Result<String, CliError> {
        let body = match agent {
            Some(agent) => json!({ "agent": agent }),
            None => json!({}),
        };
        let response = self
            .send(self.http.post(self.url(&["session", "new"])).body(body.to_string()))
            .await?;
        let body = json_of(response).await?;
        body["sessionId"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| CliError::Connection(format!("the server answered no sessionId: {body}")))
    }

    /// `POST /session/:id/chat` with `"stream": true`: the answer's SSE stream. The chat is
    /// aborted when this client goes (`?abortOnDisconnect=true`).
    pub async fn chat_stream(&self, session: &str, message: &str, model: Option<&str>) -> Result<Response, CliError> {
        let mut url = self.url(&["session", session, "chat"]);
        url.query_pairs_mut().append_pair("abortOnDisconnect", "true");
        let mut body = json!({ "message": message, "stream": true });
        if let Some(model) = model {
            body["model"] = json!(model);
        }
        self.send(self.http.post(url).body(body.to_string())).await
    }

    /// `POST /session/:id/abort`: whether a chat was running to abort.
    pub async fn abort(&self, session: &str) -> Result<bool, CliError> {
        match self
            .send(self.http.post(self.url(&["session", session, "abort"])))
            .await
        {
            Ok(_) => Ok(true),
            Err(CliError::Server { status: 409, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `GET /sessions?limit=&cursor=`: one page of the listing.
    pub async fn sessions_page(&self, limit: usize, cursor: Option<&str>) -> Result<Value, CliError> {
        let mut url = self.url(&["sessions"]);
        url.query_pairs_mut().append_pair("limit", &limit.to_string());
        if let Some(cursor) = cursor {
            url.query_pairs_mut().append_pair("cursor", cursor);
        }
        json_of(self.send(self.http.get(url)).await?).await
    }

    /// `DELETE /session/:id`.
    pub async fn delete_session(&self, session: &str) -> Result<(), CliError> {
        self.send(self.http.delete(self.url(&["session", session])))
            .await
            .map(drop)
    }
}

/// The response, or the error it carries: the server's `{"error"}` message (or its text).
async fn checked(response: Response) -> Result<Response, CliError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let text = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|body| body["error"].as_str().map(str::to_string))
        .unwrap_or_else(|| describe(status, &text));
    Err(CliError::Server {
        status: status.as_u16(),
        message,
    })
}

/// An error answer without a JSON body (a proxy's page, say): its status, or its first line.
fn describe(status: StatusCode, text: &str) -> String {
    match text.lines().next().map(str::trim).filter(|l| !l.is_empty()) {
        Some(line) => line.chars().take(200).collect(),
        None => status.canonical_reason().unwrap_or("error").to_string(),
    }
}

async fn json_of(response: Response) -> Result<Value, CliError> {
    let text = response
        .text()
        .await
        .map_err(|e| CliError::connection("the answer broke off", &e))?;
    serde_json::from_str(&text).map_err(|e| CliError::Connection(format!("the server answered no JSON: {e}")))
}

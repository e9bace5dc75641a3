//! A real browser for the web app's tests: Debian's headless Chromium, driven over WebDriver by
//! `chromedriver` (started here on an ephemeral loopback port) through `fantoccini`.

use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// How long a condition may take to become true in the page.
const PATIENCE: Duration = Duration::from_secs(30);

/// A headless Chromium session; the driver and the browser end when it is dropped.
pub struct Browser {
    pub client: Client,
    driver: Child,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a fresh profile.
    pub async fn start() -> Self {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver (Debian's chromium-driver; scripts/test installs it)");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut options = json!({
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--window-size=1280,860",
            ],
        });
        if std::path::Path::new("/usr/bin/chromium").exists() {
            options["binary"] = json!("/usr/bin/chromium");
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), options);
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&url)
            .await
            .expect("a Chromium session");
        let browser = Self { client, driver };
        browser.client.set_window_size(1280, 860).await.unwrap();
        browser
    }

    /// Runs `script` (a function body) in the page and returns its value.
    pub async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap()
    }

    /// Waits until the JavaScript expression `condition` is truthy in the page.
    pub async fn wait_until(&self, what: &str, condition: &str) {
        let script = format!("try {{ return Boolean({condition}); }} catch (e) {{ return false; }}");
        let deadline = Instant::now() + PATIENCE;
        loop {
            if self.client.execute(&script, vec![]).await.unwrap() == json!(true) {
                return;
            }
            if Instant::now() > deadline {
                let errors = self.text("#errors").await;
                let body = self.text("main").await;
                panic!("timed out waiting for {what} ({condition})\nerrors: {errors}\npage: {body}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the element `selector` exists and its text contains `text`.
    pub async fn wait_for_text(&self, selector: &str, text: &str) {
        let condition = format!(
            "[...document.querySelectorAll({s})].some(e => e.textContent.includes({t}))",
            s = json!(selector),
            t = json!(text)
        );
        self.wait_until(&format!("{text:?} in {selector}"), &condition).await;
    }

    /// The text of the first element matching `selector` ("" when there is none).
    pub async fn text(&self, selector: &str) -> String {
        let script = format!("return document.querySelector({})?.textContent ?? ''", json!(selector));
        self.js(&script).await.as_str().unwrap_or_default().to_string()
    }

    /// Clicks the element `selector`, waiting for it to appear.
    pub async fn click(&self, selector: &str) {
        let element = self
            .client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(selector))
            .await
            .unwrap_or_else(|e| panic!("no {selector}: {e}"));
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {selector}: {e}"));
    }

    /// Types `text` into the element `selector`.
    pub async fn type_into(&self, selector: &str, text: &str) {
        let element = self.client.find(Locator::Css(selector)).await.unwrap();
        element.send_keys(text).await.unwrap();
    }

    /// Saves a screenshot of the window as `name`: into `docs/` when `PI_WORKER_SCREENSHOTS` is
    /// set (how the README's pictures are made), else beside the tests' temporary files.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.unwrap();
        let dir = match std::env::var_os("PI_WORKER_SCREENSHOTS") {
            Some(_) => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs")),
            None => PathBuf::from(env!("CARGO_TARGET_TMPDIR")),
        };
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Ends the browser session (closing Chromium) and the driver.
    pub async fn close(mut self) {
        let client = self.client.clone();
        let _ = client.close().await;
        self.stop_driver();
    }

    fn stop_driver(&mut self) {
        // The driver leads its own process group: Chromium and its helpers end with it.
        if let Ok(pid) = i32::try_from(self.driver.id())
            && let Some(pid) = rustix::process::Pid::from_raw(pid)
        {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.stop_driver();
    }
}

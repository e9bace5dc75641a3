//! The real `pi-worker` binary, started on an ephemeral loopback port.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use tempfile::TempDir;

/// Which wire format the server talks to the fake model in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Provider {
    /// The Anthropic Messages API (the default model).
    #[default]
    Anthropic,
    /// OpenAI Chat Completions (the default model set to `openai/gpt-fake`).
    OpenAi,
}

/// How to start the server.
#[derive(Clone, Default)]
pub struct ServerOptions {
    /// The fake model's base URL; `None` starts the server without any provider configured.
    pub llm_url: Option<String>,
    /// The provider the fake model is configured as.
    pub provider: Provider,
    /// Extra command-line flags; a `--cache-dir` among them replaces the run's [`cache_dir`].
    pub args: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
}

/// A running server; killed when dropped. Its log is printed if the test fails.
pub struct Server {
    pub url: String,
    child: Child,
    options: ServerOptions,
    dir: TempDir,
}

/// Compiled guests are cached across the tests of a run, as across restarts of a real server, in
/// a directory private to the run: `e2e-guest-cache-<pid>` under Cargo's temporary directory for
/// tests, created with mode 0700. Caches of runs that ended over an hour ago are removed (a server
/// recreates its cache directory if it finds none).
pub fn cache_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let parent = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let stale = SystemTime::now() - Duration::from_secs(3600);
        for entry in std::fs::read_dir(parent).into_iter().flatten().flatten() {
            let old = entry.metadata().and_then(|m| m.modified()).is_ok_and(|t| t < stale);
            if old && entry.file_name().to_string_lossy().starts_with("e2e-guest-cache-") {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let dir = parent.join(format!("e2e-guest-cache-{}", std::process::id()));
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .unwrap();
        dir
    })
}

impl Server {
    pub fn start(options: ServerOptions) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (child, url) = spawn(dir.path(), &options);
        Self {
            url,
            child,
            options,
            dir,
        }
    }

    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Kills the process (SIGKILL) and starts a new one on the same data directory.
    pub fn restart(&mut self) {
        self.kill();
        self.start_again();
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process (SIGKILL) and waits for it.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Starts a new process on the same data directory (after [`Server::kill`]).
    pub fn start_again(&mut self) {
        let (child, url) = spawn(self.dir.path(), &self.options);
        self.child = child;
        self.url = url;
    }

    /// Kills the process and starts a new one on the same data directory with other flags.
    pub fn restart_with(&mut self, args: &[&str]) {
        self.kill();
        self.options.args = args.iter().map(|s| s.to_string()).collect();
        self.start_again();
    }

    /// Sends SIGTERM and waits for the process to exit; returns whether it exited successfully.
    pub fn terminate(&mut self) -> bool {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        self.child.wait().unwrap().success()
    }

    /// What the server has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

fn spawn(dir: &Path, options: &ServerOptions) -> (Child, String) {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))
        .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pi-worker"));
    cmd.args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(dir.join("data"));
    if !options.args.iter().any(|a| a == "--cache-dir") {
        cmd.arg("--cache-dir").arg(cache_dir());
    }
    cmd.args(&options.args)
        // The working directory holds no .env/.dev.vars: the test decides the configuration.
        .current_dir(dir)
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("ANTHROPIC_BASE_URL")
        .env_remove("PI_WORKER_MODEL")
        .env_remove("PI_WORKER_TOKEN")
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("PI_WORKER_OPENAI_PREFIXES")
        .env_remove("PI_WORKER_OPENAI_MAX_TOKENS_FIELD")
        .env("PI_WORKER_LOG", "pi_worker=debug")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log);
    cmd.envs(options.env.iter().map(|(k, v)| (k, v)));
    match (&options.llm_url, options.provider) {
        (Some(url), Provider::Anthropic) => {
            cmd.env("ANTHROPIC_API_KEY", "test-key").env("ANTHROPIC_BASE_URL", url);
        }
        (Some(url), Provider::OpenAi) => {
            cmd.env("OPENAI_API_KEY", "test-key")
                .env("OPENAI_BASE_URL", format!("{url}/v1"))
                .env("PI_WORKER_MODEL", "openai/gpt-fake");
        }
        (None, _) => {}
    }
    let mut child = cmd.spawn().expect("start pi-worker");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("pi-worker listening on ")
        .unwrap_or_else(|| {
            panic!(
                "server did not start: {line:?}\n{}",
                std::fs::read_to_string(dir.join("server.log")).unwrap()
            )
        })
        .to_string();
    (child, url)
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
            eprintln!("--- pi-worker log ---\n{log}");
        }
    }
}

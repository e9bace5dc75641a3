//! Server configuration: command-line flags, environment variables and `.dev.vars` / `.env`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::agents::GuestSpec;
use crate::chat::ChatLimits;
use crate::import::remote::RemoteOptions;
use crate::llm::LlmConfig;
use crate::program::ProgramSpec;
use crate::storage::StorageOptions;

/// Everything `pi-worker serve` needs. Not `Debug`: it holds secrets (the bearer token, the
/// notification key) that must never reach a log.
#[derive(Clone)]
pub struct ServerConfig {
    /// Address to listen on.
    pub addr: SocketAddr,
    /// Where sessions live (`sessions/`, `blobs/`).
    pub data_dir: PathBuf,
    /// Where the compiled agents and built-in programs are cached.
    pub cache_dir: PathBuf,
    /// Agent components besides (or in place of) the built-in agent, by name.
    pub guests: Vec<GuestSpec>,
    /// WASI commands the `run` tool provides by name, beside the built-in `node`.
    pub programs: Vec<ProgramSpec>,
    /// Storage thresholds.
    pub storage: StorageOptions,
    /// Per-chat limits.
    pub chat: ChatLimits,
    /// Largest JSON request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Largest raw upload (a file `PUT`, an archive, a `git push`), in bytes.
    pub max_upload_bytes: usize,
    /// Most chats running at once (across sessions).
    pub max_concurrent_chats: u32,
    /// Model providers.
    pub llm: LlmConfig,
    /// Repository imports: the allow-list and the time limit.
    pub import: RemoteOptions,
    /// When set, every route but `/health` requires `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// The key chat-end notifications are signed with (`None`: notifications are refused).
    pub notify_secret: Option<String>,
    /// A file of named tenants' tokens (`name token` a line), re-read when it changes.
    pub tokens_file: Option<PathBuf>,
}

/// Memory a chat in flight is budgeted, for the default bound on chats in flight: a chat waiting
/// for the model measured about 0.6 MiB resident (guest memory, fiber stack, connection), so a
/// MiB leaves room for the ones that are computing.
const MEMORY_PER_CHAT: u64 = 1 << 20;

/// Memory mappings a chat in flight adds (its guest's linear memory and image, its fiber stack
/// and guard pages, its database's shared memory), with room to spare.
const MAPPINGS_PER_CHAT: u64 = 8;

/// Mappings left for the rest of the process (the runtime, SQLite, the allocator).
const MAPPINGS_RESERVED: u64 = 8192;

/// The default `--max-chats`: as many chats in flight as half the machine's memory holds at
/// [`MEMORY_PER_CHAT`] each, and as the kernel's limit on a process's memory mappings
/// (`vm.max_map_count`) allows at [`MAPPINGS_PER_CHAT`] each; between 64 and 16384 (1024 where
/// the memory size is unknown).
pub fn default_max_chats() -> u32 {
    let number = |path: &str, prefix: &str| -> Option<u64> {
        let text = std::fs::read_to_string(path).ok()?;
        let value = text.lines().find_map(|l| l.strip_prefix(prefix))?;
        value.trim().trim_end_matches("kB").trim().parse().ok()
    };
    let by_memory = number("/proc/meminfo", "MemTotal:").map(|kib| kib * 1024 / 2 / MEMORY_PER_CHAT);
    let by_mappings =
        number("/proc/sys/vm/max_map_count", "").map(|maps| maps.saturating_sub(MAPPINGS_RESERVED) / MAPPINGS_PER_CHAT);
    match (by_memory, by_mappings) {
        (None, _) => 1024,
        (Some(memory), maps) => memory.min(maps.unwrap_or(u64::MAX)).clamp(64, 16_384) as u32,
    }
}

/// The process environment merged over `.env` and `.dev.vars` in `dir` (the environment wins,
/// then `.dev.vars`, then `.env`). Unreadable or malformed files are reported and skipped.
pub fn load_vars(dir: &Path) -> HashMap<String, String> {
    let mut vars = HashMap::new();
    for name in [".env", ".dev.vars"] {
        let path = dir.join(name);
        if !path.exists() {
            continue;
        }
        match dotenvy::from_path_iter(&path) {
            Ok(iter) => {
                for item in iter {
                    match item {
                        Ok((key, value)) => {
                            vars.insert(key, value);
                        }
                        Err(e) => {
                            tracing::warn!(file = %path.display(), "skipping a malformed line: {e}")
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(file = %path.display(), "cannot read: {e}"),
        }
    }
    vars.extend(std::env::vars());
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_vars_override_env_file() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join(".env"), "PI_TEST_A=from-env\nPI_TEST_B=b\n").unwrap();
        std::fs::write(tmp.path().join(".dev.vars"), "# comment\nPI_TEST_A=\"from dev vars\"\n").unwrap();
        let vars = load_vars(tmp.path());
        assert_eq!(vars["PI_TEST_A"], "from dev vars");
        assert_eq!(vars["PI_TEST_B"], "b");
    }
}

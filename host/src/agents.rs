//! The agent components a server runs, by name: the built-in agent (`pi`) and any given with
//! `--guest [NAME=]PATH`. A session is created with one of them (`{"agent": NAME}`, by default
//! `pi`) and records its name and the content hash of the component it was created with; each
//! chat runs the component the server has under that name now.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;

use crate::engine::AgentEngine;
use crate::program::Programs;

/// The built-in agent's name, and the agent a session gets when it names none.
pub const DEFAULT_AGENT: &str = "pi";

/// One `--guest` flag: a component, under a name (`None`: in place of the built-in agent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestSpec {
    /// The agent's name.
    pub name: String,
    /// The component file.
    pub path: PathBuf,
}

impl GuestSpec {
    /// Parses `NAME=PATH`, or `PATH` alone for the default agent (`pi`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let (name, path) = match text.split_once('=') {
            Some((name, path)) if valid_name(name) => (name, path),
            Some((name, _)) if !name.contains('/') => {
                return Err(format!(
                    "`{name}` is not an agent name: 1 to 32 lowercase letters, digits, `-` or `_`"
                ));
            }
            _ => (DEFAULT_AGENT, text),
        };
        if path.is_empty() {
            return Err(format!("no component path for agent `{name}`"));
        }
        Ok(Self {
            name: name.to_string(),
            path: PathBuf::from(path),
        })
    }
}

/// Whether `name` may name an agent.
pub fn valid_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// A compiled agent component.
pub struct Agent {
    /// Its name.
    pub name: String,
    /// `sha256:<hex>` of the component's bytes.
    pub hash: String,
    /// The compiled, pre-instantiated component.
    pub engine: AgentEngine,
}

/// The agents of a server, by name.
pub struct Agents {
    by_name: BTreeMap<String, Arc<Agent>>,
}

/// A session names an agent this server does not run.
#[derive(Debug, thiserror::Error)]
#[error("this server runs no agent named '{name}' (it runs: {known})")]
pub struct UnknownAgent {
    /// The name asked for.
    pub name: String,
    /// The names it runs, comma-separated.
    pub known: String,
}

impl Agents {
    /// Compiles (or loads from `cache_dir`) the built-in agent and every `guests` component, a
    /// later flag for a name replacing an earlier one. Their sessions run `programs`, in a
    /// directory per agent under `programs.dir` (a session has one agent).
    pub fn load(
        guests: &[GuestSpec],
        cache_dir: &Path,
        programs: &Programs,
        max_memory_bytes: usize,
    ) -> anyhow::Result<Self> {
        let mut sources: BTreeMap<&str, Option<&Path>> = BTreeMap::from([(DEFAULT_AGENT, None)]);
        for guest in guests {
            sources.insert(&guest.name, Some(&guest.path));
        }
        let mut by_name = BTreeMap::new();
        for (name, path) in sources {
            let wasm = match path {
                Some(path) => std::fs::read(path).with_context(|| format!("cannot read guest {}", path.display()))?,
                None => crate::DEFAULT_GUEST.to_vec(),
            };
            let engine = AgentEngine::new(&wasm, cache_dir, &programs.under(name), max_memory_bytes)
                .map_err(|e| anyhow::anyhow!("agent `{name}` cannot run: {e:?}"))?;
            let agent = Agent {
                name: name.to_string(),
                hash: content_hash(&wasm),
                engine,
            };
            by_name.insert(name.to_string(), Arc::new(agent));
        }
        Ok(Self { by_name })
    }

    /// The agent named `name`, or the default one.
    pub fn get(&self, name: Option<&str>) -> Result<&Arc<Agent>, UnknownAgent> {
        let name = name.unwrap_or(DEFAULT_AGENT);
        self.by_name.get(name).ok_or_else(|| UnknownAgent {
            name: name.to_string(),
            known: self.by_name.keys().cloned().collect::<Vec<_>>().join(", "),
        })
    }

    /// Every agent, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Agent>> {
        self.by_name.values()
    }
}

/// `sha256:<hex>` of `bytes`.
pub fn content_hash(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_flags_name_an_agent_or_replace_the_built_in_one() {
        let spec = |name: &str, path: &str| GuestSpec {
            name: name.into(),
            path: path.into(),
        };
        assert_eq!(GuestSpec::parse("js=./agent.wasm"), Ok(spec("js", "./agent.wasm")));
        assert_eq!(GuestSpec::parse("./agent.wasm"), Ok(spec("pi", "./agent.wasm")));
        assert_eq!(GuestSpec::parse("/a=b/agent.wasm"), Ok(spec("pi", "/a=b/agent.wasm")));
        assert!(GuestSpec::parse("JS=x.wasm").is_err());
        assert!(GuestSpec::parse("js=").is_err());
        assert!(valid_name("my-agent_2") && !valid_name("") && !valid_name(&"a".repeat(33)));
    }
}

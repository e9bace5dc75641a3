//! Who is asking: bearer tokens mapped to tenants.
//!
//! A server has at most one single-user token (`PI_WORKER_TOKEN`, the default tenant) and a tokens
//! file (`--tokens-file`) of named tenants, one `name token` a line. The file is re-read when it
//! changes, so tenants come and go without a restart. Tokens are compared in constant time and
//! never logged.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// A tenant: the owner of sessions. The default tenant (the single user, or anyone when no token
/// is configured) has the empty name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Tenant(String);

impl Tenant {
    /// The default tenant.
    pub fn default_tenant() -> Self {
        Self::default()
    }

    /// A tenant by name, as stored with its sessions.
    pub fn named(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    /// The tenant's name (`""` for the default tenant).
    pub fn name(&self) -> &str {
        &self.0
    }
}

/// Why a tokens file was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokensError {
    /// It could not be read.
    #[error("cannot read the tokens file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not `name token`.
    #[error("tokens file {path}, line {line}: {problem}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// What is wrong (never the token itself).
        problem: &'static str,
    },
}

/// Compares without an early exit, so the time taken does not reveal how much of a guess was right.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Parses a tokens file: `name token` per line; blank lines and `#` comments are skipped.
fn parse(path: &Path, text: &str) -> Result<Vec<(Tenant, String)>, TokensError> {
    let malformed = |line, problem| TokensError::Malformed {
        path: path.to_path_buf(),
        line,
        problem,
    };
    let mut entries: Vec<(Tenant, String)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(name), Some(token), None) = (words.next(), words.next(), words.next()) else {
            return Err(malformed(n + 1, "expected `name token`"));
        };
        let name_ok = name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.@".contains(&b));
        if !name_ok {
            return Err(malformed(n + 1, "a name is 1 to 64 of A-Z a-z 0-9 - _ . @"));
        }
        if token.len() < 16 {
            return Err(malformed(n + 1, "a token must be at least 16 characters"));
        }
        if entries.iter().any(|(t, _)| t.name() == name) {
            return Err(malformed(n + 1, "the name appears twice"));
        }
        if entries
            .iter()
            .any(|(_, other)| same(other.as_bytes(), token.as_bytes()))
        {
            return Err(malformed(n + 1, "the token appears twice"));
        }
        entries.push((Tenant::named(name), token.to_string()));
    }
    Ok(entries)
}

/// What the tokens file held when it was last read.
struct Loaded {
    stamp: Option<(SystemTime, u64)>,
    entries: Vec<(Tenant, String)>,
}

/// The tokens of a server. Its `Debug` shows no token.
pub struct Tokens {
    single: Option<String>,
    file: Option<PathBuf>,
    loaded: Mutex<Loaded>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("single_user", &self.single.is_some())
            .field("file", &self.file)
            .finish()
    }
}

/// The file's modification time and size: re-read when either changes.
fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

impl Tokens {
    /// Tokens from the single-user `token` and the tokens file at `file`, which must parse.
    pub fn new(single: Option<String>, file: Option<PathBuf>) -> Result<Self, TokensError> {
        let loaded = match &file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| TokensError::Read {
                    path: path.clone(),
                    source,
                })?;
                Loaded {
                    stamp: stamp(path),
                    entries: parse(path, &text)?,
                }
            }
            None => Loaded {
                stamp: None,
                entries: Vec::new(),
            },
        };
        Ok(Self {
            single,
            file,
            loaded: Mutex::new(loaded),
        })
    }

    /// Whether requests need a token at all.
    pub fn required(&self) -> bool {
        self.single.is_some() || self.file.is_some()
    }

    /// The tenant a bearer token belongs to (`None`: no such token). Without any token
    /// configured, everyone is the default tenant.
    pub fn tenant(&self, given: Option<&str>) -> Option<Tenant> {
        if !self.required() {
            return Some(Tenant::default_tenant());
        }
        let given = given?.as_bytes();
        if let Some(single) = &self.single
            && same(given, single.as_bytes())
        {
            return Some(Tenant::default_tenant());
        }
        let loaded = self.current();
        // Every entry is compared, so the time taken does not depend on which one matched.
        let mut found = None;
        for (tenant, token) in &loaded.entries {
            if same(given, token.as_bytes()) {
                found = Some(tenant.clone());
            }
        }
        found
    }

    /// The tokens file's entries, re-read if the file changed. A file that no longer parses
    /// keeps the entries it had (and says so in the log, without any token).
    fn current(&self) -> std::sync::MutexGuard<'_, Loaded> {
        let mut loaded = self.loaded.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(path) = &self.file {
            let now = stamp(path);
            if now != loaded.stamp {
                loaded.stamp = now;
                match std::fs::read_to_string(path)
                    .map_err(|source| TokensError::Read {
                        path: path.clone(),
                        source,
                    })
                    .and_then(|text| parse(path, &text))
                {
                    Ok(entries) => {
                        tracing::info!(tenants = entries.len(), "reloaded the tokens file");
                        loaded.entries = entries;
                    }
                    Err(e) => tracing::warn!("keeping the previous tokens: {e}"),
                }
            }
        }
        loaded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_files_parse_and_refuse_what_is_wrong() {
        let path = Path::new("tokens");
        let entries = parse(path, "# team tokens\n\nalice  aaaaaaaaaaaaaaaa\nbob bbbbbbbbbbbbbbbb\n").unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].0.name(), "bob");
        for (text, problem) in [
            ("alice", "expected `name token`"),
            ("alice a b", "expected `name token`"),
            ("al/ice aaaaaaaaaaaaaaaa", "a name is"),
            ("alice short", "at least 16"),
            ("a aaaaaaaaaaaaaaaa\na bbbbbbbbbbbbbbbb", "name appears twice"),
            ("a aaaaaaaaaaaaaaaa\nb aaaaaaaaaaaaaaaa", "token appears twice"),
        ] {
            let err = parse(path, text).unwrap_err().to_string();
            assert!(err.contains(problem), "{text}: {err}");
            assert!(!err.contains("aaaaaaaaaaaaaaaa"), "a token leaked: {err}");
        }
    }

    #[test]
    fn tokens_map_to_tenants_and_the_file_reloads() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("tokens");
        std::fs::write(&file, "alice aaaaaaaaaaaaaaaa\n").unwrap();
        let tokens = Tokens::new(Some("single-user-token".into()), Some(file.clone())).unwrap();
        assert_eq!(tokens.tenant(Some("single-user-token")), Some(Tenant::default_tenant()));
        assert_eq!(tokens.tenant(Some("aaaaaaaaaaaaaaaa")), Some(Tenant::named("alice")));
        assert_eq!(tokens.tenant(Some("bbbbbbbbbbbbbbbb")), None);
        assert_eq!(tokens.tenant(None), None);
        std::fs::write(&file, "alice aaaaaaaaaaaaaaaa\nbob bbbbbbbbbbbbbbbbbbbb\n").unwrap();
        assert_eq!(tokens.tenant(Some("bbbbbbbbbbbbbbbbbbbb")), Some(Tenant::named("bob")));
        std::fs::write(&file, "broken\n").unwrap();
        assert_eq!(
            tokens.tenant(Some("bbbbbbbbbbbbbbbbbbbb")),
            Some(Tenant::named("bob")),
            "kept"
        );
        assert!(Tokens::new(None, None).unwrap().tenant(None).is_some());
    }
}

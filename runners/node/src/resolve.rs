//! Module specifiers to files: node's relative resolution plus the TypeScript conventions.

use std::path::{Component, Path, PathBuf};

/// The builtin modules, by their name without the `node:` prefix.
pub const BUILTINS: &[&str] = &[
    "assert",
    "assert/strict",
    "buffer",
    "events",
    "fs",
    "fs/promises",
    "os",
    "path",
    "path/posix",
    "process",
    "test",
    "timers",
    "url",
    "util",
];

/// What a specifier names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A builtin module, by its bare name (`fs`, `path`, ...).
    Builtin(&'static str),
    /// A file of the workspace, by its absolute normalised path.
    File(PathBuf),
}

/// The builtin named by `specifier` (`fs`, `node:fs`, ...), if any. `node:test` exists only with
/// the prefix in node, but the bare name is accepted here too.
pub fn builtin(specifier: &str) -> Option<&'static str> {
    let name = specifier.strip_prefix("node:").unwrap_or(specifier);
    BUILTINS.iter().copied().find(|b| *b == name)
}

/// Removes `.` and `..` components without touching the file system.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(part) => out.push(part),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// The absolute form of `path`, relative to the current directory when it is relative.
pub fn absolute(path: &Path) -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    normalize(&cwd.join(path))
}

/// The file `candidate` names: itself, then with `.ts`/`.js`/`.mjs` appended, then its
/// `index.ts`/`index.js`; a `.js`/`.mjs`/`.cjs` name that does not exist also tries the matching
/// TypeScript name (`./x.js` → `./x.ts`).
pub fn find_file(candidate: &Path) -> Option<PathBuf> {
    if candidate.is_file() {
        return Some(candidate.to_path_buf());
    }
    let text = candidate.to_string_lossy();
    let appended = ["ts", "js", "mjs"]
        .iter()
        .map(|ext| PathBuf::from(format!("{text}.{ext}")));
    let index = ["index.ts", "index.js"].iter().map(|name| candidate.join(name));
    let typescript = [("js", "ts"), ("mjs", "mts"), ("cjs", "cts")]
        .iter()
        .filter(|(js, _)| candidate.extension().is_some_and(|e| e == *js))
        .map(|(_, ts)| candidate.with_extension(ts));
    appended.chain(index).chain(typescript).find(|path| path.is_file())
}

/// Resolves `specifier` imported from a file in `from_dir`. Bare package names other than the
/// builtins are not supported (there is no `node_modules` lookup).
pub fn resolve(specifier: &str, from_dir: &Path) -> Result<Target, String> {
    if let Some(name) = builtin(specifier) {
        return Ok(Target::Builtin(name));
    }
    let is_path = specifier.starts_with("./")
        || specifier.starts_with("../")
        || specifier.starts_with('/')
        || specifier == "."
        || specifier == "..";
    let not_found = || format!("Cannot find module '{specifier}'");
    if !is_path {
        return Err(not_found());
    }
    let candidate = normalize(&from_dir.join(specifier));
    find_file(&candidate)
        .map(Target::File)
        .ok_or_else(|| format!("Cannot find module '{}'", candidate.display()))
}

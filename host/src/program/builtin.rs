//! The programs a server provides by name (`pi:worker/process.builtins`), beside the
//! workspace's `.wasm` files: `node`, built for `wasm32-wasip2` from `runners/node` by
//! `host/build.rs` and embedded in the binary, and the operator's own (`--program NAME=PATH`).
//! A bare name (`node`) is looked up here; anything with a `/` or a `.wasm` ending is a
//! workspace path.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;

/// A built-in program.
#[derive(Debug)]
pub struct Builtin {
    /// Its name, as `argv[0]`.
    pub name: String,
    /// What it runs and how, for the model.
    pub summary: String,
    /// The component.
    pub wasm: Cow<'static, [u8]>,
}

/// The built-in `node`, embedded in the binary.
pub fn node() -> Builtin {
    Builtin {
        name: "node".into(),
        summary: "runs a JavaScript or TypeScript file like Node.js: `node src/index.ts arg`. TypeScript types \
are stripped (not checked). ES modules and CommonJS between workspace files (`./utils` finds `utils.ts`), \
`console`, `process`, `Buffer`, timers, and node's `fs`, `path`, `assert`, `test`, `util`, `events`, `url` \
and `os`; no npm packages (no `node_modules`), no network, no child processes. An uncaught error, a \
failed assertion or a failed `node:test` test exits with code 1."
            .into(),
        wasm: Cow::Borrowed(include_bytes!(env!("PI_WORKER_NODE_WASM"))),
    }
}

/// Where a runner's programs run, and which it provides by name.
#[derive(Debug, Clone)]
pub struct Programs {
    /// The root of the sessions' directories (see [`super::Workdirs`]).
    pub dir: PathBuf,
    /// The programs by name, `node` first.
    pub builtins: Vec<Arc<Builtin>>,
}

impl Programs {
    /// `node` alone, with the sessions' directories under `dir`.
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            builtins: vec![Arc::new(node())],
        }
    }

    /// Adds the operator's programs (their files read now); one named like an earlier program
    /// replaces it.
    pub fn with(mut self, specs: &[ProgramSpec]) -> anyhow::Result<Self> {
        for spec in specs {
            let wasm =
                std::fs::read(&spec.path).with_context(|| format!("cannot read program {}", spec.path.display()))?;
            let file = spec
                .path
                .file_name()
                .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
            self.builtins.retain(|b| b.name != spec.name);
            self.builtins.push(Arc::new(Builtin {
                summary: format!(
                    "`{} ARGS…`: the program `{file}`, added by this server's operator.",
                    spec.name
                ),
                name: spec.name.clone(),
                wasm: Cow::Owned(wasm),
            }));
        }
        Ok(self)
    }

    /// The same programs, with the sessions' directories under `dir/<name>` (one per agent).
    pub fn under(&self, name: &str) -> Self {
        Self {
            dir: self.dir.join(name),
            builtins: self.builtins.clone(),
        }
    }

    /// The built-in program `argv0` names.
    pub fn find(&self, argv0: &str) -> Option<&Arc<Builtin>> {
        self.builtins.iter().find(|b| b.name == argv0)
    }
}

/// `--program NAME=PATH`: a WASI command the server provides by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramSpec {
    /// The name it runs by (`python`).
    pub name: String,
    /// The component's file.
    pub path: PathBuf,
}

impl ProgramSpec {
    /// Parses `NAME=PATH`; NAME is a bare command name (letters, digits, `-`, `_`, `.`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let Some((name, path)) = text.split_once('=') else {
            return Err(format!("`{text}` is not NAME=PATH"));
        };
        let valid = !name.is_empty()
            && name.len() <= 32
            && is_bare_name(name)
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !valid {
            return Err(format!(
                "`{name}` is not a program name: 1 to 32 letters, digits, `-`, `_` or `.`, not ending in `.wasm`"
            ));
        }
        if path.is_empty() {
            return Err(format!("no component path for program `{name}`"));
        }
        Ok(Self {
            name: name.to_string(),
            path: PathBuf::from(path),
        })
    }
}

/// `argv0` is a bare command name rather than a path to a `.wasm` file.
pub fn is_bare_name(argv0: &str) -> bool {
    !argv0.contains('/') && !argv0.ends_with(".wasm")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_flags_name_a_bare_command_and_a_path() {
        assert_eq!(
            ProgramSpec::parse("python=/opt/python.wasm"),
            Ok(ProgramSpec {
                name: "python".into(),
                path: "/opt/python.wasm".into()
            })
        );
        for bad in [
            "python",
            "=x.wasm",
            "a/b=x.wasm",
            "x.wasm=y.wasm",
            "py thon=x.wasm",
            "python=",
        ] {
            assert!(ProgramSpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_operators_program_replaces_a_builtin_of_its_name() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("other-node.wasm");
        std::fs::write(&file, b"\0asm").unwrap();
        let spec = ProgramSpec::parse(&format!("node={}", file.display())).unwrap();
        let programs = Programs::new(tmp.path()).with(&[spec]).unwrap();
        assert_eq!(programs.builtins.len(), 1);
        let node = programs.find("node").unwrap();
        assert_eq!(&*node.wasm, b"\0asm");
        assert!(node.summary.contains("other-node.wasm"), "{}", node.summary);
        assert!(programs.find("python").is_none());
        assert_eq!(programs.under("pi").dir, tmp.path().join("pi"));
    }
}

//! The tools the model can call: schemas generated from typed argument structs, arguments
//! validated before a tool runs, results and errors as text for the model.

mod edit;
mod find;
mod git;
mod grep;
mod ls;
mod mv;
mod read;
mod rm;
pub mod run;
mod tree;
mod write;

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde::de::DeserializeOwned;

use crate::fs::Workspace;
use crate::git::Git;
use crate::host::Host;

/// What a tool returns: text for the model, or an error text for the model.
pub type ToolOutput = Result<String, String>;

/// A tool's implementation behind its typed arguments: host and JSON arguments in, output out.
type Invoke = Box<dyn Fn(&mut dyn Host, &str) -> ToolOutput>;

/// A tool: its name, description, argument schema and implementation.
///
/// Every tool runs against a [`Host`], but each is written against the one half it needs: a file
/// tool is a `fn(&mut dyn Workspace, Args)`, a git tool a `fn(&mut dyn Git, Args)` ([`Tool::files`],
/// [`Tool::git`]), so a file tool cannot touch the repository nor a git tool the files directly.
pub struct Tool {
    pub name: &'static str,
    pub description: &'static str,
    pub schema: serde_json::Value,
    run: Invoke,
}

impl Tool {
    /// A tool over the workspace's files.
    fn files<A: DeserializeOwned + JsonSchema + 'static>(
        name: &'static str,
        description: &'static str,
        run: fn(&mut dyn Workspace, A) -> ToolOutput,
    ) -> Self {
        Self::new(name, description, move |host: &mut dyn Host, args| {
            run(host.workspace(), args)
        })
    }

    /// A tool over the git repository.
    fn git<A: DeserializeOwned + JsonSchema + 'static>(
        name: &'static str,
        description: &'static str,
        run: fn(&mut dyn Git, A) -> ToolOutput,
    ) -> Self {
        Self::new(name, description, move |host: &mut dyn Host, args| {
            run(host.git(), args)
        })
    }

    fn new<A: DeserializeOwned + JsonSchema + 'static>(
        name: &'static str,
        description: &'static str,
        run: impl Fn(&mut dyn Host, A) -> ToolOutput + 'static,
    ) -> Self {
        let invoke = move |host: &mut dyn Host, args: &str| {
            let args: A = serde_json::from_str(if args.trim().is_empty() { "{}" } else { args })
                .map_err(|e| format!("Invalid arguments for {name}: {e}"))?;
            run(host, args)
        };
        Self {
            name,
            description,
            schema: schema_of::<A>(),
            run: Box::new(invoke),
        }
    }

    /// Runs the tool with arguments given as JSON text.
    pub fn run(&self, host: &mut dyn Host, args: &str) -> ToolOutput {
        (self.run)(host, args)
    }
}

/// The JSON Schema of an argument struct, without the meta-schema and title the APIs don't need.
fn schema_of<A: JsonSchema>() -> serde_json::Value {
    let settings = SchemaSettings::draft2020_12().with(|s| {
        s.meta_schema = None;
        s.inline_subschemas = true;
    });
    let mut schema = settings.into_generator().into_root_schema_for::<A>().to_value();
    if let Some(object) = schema.as_object_mut() {
        object.remove("title");
    }
    schema
}

/// Every tool, in the order the model sees them.
pub fn all() -> Vec<Tool> {
    vec![
        Tool::files(read::NAME, read::DESCRIPTION, read::run),
        Tool::files(write::NAME, write::DESCRIPTION, write::run),
        Tool::files(edit::NAME, edit::DESCRIPTION, edit::run),
        Tool::files(ls::NAME, ls::DESCRIPTION, ls::run),
        Tool::files(grep::NAME, grep::DESCRIPTION, grep::run),
        Tool::files(find::NAME, find::DESCRIPTION, find::run),
        Tool::files(tree::NAME, tree::DESCRIPTION, tree::run),
        Tool::files(rm::NAME, rm::DESCRIPTION, rm::run),
        Tool::files(mv::NAME, mv::DESCRIPTION, mv::run),
        Tool::new(run::NAME, run::DESCRIPTION, |host: &mut dyn Host, args| {
            run::run(host.runner(), args)
        }),
        Tool::git(
            git::inspect::STATUS,
            git::inspect::STATUS_DESCRIPTION,
            git::inspect::status,
        ),
        Tool::git(git::change::ADD, git::change::ADD_DESCRIPTION, git::change::add),
        Tool::git(
            git::change::COMMIT,
            git::change::COMMIT_DESCRIPTION,
            git::change::commit,
        ),
        Tool::git(git::inspect::LOG, git::inspect::LOG_DESCRIPTION, git::inspect::log),
        Tool::git(git::inspect::DIFF, git::inspect::DIFF_DESCRIPTION, git::inspect::diff),
        Tool::git(git::inspect::SHOW, git::inspect::SHOW_DESCRIPTION, git::inspect::show),
        Tool::git(
            git::branch::BRANCH,
            git::branch::BRANCH_DESCRIPTION,
            git::branch::branch,
        ),
        Tool::git(
            git::branch::CHECKOUT,
            git::branch::CHECKOUT_DESCRIPTION,
            git::branch::checkout,
        ),
        Tool::git(
            git::change::RESTORE,
            git::change::RESTORE_DESCRIPTION,
            git::change::restore,
        ),
        Tool::git(git::change::INIT, git::change::INIT_DESCRIPTION, git::change::init),
    ]
}

/// Runs the tool `name`; an unknown name is an error the model can read.
pub fn dispatch(tools: &[Tool], host: &mut dyn Host, name: &str, args: &str) -> ToolOutput {
    match tools.iter().find(|t| t.name == name) {
        Some(tool) => tool.run(host, args),
        None => {
            let known: Vec<&str> = tools.iter().map(|t| t.name).collect();
            Err(format!("Unknown tool: {name}. Available tools: {}", known.join(", ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::Value;

    use super::*;
    use crate::git::memory::MemoryRepo;

    #[test]
    fn schemas_are_objects_with_required_fields() {
        for tool in all() {
            assert_eq!(tool.schema["type"], "object", "{}", tool.name);
            assert!(tool.schema.get("$schema").is_none());
            assert!(!tool.description.is_empty());
        }
        let read = all().into_iter().find(|t| t.name == "read").unwrap();
        assert_eq!(read.schema["required"], serde_json::json!(["path"]));
        assert!(read.schema["properties"]["path"]["description"].is_string());
    }

    /// A session one commit in, with a staged, an unstaged and an untracked change.
    fn busy_session() -> MemoryRepo {
        let mut repo = MemoryRepo::with(&[("/a.txt", "hello\nworld\n"), ("/src/b.ts", "let x = 1;\n")]);
        let git = repo.git();
        git.add(&[".".into()]).unwrap();
        git.commit("Initial commit").unwrap();
        let ws = repo.workspace();
        ws.write("/a.txt", b"hello\nthere\n").unwrap();
        ws.write("/src/c.ts", b"new\n").unwrap();
        repo.git().add(&["src/c.ts".into()]).unwrap();
        repo.workspace().write("/notes.md", b"# notes\n").unwrap();
        repo
    }

    /// A string argument: often one that names something in [`busy_session`], sometimes noise.
    fn text() -> impl Strategy<Value = String> + Clone {
        let known = [
            ".", "a.txt", "src", "src/b.ts", "nope", "main", "HEAD", "hello", "world", "..",
        ];
        prop_oneof![
            3 => proptest::sample::select(known.to_vec()).prop_map(String::from),
            1 => "[a-z./*()]{0,8}",
        ]
    }

    /// A value for a property of a tool's schema: mostly of the declared type, sometimes any.
    fn value_for(property: &Value) -> BoxedStrategy<Value> {
        let kind = match &property["type"] {
            Value::Array(kinds) => kinds.iter().filter_map(Value::as_str).find(|k| *k != "null"),
            kind => kind.as_str(),
        };
        let typed = match kind {
            Some("string") => text().prop_map(Value::from).boxed(),
            Some("integer") => prop_oneof![4 => 0i64..20, 1 => -2i64..3000]
                .prop_map(Value::from)
                .boxed(),
            Some("boolean") => any::<bool>().prop_map(Value::from).boxed(),
            Some("array") => proptest::collection::vec(text(), 0..3).prop_map(Value::from).boxed(),
            _ => Just(Value::Null).boxed(),
        };
        let any_value = prop_oneof![
            Just(Value::Null),
            (-5i64..5).prop_map(Value::from),
            text().prop_map(Value::from),
            Just(serde_json::json!({})),
        ];
        prop_oneof![9 => typed, 1 => any_value].boxed()
    }

    /// Argument text for `tool`: mangled text, or a JSON object over the properties of its schema
    /// (each present or not).
    fn arguments(tool: &Tool) -> BoxedStrategy<String> {
        let properties = tool.schema["properties"].as_object().cloned().unwrap_or_default();
        let fields: Vec<_> = properties
            .into_iter()
            .map(|(name, property)| {
                let field = value_for(&property).prop_map(move |value| (name.clone(), value));
                proptest::option::weighted(0.85, field)
            })
            .collect();
        let object = fields.prop_map(|fields| Value::Object(fields.into_iter().flatten().collect()).to_string());
        prop_oneof![1 => "\\PC{0,40}", 6 => object].boxed()
    }

    /// A tool's index in [`all`] and argument text for it.
    fn call() -> impl Strategy<Value = (usize, String)> {
        (0..all().len()).prop_flat_map(|tool| (Just(tool), arguments(&all()[tool])))
    }

    proptest::proptest! {
        /// No sequence of calls, with any argument text, makes any tool panic (git tools included,
        /// against the in-memory repository): each runs or says in words what is wrong.
        #[test]
        fn tools_never_panic_on_arbitrary_arguments(
            calls in proptest::collection::vec(call(), 1..8),
        ) {
            let tools = all();
            let mut repo = busy_session();
            for (tool, args) in &calls {
                if let Err(message) = dispatch(&tools, &mut repo, tools[*tool].name, args) {
                    prop_assert!(!message.trim().is_empty(), "{} {args}: empty error", tools[*tool].name);
                }
                prop_assert!(repo.git().status().is_ok());
            }
        }
    }

    #[test]
    fn unknown_tools_and_bad_arguments_are_readable_errors() {
        let tools = all();
        let mut repo = MemoryRepo::default();
        let err = dispatch(&tools, &mut repo, "bash", "{}").unwrap_err();
        assert!(
            err.starts_with("Unknown tool: bash. Available tools: read, write"),
            "{err}"
        );
        let err = dispatch(&tools, &mut repo, "read", "{}").unwrap_err();
        assert!(
            err.contains("Invalid arguments for read: missing field `path`"),
            "{err}"
        );
        let err = dispatch(&tools, &mut repo, "read", "{\"path\": 3}").unwrap_err();
        assert!(err.contains("invalid type"), "{err}");
        let err = dispatch(&tools, &mut repo, "read", "not json").unwrap_err();
        assert!(err.starts_with("Invalid arguments for read"), "{err}");
    }

    #[test]
    fn file_and_git_tools_share_the_session() {
        let tools = all();
        let mut repo = busy_session();
        let run = |repo: &mut MemoryRepo, name: &str, args: &str| dispatch(&tools, repo, name, args).unwrap();
        run(&mut repo, "write", r#"{"path":"src/d.ts","content":"d\n"}"#);
        run(&mut repo, "rm", r#"{"path":"src/b.ts"}"#);
        run(&mut repo, "git_add", r#"{"paths":["src"]}"#);
        let status = run(&mut repo, "git_status", "{}");
        assert!(
            status.contains("deleted: src/b.ts\n  new file: src/c.ts\n  new file: src/d.ts"),
            "{status}"
        );
        run(&mut repo, "git_checkout", r#"{"ref":"side","create":true}"#);
        run(&mut repo, "git_commit", r#"{"message":"Move to d"}"#);
        run(&mut repo, "git_restore", r#"{"path":"a.txt"}"#);
        let checkout = run(&mut repo, "git_checkout", r#"{"ref":"main"}"#);
        assert_eq!(checkout, "Switched to branch 'main' (1 file(s) updated, 2 removed)");
        assert_eq!(run(&mut repo, "read", r#"{"path":"src/b.ts"}"#), "let x = 1;\n");
        assert_eq!(run(&mut repo, "ls", r#"{"path":"src"}"#), "b.ts");
    }
}

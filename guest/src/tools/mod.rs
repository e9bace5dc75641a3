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
mod tree;
mod write;

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde::de::DeserializeOwned;

use crate::fs::Workspace;

/// What a tool returns: text for the model, or an error text for the model.
pub type ToolOutput = Result<String, String>;

/// A tool's implementation behind its typed arguments: workspace and JSON arguments in, output out.
type Invoke = Box<dyn Fn(&mut dyn Workspace, &str) -> ToolOutput>;

/// A tool: its name, description, argument schema and implementation.
pub struct Tool {
    pub name: &'static str,
    pub description: &'static str,
    pub schema: serde_json::Value,
    run: Invoke,
}

impl Tool {
    fn new<A: DeserializeOwned + JsonSchema + 'static>(
        name: &'static str,
        description: &'static str,
        run: fn(&mut dyn Workspace, A) -> ToolOutput,
    ) -> Self {
        let invoke = move |ws: &mut dyn Workspace, args: &str| {
            let args: A = serde_json::from_str(if args.trim().is_empty() { "{}" } else { args })
                .map_err(|e| format!("Invalid arguments for {name}: {e}"))?;
            run(ws, args)
        };
        Self {
            name,
            description,
            schema: schema_of::<A>(),
            run: Box::new(invoke),
        }
    }

    /// Runs the tool with arguments given as JSON text.
    pub fn run(&self, ws: &mut dyn Workspace, args: &str) -> ToolOutput {
        (self.run)(ws, args)
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
        Tool::new(read::NAME, read::DESCRIPTION, read::run),
        Tool::new(write::NAME, write::DESCRIPTION, write::run),
        Tool::new(edit::NAME, edit::DESCRIPTION, edit::run),
        Tool::new(ls::NAME, ls::DESCRIPTION, ls::run),
        Tool::new(grep::NAME, grep::DESCRIPTION, grep::run),
        Tool::new(find::NAME, find::DESCRIPTION, find::run),
        Tool::new(tree::NAME, tree::DESCRIPTION, tree::run),
        Tool::new(rm::NAME, rm::DESCRIPTION, rm::run),
        Tool::new(mv::NAME, mv::DESCRIPTION, mv::run),
        Tool::new(
            git::inspect::STATUS,
            git::inspect::STATUS_DESCRIPTION,
            git::inspect::status,
        ),
        Tool::new(git::change::ADD, git::change::ADD_DESCRIPTION, git::change::add),
        Tool::new(
            git::change::COMMIT,
            git::change::COMMIT_DESCRIPTION,
            git::change::commit,
        ),
        Tool::new(git::inspect::LOG, git::inspect::LOG_DESCRIPTION, git::inspect::log),
        Tool::new(git::inspect::DIFF, git::inspect::DIFF_DESCRIPTION, git::inspect::diff),
        Tool::new(git::inspect::SHOW, git::inspect::SHOW_DESCRIPTION, git::inspect::show),
        Tool::new(
            git::branch::BRANCH,
            git::branch::BRANCH_DESCRIPTION,
            git::branch::branch,
        ),
        Tool::new(
            git::branch::CHECKOUT,
            git::branch::CHECKOUT_DESCRIPTION,
            git::branch::checkout,
        ),
        Tool::new(
            git::change::RESTORE,
            git::change::RESTORE_DESCRIPTION,
            git::change::restore,
        ),
        Tool::new(git::change::INIT, git::change::INIT_DESCRIPTION, git::change::init),
    ]
}

/// Runs the tool `name`; an unknown name is an error the model can read.
pub fn dispatch(tools: &[Tool], ws: &mut dyn Workspace, name: &str, args: &str) -> ToolOutput {
    match tools.iter().find(|t| t.name == name) {
        Some(tool) => tool.run(ws, args),
        None => {
            let known: Vec<&str> = tools.iter().map(|t| t.name).collect();
            Err(format!("Unknown tool: {name}. Available tools: {}", known.join(", ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::memory::MemoryWorkspace;

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

    proptest::proptest! {
        /// No argument text, however mangled, makes a tool panic: it runs or says what is wrong.
        #[test]
        fn tools_never_panic_on_arbitrary_arguments(
            tool in 0usize..9,
            args in proptest::prop_oneof![
                "\\PC{0,40}",
                "\\{\"(path|pattern|content|oldText|newText|from|to|offset|limit|depth|glob)\": ?(\"[a-z./*]{0,8}\"|-?[0-9]{1,3}|null|true|\\[\\]|\\{\\})\\}",
            ],
        ) {
            let tools = all();
            let mut ws = MemoryWorkspace::with(&[("/a.txt", "hello\nworld\n"), ("/src/b.ts", "let x = 1;\n")]);
            let _ = dispatch(&tools, &mut ws, tools[tool].name, &args);
        }
    }

    #[test]
    fn unknown_tools_and_bad_arguments_are_readable_errors() {
        let tools = all();
        let mut ws = MemoryWorkspace::default();
        let err = dispatch(&tools, &mut ws, "bash", "{}").unwrap_err();
        assert!(
            err.starts_with("Unknown tool: bash. Available tools: read, write"),
            "{err}"
        );
        let err = dispatch(&tools, &mut ws, "read", "{}").unwrap_err();
        assert!(
            err.contains("Invalid arguments for read: missing field `path`"),
            "{err}"
        );
        let err = dispatch(&tools, &mut ws, "read", "{\"path\": 3}").unwrap_err();
        assert!(err.contains("invalid type"), "{err}");
        let err = dispatch(&tools, &mut ws, "read", "not json").unwrap_err();
        assert!(err.starts_with("Invalid arguments for read"), "{err}");
    }
}

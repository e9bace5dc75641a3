//! `run`: run a WebAssembly command over the workspace, as a shell would start it.

use schemars::JsonSchema;
use serde::Deserialize;

use super::ToolOutput;
use crate::bindings::pi::worker::process::{Builtin, Exit, Outcome, RunError, RunRequest};
use crate::truncate::{MAX_BYTES, MAX_LINES, format_size, truncate_head, with_notices};

pub const NAME: &str = "run";
pub const DESCRIPTION: &str = "Run a command in a sandbox over the workspace, which it sees as `/` \
(read-write; files it writes land in the workspace). The command is a `.wasm` program \
(a wasi:cli/command component) in the workspace, by path, with arguments: `./tools/check.wasm src`, \
or a built-in program by name. \
The line is split like a shell's, with quotes and backslashes, but there are no pipes, redirections, \
globs or variables. No network. Returns the exit code and stdout+stderr interleaved.";

/// The tool's description with the host's built-in programs named (`process.builtins`).
pub fn description(builtins: &[Builtin]) -> String {
    if builtins.is_empty() {
        return format!("{DESCRIPTION} This server has no built-in programs.");
    }
    let named: Vec<String> = builtins
        .iter()
        .map(|b| format!("`{}`: {}", b.name, b.summary))
        .collect();
    format!("{DESCRIPTION} Built-in programs: {}", named.join(" "))
}

#[derive(Deserialize, JsonSchema)]
pub struct Args {
    /// The command line: a `.wasm` program's path and its arguments
    command: String,
    /// Seconds before the program is stopped (default and maximum: the server's limit)
    timeout: Option<f64>,
}

/// What runs a program: the `process` import, or a test double.
pub trait Runner {
    /// Runs `request` to its end or a limit.
    fn run(&mut self, request: &RunRequest) -> Result<Outcome, RunError>;
}

pub fn run(runner: &mut dyn Runner, args: Args) -> ToolOutput {
    let argv = shlex::split(&args.command)
        .ok_or_else(|| format!("Cannot parse the command line (an unclosed quote?): {}", args.command))?;
    let timeout_ms = args.timeout.map_or(0, |s| (s.max(0.001) * 1000.0) as u64);
    let outcome = runner.run(&RunRequest { argv, timeout_ms }).map_err(|e| describe(&e))?;
    let head = truncate_head(outcome.output.trim_end_matches('\n'), MAX_LINES, MAX_BYTES);
    let mut notices = Vec::new();
    if outcome.output_truncated {
        notices.push("Output cut at the server's limit".to_string());
    } else if head.truncated_by.is_some() {
        notices.push(format!(
            "Output cut at {} lines or {}",
            MAX_LINES,
            format_size(MAX_BYTES)
        ));
    }
    if !outcome.changed.is_empty() {
        notices.push(format!("Changed: {}", outcome.changed.join(", ")));
    }
    let status = match &outcome.exit {
        Exit::Code(code) => format!("Exit code {code}"),
        Exit::Trap(message) => format!("The program crashed (trap): {message}"),
        Exit::CpuLimit => "Stopped: CPU time limit reached".to_string(),
        Exit::Timeout => "Stopped: time limit reached".to_string(),
        Exit::MemoryLimit => "Stopped: memory limit reached".to_string(),
        Exit::Aborted => "Stopped: the chat was aborted".to_string(),
    };
    notices.push(format!("{status} after {} ms", outcome.elapsed_ms));
    let text = with_notices(head.content, &notices)
        .trim_start_matches('\n')
        .to_string();
    match outcome.exit {
        Exit::Code(0) => Ok(text),
        _ => Err(text),
    }
}

fn describe(e: &RunError) -> String {
    match e {
        RunError::EmptyCommand => "Empty command".to_string(),
        RunError::NotFound(path) => format!("Program not found in the workspace or among the built-ins: {path}"),
        RunError::NotRunnable(why) => format!("Not a runnable wasi:cli/command component: {why}"),
        RunError::Unsupported(why) => format!("Cannot run programs here: {why}"),
        RunError::WriteBack(why) => format!("The program ran, but its files could not be stored: {why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Recorded(Vec<RunRequest>, Outcome);

    impl Runner for Recorded {
        fn run(&mut self, request: &RunRequest) -> Result<Outcome, RunError> {
            self.0.push(request.clone());
            Ok(self.1.clone())
        }
    }

    #[test]
    fn splits_like_a_shell_and_reports_the_exit() {
        let outcome = Outcome {
            exit: Exit::Code(3),
            output: "hi\n".into(),
            output_truncated: false,
            changed: vec!["/out.txt".into()],
            elapsed_ms: 4,
        };
        let mut runner = Recorded(Vec::new(), outcome);
        let args = serde_json::from_str(r#"{"command": "./x.wasm 'a b' c\\ d", "timeout": 2}"#).unwrap();
        let err = run(&mut runner, args).unwrap_err();
        assert_eq!(runner.0[0].argv, ["./x.wasm", "a b", "c d"]);
        assert_eq!(runner.0[0].timeout_ms, 2000);
        assert_eq!(err, "hi\n\n[Changed: /out.txt. Exit code 3 after 4 ms]");
        let unclosed = serde_json::from_str(r#"{"command": "x 'a"}"#).unwrap();
        assert!(run(&mut runner, unclosed).unwrap_err().starts_with("Cannot parse"));
    }

    #[test]
    fn the_description_names_the_hosts_built_in_programs() {
        assert!(description(&[]).ends_with("This server has no built-in programs."));
        let node = Builtin {
            name: "node".into(),
            summary: "Runs JavaScript.".into(),
        };
        assert!(description(&[node]).ends_with("Built-in programs: `node`: Runs JavaScript."));
    }
}

//! How a streaming chat shows in the terminal.
//!
//! - The answer's text goes to stdout as it arrives. Text from different model turns is
//!   separated by a blank line, as in the reply's `response`, and what the reply says beyond
//!   the streamed text (`[Stopped: …]`) is printed at the end, so stdout reads as `response`.
//! - Tool calls show on stderr as compact lines ([`super::tool_line`]), with a spinner while
//!   one runs when stderr is a terminal (never any escape codes when it is not).
//! - A summary line on stderr closes the chat: stop reason, tool calls, tokens.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;

use super::tool_line;

/// How often a spinner turns.
const SPIN_INTERVAL: Duration = Duration::from_millis(100);

/// A running tool call: its line, and its spinner when stderr is a terminal.
struct RunningTool {
    line: String,
    spinner: Option<ProgressBar>,
}

/// The terminal's view of one chat.
pub struct ChatView {
    /// Print the answer's text (not with `--json`).
    print_text: bool,
    stdout_is_terminal: bool,
    /// The spinners, drawn on stderr when it is a terminal.
    spinners: Option<MultiProgress>,
    running: HashMap<String, RunningTool>,
    /// The answer's text printed so far, separators included: a prefix of the reply's
    /// `response` (unless events were missed).
    streamed: String,
    /// A tool ran since the last text: the next text starts a new turn.
    new_turn: bool,
    /// Line breaks on the screen after `streamed` that are not part of it: stdout was moved
    /// to a new line for a tool line on the same terminal.
    extra_newlines: usize,
}

impl ChatView {
    /// A view for one chat; `print_text` is false with `--json`.
    pub fn new(print_text: bool) -> Self {
        let spinners = std::io::stderr()
            .is_terminal()
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Self {
            print_text,
            stdout_is_terminal: std::io::stdout().is_terminal(),
            spinners,
            running: HashMap::new(),
            streamed: String::new(),
            new_turn: false,
            extra_newlines: 0,
        }
    }

    /// Shows one event of the chat's stream (`text_delta`, `tool_start`, `tool_end`,
    /// `compaction`, `lagged`); others are not for the terminal.
    pub fn event(&mut self, name: &str, data: &Value) -> std::io::Result<()> {
        match name {
            "text_delta" => {
                let text = data["text"].as_str().unwrap_or_default();
                if text.is_empty() {
                    return Ok(());
                }
                let new_turn = std::mem::take(&mut self.new_turn);
                if new_turn && !self.streamed.is_empty() {
                    self.text(&format!("\n\n{text}"))
                } else {
                    self.text(text)
                }
            }
            "tool_start" => {
                self.new_turn = true;
                let line = tool_line::running(data["tool"].as_str().unwrap_or("tool"), &data["args"]);
                let spinner = self.spinner(&line)?;
                let id = data["id"].as_str().unwrap_or_default().to_string();
                self.running.insert(id, RunningTool { line, spinner });
                Ok(())
            }
            "tool_end" => {
                self.new_turn = true;
                let id = data["id"].as_str().unwrap_or_default();
                let running = self.running.remove(id).unwrap_or_else(|| RunningTool {
                    line: data["tool"].as_str().unwrap_or("tool").to_string(),
                    spinner: None,
                });
                if let Some(spinner) = running.spinner {
                    spinner.finish_and_clear();
                }
                let result = data["result"].as_str().unwrap_or_default();
                let is_error = data["isError"].as_bool().unwrap_or(false);
                self.note(&tool_line::finished(&running.line, is_error, result))
            }
            "compaction" => self.note(&format!(
                "⋯ older turns summarised: about {} → {} tokens",
                data["tokensBefore"], data["tokensAfter"]
            )),
            "lagged" => self.note(&format!(
                "⚠ {} events missed (the connection fell behind)",
                data["missed"]
            )),
            _ => Ok(()),
        }
    }

    /// A spinner turning beside `line` until the call ends, when stderr is a terminal.
    fn spinner(&mut self, line: &str) -> std::io::Result<Option<ProgressBar>> {
        let Some(spinners) = self.spinners.clone() else {
            return Ok(None);
        };
        self.end_text_line()?;
        let spinner = spinners.add(ProgressBar::new_spinner());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
            spinner.set_style(style);
        }
        spinner.set_message(line.to_string());
        spinner.enable_steady_tick(SPIN_INTERVAL);
        Ok(Some(spinner))
    }

    /// Writes a line on stderr, above the spinners.
    pub fn note(&mut self, line: &str) -> std::io::Result<()> {
        self.end_text_line()?;
        match &self.spinners {
            Some(spinners) => spinners.suspend(|| writeln!(std::io::stderr(), "{line}")),
            None => writeln!(std::io::stderr(), "{line}"),
        }
    }

    /// Ends the chat with its reply: the rest of its `response`, a final line break, and the
    /// summary line on stderr.
    pub fn finish(&mut self, reply: &Value) -> std::io::Result<()> {
        self.clear_spinners();
        if self.print_text {
            let response = reply["response"].as_str().unwrap_or_default();
            if let Some(rest) = response.strip_prefix(self.streamed.as_str()) {
                self.text(rest)?;
            }
            if !self.streamed.is_empty() && !self.streamed.ends_with('\n') && self.extra_newlines == 0 {
                self.extra_newlines = 1;
                self.write_stdout("\n")?;
            }
        }
        self.note(&summary(reply))
    }

    /// Removes the spinners of calls that will not end (the chat failed or was interrupted).
    pub fn clear_spinners(&mut self) {
        for (_, running) in self.running.drain() {
            if let Some(spinner) = running.spinner {
                spinner.finish_and_clear();
            }
        }
    }

    /// Prints answer text on stdout, without the line breaks the screen already has.
    fn text(&mut self, text: &str) -> std::io::Result<()> {
        if !self.print_text || text.is_empty() {
            return Ok(());
        }
        let leading = text.len() - text.trim_start_matches('\n').len();
        let skip = leading.min(self.extra_newlines);
        self.extra_newlines -= skip;
        if leading < text.len() {
            self.extra_newlines = 0;
        }
        self.streamed.push_str(text);
        self.write_stdout(&text[skip..])
    }

    /// Moves stdout to a new line before a line on stderr, when both show on one terminal.
    fn end_text_line(&mut self) -> std::io::Result<()> {
        let mid_line = !self.streamed.is_empty() && !self.streamed.ends_with('\n') && self.extra_newlines == 0;
        if self.print_text && self.stdout_is_terminal && self.spinners.is_some() && mid_line {
            self.extra_newlines = 1;
            self.write_stdout("\n")?;
        }
        Ok(())
    }

    fn write_stdout(&self, text: &str) -> std::io::Result<()> {
        let write = || {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()
        };
        match &self.spinners {
            Some(spinners) if !self.running.is_empty() => spinners.suspend(write),
            _ => write(),
        }
    }
}

/// The closing line: `end_turn · 2 tool calls · 1520 tokens in, 42 out`.
fn summary(reply: &Value) -> String {
    let stop = reply["stopReason"].as_str().unwrap_or("done");
    let calls = reply["toolCalls"].as_array().map_or(0, Vec::len);
    let usage = &reply["usage"];
    let count = |key: &str| usage[key].as_u64().unwrap_or(0);
    let mut line = format!(
        "— {stop} · {calls} tool call{} · {} tokens in, {} out",
        if calls == 1 { "" } else { "s" },
        count("inputTokens"),
        count("outputTokens"),
    );
    let (read, written) = (count("cacheReadTokens"), count("cacheWriteTokens"));
    if read + written > 0 {
        line.push_str(&format!(" (cache: {read} read, {written} written)"));
    }
    line
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_summary_gives_the_stop_reason_calls_and_tokens() {
        let reply = json!({
            "stopReason": "end_turn",
            "toolCalls": [{ "tool": "read", "args": {} }],
            "usage": { "inputTokens": 10, "outputTokens": 3, "cacheReadTokens": 0, "cacheWriteTokens": 0 },
        });
        assert_eq!(summary(&reply), "— end_turn · 1 tool call · 10 tokens in, 3 out");
        let reply = json!({
            "stopReason": "max_turns",
            "toolCalls": [],
            "usage": { "inputTokens": 10, "outputTokens": 3, "cacheReadTokens": 7, "cacheWriteTokens": 2 },
        });
        assert_eq!(
            summary(&reply),
            "— max_turns · 0 tool calls · 10 tokens in, 3 out (cache: 7 read, 2 written)"
        );
    }
}

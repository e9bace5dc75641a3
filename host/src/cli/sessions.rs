//! `pi-worker sessions`: the caller's sessions, newest first, as a table (or JSON with
//! `--json`). It follows the listing's `nextCursor` through every page, or stops at `--limit`.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::client::ServerClient;
use super::{CliError, ServerArgs};

/// Sessions asked for per request.
const PAGE: usize = 100;
/// Longest title shown in the table, in characters.
const TITLE_CHARS: usize = 60;

/// The arguments of `pi-worker sessions`.
#[derive(clap::Args, Debug)]
pub struct SessionsArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// List at most this many (the newest) [default: all].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    limit: Option<u64>,
    /// Print `{"sessions": [...], "nextCursor"}` as the server gives them, pages joined.
    #[arg(long)]
    json: bool,
}

/// Runs `pi-worker sessions`.
pub fn run(args: SessionsArgs) -> Result<(), CliError> {
    let client = ServerClient::new(&args.server)?;
    let limit = args
        .limit
        .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    let (sessions, next_cursor) = super::runtime()?.block_on(list(&client, limit))?;
    if args.json {
        println!("{}", json!({ "sessions": sessions, "nextCursor": next_cursor }));
    } else if sessions.is_empty() {
        eprintln!("no sessions");
    } else {
        print!("{}", table(&sessions, SystemTime::now()));
    }
    Ok(())
}

/// Up to `limit` sessions, page by page, and the cursor after the last one listed (`null`
/// when there are no more).
async fn list(client: &ServerClient, limit: usize) -> Result<(Vec<Value>, Value), CliError> {
    let mut sessions = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let want = (limit - sessions.len()).min(PAGE);
        let mut page = client.sessions_page(want, cursor.as_deref()).await?;
        let Value::Array(listed) = page["sessions"].take() else {
            return Err(CliError::Connection(format!(
                "the server's listing has no sessions: {page}"
            )));
        };
        sessions.extend(listed);
        let next = page["nextCursor"].take();
        match next.as_str() {
            Some(next) if sessions.len() < limit => cursor = Some(next.to_string()),
            _ => return Ok((sessions, next)),
        }
    }
}

/// The sessions as aligned columns: id, when last updated, files, messages, title.
fn table(sessions: &[Value], now: SystemTime) -> String {
    let rows: Vec<[String; 5]> = sessions
        .iter()
        .map(|s| {
            [
                s["sessionId"].as_str().unwrap_or_default().to_string(),
                s["updatedAt"].as_u64().map_or_else(|| "-".into(), |ms| ago(ms, now)),
                s["fileCount"].to_string(),
                s["messageCount"].to_string(),
                title(s["title"].as_str().unwrap_or_default()),
            ]
        })
        .collect();
    let header = ["SESSION", "UPDATED", "FILES", "MESSAGES", "TITLE"].map(String::from);
    let widths: Vec<usize> = (0..4)
        .map(|column| {
            std::iter::once(&header)
                .chain(&rows)
                .map(|row| row[column].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let line = format!(
            "{:<w0$}  {:<w1$}  {:>w2$}  {:>w3$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

/// A title on one line, cut to [`TITLE_CHARS`].
fn title(title: &str) -> String {
    let line = title.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= TITLE_CHARS {
        return line;
    }
    let mut cut: String = line.chars().take(TITLE_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// How long ago a time in milliseconds since the epoch was: `just now`, `5 min ago`, `3 h ago`,
/// `2 days ago`, or its date (`28 Nov 2026`) after a month.
fn ago(ms: u64, now: SystemTime) -> String {
    let then = UNIX_EPOCH + Duration::from_millis(ms);
    let secs = now.duration_since(then).unwrap_or_default().as_secs();
    match secs {
        0..60 => "just now".into(),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86_400 => format!("{} h ago", secs / 3600),
        86_400..172_800 => "1 day ago".into(),
        172_800..2_592_000 => format!("{} days ago", secs / 86_400),
        _ => httpdate::fmt_http_date(then).get(5..16).unwrap_or_default().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_how_long_ago() {
        let now = UNIX_EPOCH + Duration::from_secs(1_795_860_000);
        let ms = |secs_ago: u64| (1_795_860_000 - secs_ago) * 1000;
        assert_eq!(ago(ms(5), now), "just now");
        assert_eq!(ago(ms(300), now), "5 min ago");
        assert_eq!(ago(ms(3 * 3600 + 5), now), "3 h ago");
        assert_eq!(ago(ms(86_400 + 5), now), "1 day ago");
        assert_eq!(ago(ms(9 * 86_400), now), "9 days ago");
        assert_eq!(ago(ms(60 * 86_400), now), "29 Sep 2026");
        assert_eq!(
            ago(1_795_860_000 * 1000 + 5000, now),
            "just now",
            "a clock behind the server's"
        );
    }

    #[test]
    fn the_table_aligns_its_columns_and_cuts_long_titles() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let sessions = [
            json!({ "sessionId": "abc", "updatedAt": 999_000_000, "fileCount": 5, "messageCount": 12,
                    "title": "Add a\nsubtract function" }),
            json!({ "sessionId": "a-longer-id", "updatedAt": 400_000_000, "fileCount": 120, "messageCount": 0,
                    "title": null }),
        ];
        let expected = "\
SESSION      UPDATED     FILES  MESSAGES  TITLE
abc          16 min ago      5        12  Add a subtract function
a-longer-id  6 days ago    120         0\n";
        assert_eq!(table(&sessions, now), expected);
        assert_eq!(title(&"x".repeat(100)).chars().count(), TITLE_CHARS);
    }
}

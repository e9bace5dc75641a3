//! Output limits shared by the tools (pi's `truncate.ts`): whole lines from the head, bounded by
//! a line count and a byte count, whichever is hit first.

/// Most lines a tool returns.
pub const MAX_LINES: usize = 2000;
/// Most bytes a tool returns.
pub const MAX_BYTES: usize = 50 * 1024;
/// Longest line grep shows, in characters.
pub const GREP_MAX_LINE_CHARS: usize = 500;

/// Which limit cut the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TruncatedBy {
    Lines,
    Bytes,
}

/// The kept head of some text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub content: String,
    pub truncated_by: Option<TruncatedBy>,
    /// Lines in the input.
    pub total_lines: usize,
    /// Whole lines kept.
    pub output_lines: usize,
    /// The first line alone exceeds the byte limit (nothing kept).
    pub first_line_too_long: bool,
}

/// Keeps whole lines from the start of `text` within `max_lines` and `max_bytes`.
pub fn truncate_head(text: &str, max_lines: usize, max_bytes: usize) -> Head {
    let lines: Vec<&str> = text.split('\n').collect();
    let total_lines = lines.len();
    if total_lines <= max_lines && text.len() <= max_bytes {
        return Head {
            content: text.to_string(),
            truncated_by: None,
            total_lines,
            output_lines: total_lines,
            first_line_too_long: false,
        };
    }
    if lines[0].len() > max_bytes {
        return Head {
            content: String::new(),
            truncated_by: Some(TruncatedBy::Bytes),
            total_lines,
            output_lines: 0,
            first_line_too_long: true,
        };
    }
    let mut bytes = 0;
    let mut kept = 0;
    let mut by = TruncatedBy::Lines;
    for (i, line) in lines.iter().take(max_lines).enumerate() {
        let cost = line.len() + usize::from(i > 0);
        if bytes + cost > max_bytes {
            by = TruncatedBy::Bytes;
            break;
        }
        bytes += cost;
        kept += 1;
    }
    Head {
        content: lines[..kept].join("\n"),
        truncated_by: Some(by),
        total_lines,
        output_lines: kept,
        first_line_too_long: false,
    }
}

/// A line already cut to its first characters (by the host's search), marked as cut.
pub fn mark_cut(line: &str) -> String {
    format!("{line}... [truncated]")
}

/// A byte count for people: `512B`, `50.0KB`, `1.5MB` (halves round up, as JavaScript's `toFixed`).
pub fn format_size(bytes: usize) -> String {
    let one_decimal = |value: f64| (value * 10.0 + 0.5).floor() / 10.0;
    if bytes < 1024 {
        format!("{bytes}B")
    } else if bytes < 1024 * 1024 {
        format!("{:.1}KB", one_decimal(bytes as f64 / 1024.0))
    } else {
        format!("{:.1}MB", one_decimal(bytes as f64 / (1024.0 * 1024.0)))
    }
}

/// Appends pi's notice block (`\n\n[a. b]`) when there are notices.
pub fn with_notices(mut output: String, notices: &[String]) -> String {
    if !notices.is_empty() {
        output.push_str("\n\n[");
        output.push_str(&notices.join(". "));
        output.push(']');
    }
    output
}

/// A search tool's result lines, cut to [`MAX_BYTES`], followed by pi's notices in order:
/// `count_limit` (the tool's own result limit was reached), the byte limit when it cut, then `last`.
pub fn listing(lines: &[String], count_limit: Option<String>, last: Option<String>) -> String {
    let head = truncate_head(&lines.join("\n"), usize::MAX, MAX_BYTES);
    let bytes_limit = head
        .truncated_by
        .map(|_| format!("{} limit reached", format_size(MAX_BYTES)));
    let notices: Vec<String> = [count_limit, bytes_limit, last].into_iter().flatten().collect();
    with_notices(head.content, &notices)
}

/// `text` cut to at most `max_bytes` (at a character boundary), ending with how much was cut.
pub fn cut_chars(text: &str, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text.to_string();
    }
    let cut = text.floor_char_boundary(max_bytes);
    format!("{}[… {} more bytes cut]", &text[..cut], text.len() - cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_short_text_whole() {
        let h = truncate_head("a\nb\n", 10, 100);
        assert_eq!((h.content.as_str(), h.truncated_by, h.total_lines), ("a\nb\n", None, 3));
    }

    #[test]
    fn cuts_by_lines_then_bytes_and_flags_a_huge_first_line() {
        let h = truncate_head("1\n2\n3\n4", 2, 100);
        assert_eq!(
            (h.content.as_str(), h.truncated_by, h.output_lines),
            ("1\n2", Some(TruncatedBy::Lines), 2)
        );
        let h = truncate_head("aaaa\nbbbb\ncccc", 100, 9);
        assert_eq!(
            (h.content.as_str(), h.truncated_by),
            ("aaaa\nbbbb", Some(TruncatedBy::Bytes))
        );
        let h = truncate_head("aaaaaaaaaa\nb", 100, 5);
        assert!(h.first_line_too_long);
        assert_eq!(h.content, "");
    }

    #[test]
    fn cut_chars_keeps_whole_characters_and_says_how_much_went() {
        assert_eq!(cut_chars("short", 10), "short");
        assert_eq!(cut_chars("ééé", 3), "é[… 4 more bytes cut]");
    }

    #[test]
    fn lines_and_sizes() {
        assert_eq!(mark_cut("hél"), "hél... [truncated]");
        assert_eq!(format_size(51200), "50.0KB");
        assert_eq!(format_size(1280), "1.3KB");
        assert_eq!(format_size(10), "10B");
        assert_eq!(format_size(3 * 1024 * 1024 / 2), "1.5MB");
    }

    #[test]
    fn listings_carry_their_notices_in_order() {
        let lines = |n: usize| (0..n).map(|i| format!("{i:09}")).collect::<Vec<_>>();
        assert_eq!(listing(&lines(2), None, None), "000000000\n000000001");
        assert_eq!(
            listing(&lines(1), Some("1 results limit reached".into()), Some("also".into())),
            "000000000\n\n[1 results limit reached. also]"
        );
        let cut = listing(&lines(10_000), Some("count".into()), None);
        assert!(cut.ends_with("\n\n[count. 50.0KB limit reached]"), "{cut}");
        assert!(cut.len() < MAX_BYTES + 100);
    }
}

use super::*;
use crate::storage::StorageOptions;
use crate::storage::tests::{WorktreeCalls, db};

fn options(pattern: &str) -> SearchOptions {
    SearchOptions {
        pattern: pattern.into(),
        literal: false,
        ignore_case: false,
        context: 0,
        max_matches: 100,
        max_line_chars: 500,
    }
}

fn line(number: u64, text: &str, is_match: bool) -> Line {
    Line {
        number,
        text: text.into(),
        truncated: false,
        is_match,
    }
}

fn paths(p: &[&str]) -> Vec<String> {
    p.iter().map(|p| p.to_string()).collect()
}

#[test]
fn finds_lines_in_the_order_given_with_context_once() {
    let (_tmp, mut db) = db(StorageOptions::default());
    db.write_file("/a.txt", b"one\nfoo\ntwo\nfoo\nthree\nfour\nfive\nfoo")
        .unwrap();
    db.write_file("/b.txt", b"foo\n").unwrap();
    let search = |o: &SearchOptions| {
        db.read(|s| search(s, &paths(&["b.txt", "/a.txt", "/none"]), o))
            .unwrap()
    };
    let found = search(&SearchOptions {
        context: 1,
        ..options("foo")
    });
    assert_eq!(found.files.len(), 2);
    assert_eq!(found.files[0].path, "/b.txt");
    // The empty line after b.txt's final newline is context, never a match.
    assert_eq!(found.files[0].lines, vec![line(1, "foo", true), line(2, "", false)]);
    assert_eq!(
        found.files[1].lines,
        vec![
            line(1, "one", false),
            line(2, "foo", true),
            line(3, "two", false),
            line(4, "foo", true),
            line(5, "three", false),
            line(7, "five", false),
            line(8, "foo", true),
        ]
    );
    assert!(!found.more && found.binary.is_empty());
    let found = search(&SearchOptions {
        ignore_case: true,
        literal: true,
        ..options("F.O")
    });
    assert!(found.files.is_empty());
    let found = search(&SearchOptions {
        ignore_case: true,
        ..options("^F.O$")
    });
    assert_eq!(found.files.iter().map(|f| f.lines.len()).sum::<usize>(), 4);
}

#[test]
fn stops_past_the_limit_with_the_last_match_s_context() {
    let (_tmp, mut db) = db(StorageOptions::default());
    db.write_file("/a", b"x1\nx2\nx3\nx4\nx5\n").unwrap();
    db.write_file("/b", b"x\n").unwrap();
    let search = |o: &SearchOptions| db.read(|s| search(s, &paths(&["/a", "/b"]), o)).unwrap();
    let found = search(&SearchOptions {
        max_matches: 2,
        context: 1,
        ..options("x")
    });
    // Line 3 matches too, but past the limit: it is the second match's context.
    assert_eq!(
        found.files,
        vec![FileMatches {
            path: "/a".into(),
            lines: vec![line(1, "x1", true), line(2, "x2", true), line(3, "x3", false)]
        }]
    );
    assert!(found.more);
    // The limit reached on a file's last match: the next file tells whether there are more.
    let found = search(&SearchOptions {
        max_matches: 5,
        ..options("x")
    });
    assert!(found.more && found.files.len() == 1);
    let found = search(&SearchOptions {
        max_matches: 6,
        ..options("x")
    });
    assert!(!found.more && found.files.len() == 2);
}

#[test]
fn skips_binary_cuts_long_lines_and_decodes_crlf_and_invalid_utf8() {
    let (_tmp, mut db) = db(StorageOptions::default());
    db.write_file("/bin", b"foo\0foo").unwrap();
    db.write_file("/crlf", b"a foo\r\nb\r\n").unwrap();
    db.write_file("/latin1", b"caf\xe9 foo\n").unwrap();
    db.write_file("/long", format!("foo{}é\n", "é".repeat(600)).as_bytes())
        .unwrap();
    let all = paths(&["/bin", "/crlf", "/latin1", "/long"]);
    let found = db
        .read(|s| {
            search(
                s,
                &all,
                &SearchOptions {
                    max_line_chars: 4,
                    ..options("foo$")
                },
            )
        })
        .unwrap();
    assert_eq!(found.binary, vec!["/bin".to_string()]);
    let texts: Vec<(&str, bool)> = found
        .files
        .iter()
        .flat_map(|f| &f.lines)
        .map(|l| (l.text.as_str(), l.truncated))
        .collect();
    assert_eq!(texts, vec![("a fo", true), ("caf\u{fffd}", true)]);
    let found = db.read(|s| search(s, &all, &options("^foo"))).unwrap();
    let long = &found.files[0].lines[0];
    assert_eq!((long.text.chars().count(), long.truncated), (500, true));
}

#[test]
fn searches_spilled_blobs() {
    let (_tmp, mut db) = db(StorageOptions {
        spill_threshold: 16,
        ..StorageOptions::default()
    });
    db.write_file("/big", b"0123456789abcdef\nneedle\n").unwrap();
    assert_eq!(db.stats().unwrap().spilled_files, 1);
    let found = db.read(|s| search(s, &paths(&["/big"]), &options("needle"))).unwrap();
    assert_eq!(found.files[0].lines, vec![line(2, "needle", true)]);
}

#[test]
fn refuses_bad_patterns_and_paths() {
    let (_tmp, db) = db(StorageOptions::default());
    let run = |p: &[&str], o: &SearchOptions| db.read(|s| search(s, &paths(p), o));
    let err = run(&[], &options("(")).unwrap_err();
    assert!(
        matches!(&err, SearchError::InvalidPattern(m) if m.starts_with("regex parse error:") && m.ends_with("error: unclosed group")),
        "{err}"
    );
    assert!(matches!(
        run(&[], &options("a\\nb")),
        Err(SearchError::InvalidPattern(_))
    ));
    assert!(matches!(
        run(&["../x"], &options("a")),
        Err(SearchError::InvalidPath(_))
    ));
}

#[test]
fn a_result_is_capped_whatever_the_limits() {
    let (_tmp, mut db) = db(StorageOptions::default());
    db.write_file("/lines", &b"a\n".repeat(600_000)).unwrap();
    let found = db
        .read(|s| {
            search(
                s,
                &paths(&["/lines"]),
                &SearchOptions {
                    max_matches: u32::MAX,
                    context: u32::MAX,
                    ..options("a")
                },
            )
        })
        .unwrap();
    // Each line weighs its one character and LINE_WEIGHT; the search stops on the line that
    // takes the result past the cap.
    let lines = found.files[0].lines.len();
    assert!(found.more, "{lines}");
    assert_eq!(lines, MAX_RESULT_BYTES / (LINE_WEIGHT + 1) + 1);
}

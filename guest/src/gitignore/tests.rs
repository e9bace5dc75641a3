use super::*;
use crate::fs::memory::MemoryWorkspace;

fn paths(entries: Vec<Entry>) -> Vec<String> {
    entries.into_iter().map(|e| e.path).collect()
}

fn project() -> MemoryWorkspace {
    MemoryWorkspace::with(&[
        (
            "/.gitignore",
            "node_modules/\n*.log\n/build\n# a comment\n\nout/\n!out/keep.txt\n",
        ),
        ("/node_modules/pkg/index.js", ""),
        ("/docs/node_modules/y.js", ""),
        ("/app.log", ""),
        ("/build/out.js", ""),
        ("/lib/build/kept.js", ""),
        ("/out/keep.txt", ""),
        ("/src/a.ts", ""),
        ("/src/debug.log", ""),
        ("/src/.gitignore", "!debug.log\ngenerated/\n"),
        ("/src/generated/x.ts", ""),
    ])
}

#[test]
fn a_walk_leaves_out_what_the_gitignore_files_ignore() {
    let mut ws = project();
    assert_eq!(
        paths(walk(&mut ws, "/", false).unwrap()),
        [
            "/.gitignore",
            "/docs",
            "/lib",
            "/lib/build",
            "/lib/build/kept.js",
            "/src",
            "/src/.gitignore",
            "/src/a.ts",
            // Taken back by the deeper .gitignore.
            "/src/debug.log",
        ]
    );
    // Beneath `src` the root's .gitignore still applies, with src's own over it.
    assert_eq!(
        paths(walk(&mut ws, "/src", false).unwrap()),
        ["/src/.gitignore", "/src/a.ts", "/src/debug.log"]
    );
}

#[test]
fn an_ignored_directory_named_is_searched_and_ignored_true_sees_everything() {
    let mut ws = project();
    assert_eq!(
        paths(walk(&mut ws, "/node_modules", false).unwrap()),
        ["/node_modules/pkg", "/node_modules/pkg/index.js"]
    );
    assert_eq!(walk(&mut ws, "/", true).unwrap().len(), ws.walk("/").unwrap().len());
    assert!(matches!(walk(&mut ws, "/none", false), Err(FsError::NotFound(_))));
}

#[test]
fn a_listing_leaves_out_ignored_children() {
    let mut ws = project();
    assert_eq!(
        paths(list(&mut ws, "/", false).unwrap()),
        ["/.gitignore", "/docs", "/lib", "/src"]
    );
    assert_eq!(
        paths(list(&mut ws, "src", false).unwrap()),
        ["/src/.gitignore", "/src/a.ts", "/src/debug.log"]
    );
    assert_eq!(list(&mut ws, "/", true).unwrap().len(), 8);
    assert!(list(&mut ws, "/empty-dir-does-not-exist", false).is_err());
}

#[test]
fn without_gitignore_files_nothing_is_left_out() {
    let mut ws = MemoryWorkspace::with(&[("/a.log", ""), ("/node_modules/x.js", "")]);
    assert_eq!(walk(&mut ws, "/", false).unwrap().len(), 3);
}

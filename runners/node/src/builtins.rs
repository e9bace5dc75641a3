//! The JavaScript sources of the runtime (src/js/), compiled into the binary.

/// The bootstrap: a function taking the natives and returning the bridge object.
pub const BOOTSTRAP: &str = include_str!("js/bootstrap.js");

/// Builtin modules by name; each source is a factory `(function (pw, load) { ... })`. Names
/// starting with `internal/` are only reachable from other builtins.
const SOURCES: &[(&str, &str)] = &[
    ("assert", include_str!("js/assert.js")),
    (
        "assert/strict",
        "(function (pw, load) { return load('assert').strict; })",
    ),
    (
        "buffer",
        "(function (pw, load) { return { Buffer: globalThis.Buffer }; })",
    ),
    ("events", include_str!("js/events.js")),
    ("fs", include_str!("js/fs.js")),
    ("internal/inspect", include_str!("js/inspect.js")),
    ("fs/promises", "(function (pw, load) { return load('fs').promises; })"),
    ("path", include_str!("js/path.js")),
    ("path/posix", "(function (pw, load) { return load('path'); })"),
    ("os", include_str!("js/os.js")),
    ("process", "(function (pw, load) { return globalThis.process; })"),
    ("test", include_str!("js/test.js")),
    ("timers", include_str!("js/timers.js")),
    ("url", include_str!("js/url.js")),
    ("util", include_str!("js/util.js")),
];

/// The source of builtin `name`.
pub fn source(name: &str) -> Option<&'static str> {
    SOURCES.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

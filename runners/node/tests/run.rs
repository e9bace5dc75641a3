//! Runs the native `node` binary over real files in a temporary directory.

use std::path::Path;
use std::process::{Command, Output};

/// A fresh temporary directory holding `files` (path, contents).
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, contents) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, contents).expect("write");
    }
    dir
}

/// Runs `node <args>` in `dir`.
fn node(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_node"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run node")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn sample_project_prints_greeting_and_sum() {
    let dir = project(&[
        (
            "package.json",
            r#"{ "name": "sample-project", "type": "module", "main": "src/index.ts" }"#,
        ),
        (
            "src/index.ts",
            "import { greet, add } from \"./utils\";\n\nconsole.log(greet(\"World\"));\nconsole.log(`2 + 3 = ${add(2, 3)}`);\n",
        ),
        (
            "src/utils.ts",
            "export function greet(name: string): string {\n  return `Hello, ${name}!`;\n}\n\nexport function add(a: number, b: number): number {\n  return a + b;\n}\n",
        ),
    ]);
    let output = node(dir.path(), &["src/index.ts"]);
    assert_eq!(
        stdout(&output),
        "Hello, World!\n2 + 3 = 5\n",
        "stderr: {}",
        stderr(&output)
    );
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn commonjs_requires_files_and_builtins() {
    let dir = project(&[
        (
            "main.cjs",
            "const path = require('node:path');\nconst { double } = require('./lib/math');\nconst fs = require('fs');\nconsole.log(double(21), path.basename(__filename), path.basename(__dirname), typeof fs.readFileSync);\n",
        ),
        ("lib/math.js", "exports.double = (n) => n * 2;\n"),
    ]);
    let output = node(dir.path(), &["main.cjs"]);
    let name = dir.path().file_name().expect("name").to_string_lossy().into_owned();
    assert_eq!(
        stdout(&output),
        format!("42 main.cjs {name} function\n"),
        "stderr: {}",
        stderr(&output)
    );
}

#[test]
fn esm_imports_commonjs_default_and_named_exports() {
    let dir = project(&[
        (
            "main.mjs",
            "import lib, { value } from './lib.cjs';\nimport { join } from 'path';\nconsole.log(lib.value, value, join('a', 'b'));\n",
        ),
        ("lib.cjs", "module.exports = { value: 5 };\n"),
    ]);
    let output = node(dir.path(), &["main.mjs"]);
    assert_eq!(stdout(&output), "5 5 a/b\n", "stderr: {}", stderr(&output));
}

#[test]
fn fs_round_trip_with_directories() {
    let dir = project(&[(
        "fs.js",
        r#"import fs from "node:fs";
fs.mkdirSync("data/nested", { recursive: true });
fs.writeFileSync("data/nested/a.txt", "one");
fs.appendFileSync("data/nested/a.txt", "+two");
fs.renameSync("data/nested/a.txt", "data/b.txt");
const bytes = fs.readFileSync("data/b.txt");
console.log(fs.readFileSync("data/b.txt", "utf8"), bytes.length, fs.statSync("data").isDirectory(), fs.readdirSync("data").join(","));
try { fs.readFileSync("missing.txt"); } catch (e) { console.log(e.code); }
fs.rmSync("data", { recursive: true, force: true });
console.log(fs.existsSync("data"));
"#,
    )]);
    let output = node(dir.path(), &["fs.js"]);
    assert_eq!(
        stdout(&output),
        "one+two 7 true b.txt,nested\nENOENT\nfalse\n",
        "stderr: {}",
        stderr(&output)
    );
}

#[test]
fn failing_assertion_prints_assertion_error_and_exits_1() {
    let dir = project(&[(
        "t.mjs",
        "import assert from 'node:assert/strict';\nassert.strictEqual(1, 2);\n",
    )]);
    let output = node(dir.path(), &["t.mjs"]);
    let err = stderr(&output);
    assert!(
        err.contains("AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:\n\n1 !== 2\n"),
        "{err}"
    );
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn passing_assertions_exit_0() {
    let dir = project(&[(
        "t.js",
        "const assert = require('assert');\nassert(true);\nassert.deepStrictEqual({ a: [1] }, { a: [1] });\nassert.throws(() => { throw new TypeError('x'); }, TypeError);\nconsole.log('done');\n",
    )]);
    let output = node(dir.path(), &["t.js"]);
    assert_eq!(stdout(&output), "done\n", "stderr: {}", stderr(&output));
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn node_test_reports_failures_with_exit_code_1() {
    let dir = project(&[(
        "t.test.ts",
        "import { test } from 'node:test';\nimport assert from 'node:assert';\ntest('adds', () => assert.equal(1 + 1, 2));\ntest('breaks', async () => { assert.equal(1, 2); });\n",
    )]);
    let output = node(dir.path(), &["t.test.ts"]);
    let out = stdout(&output);
    assert!(out.contains("ok 1 - adds\nnot ok 2 - breaks\n"), "{out}");
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn process_exit_code_is_kept() {
    let dir = project(&[(
        "e.js",
        "console.log('before');\nprocess.exit(3);\nconsole.log('after');\n",
    )]);
    let output = node(dir.path(), &["e.js"]);
    assert_eq!(stdout(&output), "before\n");
    assert_eq!(output.status.code(), Some(3));
}

#[test]
fn uncaught_error_and_unhandled_rejection_exit_1() {
    let dir = project(&[
        (
            "throw.js",
            "function boom() { throw new RangeError('too far'); }\nboom();\n",
        ),
        (
            "reject.mjs",
            "async function main() { throw new Error('async boom'); }\nmain();\n",
        ),
    ]);
    let thrown = node(dir.path(), &["throw.js"]);
    assert!(
        stderr(&thrown).starts_with("RangeError: too far\n    at boom"),
        "{}",
        stderr(&thrown)
    );
    assert_eq!(thrown.status.code(), Some(1));
    let rejected = node(dir.path(), &["reject.mjs"]);
    assert!(
        stderr(&rejected).starts_with("Error: async boom"),
        "{}",
        stderr(&rejected)
    );
    assert_eq!(rejected.status.code(), Some(1));
}

#[test]
fn missing_file_is_reported() {
    let dir = project(&[]);
    let output = node(dir.path(), &["nope.ts"]);
    assert!(
        stderr(&output).starts_with("Error: Cannot find module '/"),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains("nope.ts'"));
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn typescript_features_are_stripped_or_compiled() {
    let dir = project(&[
        (
            "main.ts",
            r#"import type { Shape } from "./types.js";
import { area } from "./types.js";
enum Direction { Up = 1, Down }
interface Named { name: string }
function first<T>(items: T[]): T | undefined { return items[0]; }
const shape = { kind: "square", size: 3 } as Shape;
const named: Named = { name: "n" };
await new Promise<void>((resolve) => setTimeout(resolve, 5));
console.log(Direction.Down, Direction[1], first<number>([4, 5]), area(shape), named.name);
"#,
        ),
        (
            "types.ts",
            "export type Shape = { kind: 'square'; size: number };\nexport const area = (s: Shape): number => s.size * s.size;\n",
        ),
    ]);
    let output = node(dir.path(), &["main.ts"]);
    assert_eq!(stdout(&output), "2 Up 4 9 n\n", "stderr: {}", stderr(&output));
}

#[test]
fn argv_and_console_formatting() {
    let dir = project(&[(
        "args.js",
        "console.log(process.argv.slice(2), process.argv[1].endsWith('/args.js'));\nconsole.log('%s=%d', 'n', 7, { a: [1, 'x'], m: new Map([[1, true]]) });\nconsole.error('to stderr');\n",
    )]);
    let output = node(dir.path(), &["args.js", "one", "two"]);
    assert_eq!(
        stdout(&output),
        "[ 'one', 'two' ] true\nn=7 { a: [ 1, 'x' ], m: Map(1) { 1 => true } }\n"
    );
    assert_eq!(stderr(&output), "to stderr\n");
}

#[test]
fn esm_extras_import_meta_json_events_and_dynamic_import() {
    let dir = project(&[
        (
            "main.mjs",
            r#"import { fileURLToPath } from "node:url";
import EventEmitter from "node:events";
import data from "./data.json" with { type: "json" };
const emitter = new EventEmitter();
emitter.once("ping", (n) => console.log("ping", n));
emitter.emit("ping", 1);
emitter.emit("ping", 2);
const lib = await import("./lib.cjs");
console.log(fileURLToPath(import.meta.url) === import.meta.filename, import.meta.dirname === process.cwd(), data.answer, lib.default.v);
"#,
        ),
        ("data.json", r#"{ "answer": 42 }"#),
        ("lib.cjs", "module.exports = { v: 'cjs' };\n"),
    ]);
    let output = node(dir.path(), &["main.mjs"]);
    assert_eq!(
        stdout(&output),
        "ping 1\ntrue true 42 cjs\n",
        "stderr: {}",
        stderr(&output)
    );
}

#[test]
fn top_level_await_without_imports_runs_as_esm() {
    let dir = project(&[(
        "tla.js",
        "const v = await Promise.resolve(7);\nconsole.log(v, typeof require);\n",
    )]);
    let output = node(dir.path(), &["tla.js"]);
    assert_eq!(stdout(&output), "7 undefined\n", "stderr: {}", stderr(&output));
}

#[test]
fn inspect_layout_matches_node() {
    // Expected text produced by node v20 for the same statements.
    let dir = project(&[(
        "fmt.js",
        "console.log(Array.from({ length: 30 }, (_, i) => i));\nconsole.log({ a: { b: { c: { d: 1 } } } }, [, , 1]);\nconst c = { name: 'c' }; c.self = c; console.log(c);\nconsole.log({ 'a-b': 1, h: class Foo {} }, new Set([1]), Buffer.from('hi'));\n",
    )]);
    let output = node(dir.path(), &["fmt.js"]);
    let expected = "[\n   0,  1,  2,  3,  4,  5,  6,  7,  8,\n   9, 10, 11, 12, 13, 14, 15, 16, 17,\n  18, 19, 20, 21, 22, 23, 24, 25, 26,\n  27, 28, 29\n]\n\
{ a: { b: { c: [Object] } } } [ <2 empty items>, 1 ]\n\
<ref *1> { name: 'c', self: [Circular *1] }\n\
{ 'a-b': 1, h: [class Foo] } Set(1) { 1 } <Buffer 68 69>\n";
    assert_eq!(stdout(&output), expected, "stderr: {}", stderr(&output));
}

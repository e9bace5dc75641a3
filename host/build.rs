//! Builds the guest components for `wasm32-wasip2` with a nested cargo, as Wasmtime's
//! test-programs artifacts do, and tells the crate where they are:
//! `PI_WORKER_GUEST_WASM` (the built-in agent, embedded in the binary),
//! `PI_WORKER_NODE_WASM` (the built-in `node` program, `runners/node`, embedded too),
//! `PI_WORKER_HOSTILE_GUEST_WASM` (a misbehaving agent for the end-to-end tests) and
//! `PI_WORKER_RUN_PROGRAM_WASM` (a WASI command the `run` tool's tests run).

use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";
const GUESTS: &[(&str, &str, &str)] = &[
    ("pi-worker-guest", "pi_worker_guest", "PI_WORKER_GUEST_WASM"),
    ("pi-worker-node", "node", "PI_WORKER_NODE_WASM"),
    (
        "pi-worker-hostile-guest",
        "pi_worker_hostile_guest",
        "PI_WORKER_HOSTILE_GUEST_WASM",
    ),
    (
        "pi-worker-run-program",
        "pi-worker-run-program",
        "PI_WORKER_RUN_PROGRAM_WASM",
    ),
];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let root = manifest_dir.parent().expect("workspace root").to_path_buf();
    for watched in [
        "guest",
        "wit",
        "runners/node",
        "tests/hostile-guest",
        "tests/run-program",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let target_dir = out_dir.join("guest-target");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());

    ensure_target_installed();

    let mut cmd = Command::new(&cargo);
    cmd.current_dir(&root)
        .args(["build", "--profile", "guest", "--target", TARGET])
        .arg("--target-dir")
        .arg(&target_dir);
    for (package, _, _) in GUESTS {
        cmd.args(["-p", package]);
    }
    // The outer build's settings (clippy's wrapper, host rustflags, jobserver) are not the guest's.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().expect("failed to run cargo for the guest components");
    assert!(status.success(), "building the guest components for {TARGET} failed");

    for (_, artifact, var) in GUESTS {
        let wasm = target_dir.join(TARGET).join("guest").join(format!("{artifact}.wasm"));
        assert!(wasm.exists(), "missing guest artifact {}", wasm.display());
        println!("cargo:rustc-env={var}={}", wasm.display());
    }
}

/// Adds the `wasm32-wasip2` standard library through rustup when it is missing, so a fresh
/// machine needs nothing but the Rust toolchain.
fn ensure_target_installed() {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .and_then(|o| {
            o.status
                .success()
                .then(|| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        });
    if sysroot.as_deref().is_some_and(has_target) {
        return;
    }
    let status = Command::new("rustup").args(["target", "add", TARGET]).status();
    if !matches!(status, Ok(s) if s.success()) {
        println!("cargo:warning=could not run `rustup target add {TARGET}`; install the target by hand");
    }
}

fn has_target(sysroot: &Path) -> bool {
    sysroot.join("lib").join("rustlib").join(TARGET).join("lib").exists()
}

//! `node <file> [args...]`: runs a JavaScript or TypeScript file with Boa, node-style. Built
//! for `wasm32-wasip2` as the agent's sandboxed `node` command (see README.md).

mod builtins;
mod hooks;
mod loader;
mod natives;
mod resolve;
mod runtime;
mod transpile;

use std::io::Write;

/// Flushes the standard streams and ends the process with `code`.
pub fn exit(code: i32) -> ! {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    std::process::exit(code)
}

fn main() {
    let Some(script) = std::env::args().nth(1) else {
        eprintln!("Usage: node <file> [args...]");
        exit(9);
    };
    let path = resolve::absolute(script.as_ref());
    if !path.is_file() {
        eprintln!("Error: Cannot find module '{}'", path.display());
        exit(1);
    }
    let code = match runtime::Runtime::new() {
        Ok(mut runtime) => runtime.run_main(&path),
        Err(error) => {
            eprintln!("node: cannot start the runtime: {error}");
            70
        }
    };
    exit(code)
}

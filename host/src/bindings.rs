//! Generated bindings for the `pi:worker` WIT package (`wit/`). Nothing else lives here.
//!
//! The error rule of the package (written in `wit/world.wit`): a failure the guest can act on is
//! the function's WIT `result` error; a host fault traps. As in Wasmtime's own WASI bindings,
//! the `workspace` and `git` errors are *trappable error types*: their host functions return the
//! host's own error ([`FsError`](crate::storage::FsError), [`GitError`](crate::git::GitError)),
//! and each interface's `convert_…` turns a domain failure into the WIT error and a storage
//! failure into a trap. Functions without a WIT error (`stats`, `history`, `append`) are
//! `trappable` for the same faults. `llm` failures are all domain failures (a provider's answer);
//! only a bad resource handle traps there.
//!
//! The model calls (`llm.complete`, `response-stream.next`) are `async` on the host, and so is
//! the `agent` export: a chat runs on a fiber, and while it waits for the model it holds no
//! thread. Every other import is a short synchronous call.
#![allow(missing_docs, reason = "generated code; the WIT files carry the documentation")]

wasmtime::component::bindgen!({
    path: "../wit",
    world: "agent-world",
    imports: {
        "pi:worker/llm.complete": async | trappable,
        "pi:worker/llm.[method]response-stream.next": async | trappable,
        "pi:worker/process.run": async | trappable,
        default: trappable,
    },
    exports: { default: async },
    trappable_error_type: {
        "pi:worker/workspace.fs-error" => crate::storage::FsError,
        "pi:worker/git.git-error" => crate::git::GitError,
    },
    with: {
        "pi:worker/llm.response-stream": crate::interfaces::llm::ResponseStream,
    },
});

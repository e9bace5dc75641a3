//! pi-worker: a coding agent that lives on a server.
//!
//! Each session is an isolated workspace (files and conversation in one SQLite database); an
//! agent compiled to a sandboxed WebAssembly component works on it through the `pi:worker` WIT
//! imports this crate implements.
//!
//! A program that is not an HTTP server drives sessions through [`service::ChatService`]: create
//! a session, chat on it (with live events), read its files, git objects and conversation.
//!
//! # Our host in your Wasmtime
//!
//! Each `pi:worker` import is implemented in [`interfaces`] with an `add_to_linker` for any
//! store type that hands out its view, so another program can run the agent ([`DEFAULT_GUEST`]
//! or its own) in a `Store` of its own, on a [`SessionDb`](storage::SessionDb) at a path of its
//! choosing, and bring its own model by implementing the generated
//! [`llm::Host`](bindings::pi::worker::llm::Host) trait over [`interfaces::llm::ResponseStream`].
//! This is `host/examples/embed.rs` (`cargo run -p pi-worker --example embed`), run here as a
//! doctest: one chat with a canned model that writes a file, with no HTTP server.
//!
//! ```
#![doc = include_str!("../examples/embed.rs")]
//! ```

pub mod abort;
pub mod agents;
pub mod bindings;
pub mod chat;
pub mod config;
pub mod engine;
pub mod git;
pub mod http;
pub mod import;
pub mod interfaces;
pub mod llm;
pub mod message;
pub mod notify;
pub mod open_dbs;
pub mod program;
pub mod search;
pub mod seed;
pub mod server;
pub mod service;
pub mod sessions;
pub mod storage;
pub mod telemetry;
pub mod tenants;
pub mod wit;

/// The built-in agent component (`guest/`), compiled for `wasm32-wasip2` by the build script.
pub const DEFAULT_GUEST: &[u8] = include_bytes!(env!("PI_WORKER_GUEST_WASM"));

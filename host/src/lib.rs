//! pi-worker: a coding agent that lives on a server.
//!
//! Each session is an isolated workspace (files and conversation in one SQLite database); an
//! agent compiled to a sandboxed WebAssembly component works on it through the `pi:worker` WIT
//! imports this crate implements.
//!
//! A program that is not an HTTP server drives sessions through [`service::ChatService`]: create
//! a session, chat on it (with live events), read its files, git objects and conversation.
//!
//! Embedders can link the host interfaces into their own Wasmtime store type:
//!
//! ```no_run
//! use pi_worker::interfaces::{git, llm, session, workspace};
//! use wasmtime::component::Linker;
//!
//! fn link<T: workspace::WorkspaceView + git::GitView + llm::LlmView + session::SessionView + 'static>(
//!     linker: &mut Linker<T>,
//! ) -> wasmtime::Result<()> {
//!     workspace::add_to_linker(linker)?;
//!     git::add_to_linker(linker)?;
//!     llm::add_to_linker(linker)?;
//!     session::add_to_linker(linker)?;
//!     Ok(())
//! }
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

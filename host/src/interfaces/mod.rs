//! Host implementations of the WIT imports, one file per interface.
//!
//! Each follows Wasmtime's pattern so another embedder can link them into its own store type:
//! a context struct holding the state, a borrowed view (`…CtxView`), a trait that hands out the
//! view (`…View`), a zero-sized [`HasData`](wasmtime::component::HasData) marker, and an
//! `add_to_linker` function.

pub mod git;
pub mod llm;
pub mod process;
pub mod session;
pub mod workspace;

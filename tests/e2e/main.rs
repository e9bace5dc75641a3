//! End-to-end tests: the real `pi-worker` binary on loopback, driven over HTTP, with a scripted
//! fake of the model APIs (Anthropic Messages and OpenAI Chat Completions) as the only stand-in.

#![allow(
    clippy::unwrap_used,
    missing_docs,
    reason = "test code: an unexpected failure should panic"
)]

mod abort;
mod access;
mod agents;
mod bad_input;
mod checkpoints;
mod cli;
mod compaction;
mod conversation;
mod durability;
mod events;
mod files;
mod git;
mod git_views;
mod hostile;
mod import;
mod limits;
mod node_host;
mod notify;
mod observability;
mod openapi;
mod providers;
mod run;
mod scale;
mod sessions;
mod smart_http;
mod streaming;
mod support;
mod tools;
mod web;

//! Generated bindings for the `pi:worker` WIT package (`wit/`). Nothing else lives here.
#![allow(missing_docs, reason = "generated code; the WIT files carry the documentation")]

wasmtime::component::bindgen!({
    path: "../wit",
    world: "agent-world",
    // Every import may trap: a bad resource handle or a storage failure the guest cannot act on
    // ends the chat instead of pretending to succeed. Domain failures stay WIT `result`s.
    imports: { default: trappable },
    with: {
        "pi:worker/llm.response-stream": crate::interfaces::llm::ResponseStream,
    },
});

//! qntx: a node that stores attestations, runs the Pulse job system, and executes every plugin
//! and user handler as a WebAssembly component in a wasmtime sandbox.
//!
//! The parts, and the direction of their dependencies (`cli → node → plugins, runtime →
//! pulse, ats`):
//! - [`ats`]: the attestation store, the only shared state between plugins (ADR-003);
//! - [`pulse`]: durable jobs, routed to the handlers plugins announce (ADR-004);
//! - [`runtime`]: the wasmtime engine, the sandbox, and the host side of the WIT contract;
//! - [`plugins`]: finding, checking, initializing and registering plugin components;
//! - [`handlers`]: user handlers, stored in the database and served as `handler/NAME`;
//! - [`toolchain`]: building plugin crates and handler files into components;
//! - [`node`]: a running node that wires them together;
//! - [`bench`](mod@bench): the benchmark suite (`cargo bench -p qntx-bench`);
//! - [`cli`]: the `qntx` command.
//!
//! All state goes through the storage seam ([`storage`]); its SQLite backend is [`sqlite`].

#![warn(missing_docs)]

pub mod ats;
pub mod bench;
pub mod cli;
pub mod clock;
pub mod handlers;
#[cfg(test)]
mod module_graph;
pub mod node;
pub mod plugins;
pub mod pulse;
pub mod runtime;
pub mod sqlite;
pub mod storage;
pub mod toolchain;

/// An error and its causes on one line: `outer: inner: root`.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

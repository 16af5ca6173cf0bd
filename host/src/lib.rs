//! qntx: a node that stores attestations, runs the Pulse job system, and executes every plugin
//! and user handler as a WebAssembly component in a wasmtime sandbox.
//!
//! The crates, and the direction of their dependencies (`qntx → qntx-http → qntx-node → qntx-runtime,
//! qntx-sqlite → qntx-core`):
//! - `qntx-core`: [`ats`], [`pulse`] and the [`storage`] seam;
//! - `qntx-sqlite`: the [`sqlite`] backend of the seam, the only crate that knows SQL;
//! - `qntx-runtime`: [`runtime`], the wasmtime engine, the sandbox, and the host side of the
//!   WIT contract;
//! - `qntx-node`: [`plugins`], [`handlers`], the [`toolchain`] and the running [`node`];
//! - `qntx-http`: [`http`], the node's JSON API;
//! - this crate: the [`cli`] of the `qntx` command and the [`bench`](mod@bench) suite
//!   (`cargo bench -p qntx-bench`).
//!
//! The library crates are re-exported here under their module names.

#![warn(missing_docs)]

pub mod bench;
pub mod cli;
#[cfg(test)]
mod module_graph;

pub use qntx_core::{ats, clock, error_chain, pulse, storage, tokens};
pub use qntx_http as http;
pub use qntx_node::{database, handlers, metrics, node, plugins, toolchain};
pub use qntx_runtime as runtime;
pub use qntx_sqlite as sqlite;

//! qntx: a node that stores attestations, runs the Pulse job system, and executes every plugin
//! and user handler as a WebAssembly component in a wasmtime sandbox.
//!
//! The crates, and the direction of their dependencies (`qntx → qntx-node → qntx-runtime →
//! qntx-core`):
//! - `qntx-core`: [`ats`], [`pulse`], the [`storage`] seam and its [`sqlite`] backend;
//! - `qntx-runtime`: [`runtime`], the wasmtime engine, the sandbox, and the host side of the
//!   WIT contract;
//! - `qntx-node`: [`plugins`], [`handlers`], the [`toolchain`] and the running [`node`];
//! - this crate: the [`cli`] of the `qntx` command and the [`bench`](mod@bench) suite
//!   (`cargo bench -p qntx-bench`).
//!
//! The library crates are re-exported here under their module names.

#![warn(missing_docs)]

pub mod bench;
pub mod cli;
#[cfg(test)]
mod module_graph;

pub use qntx_core::{ats, clock, error_chain, pulse, sqlite, storage};
pub use qntx_node::{handlers, node, plugins, toolchain};
pub use qntx_runtime as runtime;

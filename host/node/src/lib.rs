//! A running qntx node and what it serves: plugin components found on disk, user handlers kept
//! in the store, and the toolchain that builds both.
//!
//! - [`plugins`]: finding, checking, initializing and registering plugin components;
//! - [`handlers`]: user handlers, stored in the database and served as `handler/NAME`;
//! - [`toolchain`]: building plugin crates and handler files into components;
//! - [`database`]: choosing and opening the store, counting its connections, copying it;
//! - [`metrics`]: the Prometheus recorder and the text served at `/metrics`;
//! - [`node`]: a running node that wires them to Pulse and the runtime.

#![warn(missing_docs)]

pub mod database;
pub mod handlers;
pub mod metrics;
pub mod node;
pub mod plugins;
pub mod toolchain;

use qntx_core::{ats, clock, error_chain, pulse, storage};
use qntx_runtime as runtime;
use qntx_sqlite as sqlite;

//! A real PostgreSQL server for tests, started by the tests themselves.
//!
//! [`shared`] starts one server per test process on a free loopback port, in a temporary
//! directory, from the system's binaries (Debian's `postgresql` package; installed with
//! `apt-get` when missing and the tests run as root). Each test takes a database of its own
//! with [`Server::database`]. [`Server::start`] gives a test a server of its own that it may
//! stop and start again (the server going away mid-run).
//!
//! A server stops when the test process ends, however it ends: it runs under a small shell
//! that waits on a pipe from the test process and, when the pipe closes, shuts the server
//! down and removes its directory.
//!
//! No test skips for want of a server: when none can be found or installed, [`shared`] panics
//! with what to install.

#![warn(missing_docs)]

mod binaries;
mod server;

pub use binaries::Binaries;
pub use server::{Durability, Server};

use std::sync::OnceLock;

/// The server every test of this process shares.
///
/// # Panics
///
/// When no PostgreSQL server can be found, installed or started: a test that needs one fails.
pub fn shared() -> &'static Server {
    static SHARED: OnceLock<Server> = OnceLock::new();
    SHARED.get_or_init(|| Server::start().unwrap_or_else(|error| panic!("{error}")))
}

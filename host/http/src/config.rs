//! How the node serves HTTP.

use std::net::SocketAddr;
use std::time::Duration;

/// Where `qntx run` serves HTTP unless told otherwise (the original system's port).
pub const DEFAULT_ADDR: &str = "127.0.0.1:8770";

/// Settings of the HTTP server.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// The address to listen on; port 0 picks a free one.
    pub addr: SocketAddr,
    /// Largest request body accepted, bytes (a batch of jobs is the largest).
    pub body_limit: usize,
    /// Longest time a request other than a stream may take.
    pub request_timeout: Duration,
}

impl HttpConfig {
    /// Defaults: 32 MiB bodies (two job payloads at their 16 MiB limit), 30 s per request.
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            body_limit: 32 << 20,
            request_timeout: Duration::from_secs(30),
        }
    }
}

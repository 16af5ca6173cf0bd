//! The core of qntx: what a node keeps and decides, with no database or sandbox in it.
//!
//! - [`ats`]: the attestation store, the only shared state between plugins (ADR-003);
//! - [`pulse`]: durable jobs, routed to the handlers plugins announce (ADR-004);
//! - [`storage`]: the seam every backend implements (`qntx-sqlite` is the SQLite one);
//! - [`tokens`]: the API's bearer tokens and their scopes;
//! - [`clock`]: time, replaceable in tests.

#![warn(missing_docs)]

pub mod ats;
pub mod clock;
pub mod pulse;
pub mod sessions;
pub mod storage;
pub mod tokens;

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

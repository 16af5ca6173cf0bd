//! Host implementations of the WIT imports, one file per interface. Each is a thin adapter:
//! check the grant and the limits, convert, call [`crate::ats`] or [`crate::pulse`].
//!
//! A refusal the guest can handle is a `host-error`; a broken host (the database failing) traps,
//! and Pulse decides whether to retry.

mod config;
mod job_context;
mod logging;
mod pulse;
mod store;

use super::JobCtx;
use super::bindings::types;

impl types::Host for JobCtx {}

//! The PostgreSQL backend of the storage seam ([`crate::storage`]): several nodes, on several
//! machines, share one database.
//!
//! Every process opens its own [`PostgresBackend`] from a URL; its connections are
//! `tokio-postgres` clients driven by one small runtime of the backend's own (see
//! [`client`](crate::client)). The schema has numbered, forward-only migrations of its own
//! (`host/postgres/migrations/`), with the same tables and columns as the SQLite backend's so
//! that a store can be copied from one to the other row by row.
//!
//! Differences from SQLite that callers see:
//! - writers are not serialised: a transaction reads what others committed before each
//!   statement (`READ COMMITTED`); where a decision must hold until commit, the caller names
//!   it with [`storage::Store::exclusive`];
//! - wake-ups come from `LISTEN`/`NOTIFY` (one listening connection per backend), with
//!   polling as the backstop ([`Options::listen`] off: polling only, for poolers in
//!   transaction mode);
//! - the attestation feed's sequence is commit order because inserting an attestation takes a
//!   transaction-level lock that orders the inserting transactions (see `attestations.rs`).

#![warn(missing_docs)]

use qntx_core::{ats, clock, error_chain, pulse, storage};

mod attestations;
mod backend;
mod client;
mod components;
mod dump;
mod error;
mod job_events;
mod jobs;
mod listen;
mod migrations;
mod plugin_loads;
mod pulse_records;
mod tokens;
mod triggers;

pub use backend::{Options, PostgresBackend, PostgresConnection, hide_password};
pub use error::{Error, to_storage};
pub use migrations::{MIGRATIONS, Migration};

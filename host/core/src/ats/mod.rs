//! ATS, the attestation store: append-only claims that plugins use as their only shared state.
//!
//! An [`Attestation`] says that `actors` claim `subjects` `predicates` `contexts`, at a
//! `timestamp`, with JSON `attributes`. Writers build a [`NewAttestation`], which validation
//! turns into a stored row with a readable [`id`] (`AS-ALICE-AUTHOR-GITHUB-7K4M3B9X`). Readers
//! ask a [`Query`]: OR within a dimension, AND across dimensions, case-insensitive, newest first,
//! one bounded [`Page`] at a time.
//!
//! The [`feed`] follows new attestations in commit order, whichever process wrote them.
//!
//! [`store`] reads and writes through the storage seam ([`crate::storage::Attestations`]); the
//! SQL is the SQLite backend's, the schema `host/core/migrations/001_create_attestations.sql` and
//! `003_index_attestation_pairs.sql`.

pub mod actor;
mod error;
pub mod feed;
pub mod grammar;
pub mod id;
mod model;
pub mod overlay;
mod query;
pub mod store;
pub mod when;

pub use error::{Error, Result};
pub use model::{
    Attestation, Dimension, Limits, MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS, NewAttestation, UNSPECIFIED,
};
pub use query::{
    Cursor, DEFAULT_LIMIT, MAX_ATTRIBUTE_CONDITIONS, MAX_LIMIT, MAX_PAGE_BYTES, MAX_QUERY_VALUES,
    Page, Query, fold,
};

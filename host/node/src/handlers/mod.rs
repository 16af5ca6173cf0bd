//! User handlers (ADR-004 phase 3): one source file, compiled to a component, stored in the
//! database, and served by every node that shares it as `handler/NAME`.
//!
//! A handler is described by attestations (self-certifying: the handler is its own actor,
//! `handler:NAME`; records that older nodes wrote with actor `NAME` are read too):
//!
//! | | subjects | predicates | contexts | actors | source | attributes |
//! |---|---|---|---|---|---|---|
//! | a version | `[NAME]` | `["handler"]` | `["wasm"]` | `[handler:NAME]` | `qntx-cli` | `sha256`, `size`, `language`, `source`, `wit_version`, `description` (+ `rolled_back_from`) |
//! | a removal | `[NAME]` | `["handler"]` | `["removed"]` | `[handler:NAME]` | `qntx-cli` | `sha256` of the version removed |
//!
//! The newest of these (by timestamp, then insertion) is the handler's state: a version to
//! serve, or removed. A rollback is a new version attestation pointing at an older sha256;
//! history is never deleted. The component bytes live in the `components` table, keyed by
//! sha256 ([`store`]).
//!
//! A node registers every current handler at start and follows changes while it runs
//! ([`Discovery`]); jobs record the sha256 of the version that ran them. Inside the sandbox a
//! handler's attestations carry `actors = [handler:NAME]` and `source = NAME@<sha256 prefix>`.

mod admission;
mod create;
mod discovery;
mod error;
mod install;
mod lifecycle;
mod load;
mod names;
mod speaker;
pub mod store;
mod summary;
mod version;

pub use admission::{EnqueueError, PluginSource, check_enqueue};
pub use create::{CreateError, Created, create};
pub use discovery::Discovery;
pub use error::Error;
pub use install::{Install, install};
pub use lifecycle::{RolledBack, remove, roll_back, rollback_target};
pub use load::{Checked, check, component_bytes, job_handler};
pub use names::{check_name, registered_name};
pub use speaker::check_speaker;
pub use summary::{event_json, summary};
pub use version::{
    Event, HandlerVersion, NewVersion, current, history, newest_of_all, record_removal,
    record_version,
};

/// Prefix of every user handler's registered name: `handler/NAME`.
pub const PREFIX: &str = "handler/";
/// The predicate of handler attestations.
pub const PREDICATE: &str = "handler";
/// The context of an attestation that makes a version current.
pub const CONTEXT_VERSION: &str = "wasm";
/// The context of an attestation that retires a handler.
pub const CONTEXT_REMOVED: &str = "removed";
/// The source of handler attestations: only the CLI writes them (no guest can: a guest's
/// source is always `name@version`).
pub const SOURCE: &str = "qntx-cli";
/// How many hex digits of the sha256 appear in a handler's attestation source.
pub const SHORT_SHA: usize = 12;

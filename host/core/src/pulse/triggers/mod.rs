//! Triggers: what enqueues Pulse jobs by itself.
//!
//! - A [`Schedule`] enqueues a job for its handler every interval. Its next run time is stored,
//!   and advancing it is a guarded `UPDATE` in the same transaction as the enqueue, so a due
//!   schedule fires once across restarts and across nodes sharing the database. A schedule does
//!   not fire while a job it enqueued is still active.
//! - A [`Watcher`] enqueues one job per new attestation that matches its filter, with the
//!   attestation as payload. Its cursor on the attestation feed advances in the same transaction
//!   as the jobs it enqueues: exactly once per (watcher, attestation), even across a crash. It
//!   ignores its own plugin's attestations unless it asks for them, and fires at most
//!   `max_fires_per_second` per node; what it has not fired yet waits, nothing is dropped.
//!
//! Plugins announce both at `initialize` ([`sync_plugin`]); users add schedules from the CLI.
//! Every job a trigger enqueues names it in its source: `schedule:<id>`, `watcher:<id>`.

mod model;
mod scheduler;
pub mod store;
mod watchers;

pub use model::{Schedule, ScheduleSpec, Watcher, WatcherFilter, WatcherSpec};
pub use scheduler::{Scheduler, SchedulerReport};
pub use store::sync_plugin;
pub use watchers::{WatcherReport, Watchers};

//! The storage seam: everything qntx keeps goes through these traits, and only a backend
//! (the `qntx-sqlite` crate today) knows SQL.
//!
//! The shape follows River's driver: a [`Backend`] hands out [`Connection`]s; a connection runs
//! statements one at a time (each its own transaction) or opens a [`Transaction`] that spans
//! several, across every group of statements. Both give the same [`Store`]: one method per
//! statement, grouped by what they keep, taking parameter structs and returning
//! backend-neutral [`Error`]s. Decisions (which job to claim, whether a lease still holds,
//! what a budget allows) are made by the callers; a backend only executes them, each method
//! atomically.
//!
//! ```text
//! let mut conn = backend.connect()?;
//! let tx = conn.transaction()?;   // Box<dyn Transaction>, derefs to dyn Store
//! ... tx.some_statement(&params)? ...
//! tx.commit()?;                    // dropped without commit: rolled back
//! ```

mod attestations;
mod budgets;
mod components;
pub mod dump;
mod error;
mod job_events;
mod job_logs;
mod jobs;
mod nodes;
mod plugin_loads;
mod pool;
mod registrations;
mod tokens;
mod triggers;

use std::fmt;
use std::time::Duration;

pub use attestations::Attestations;
pub use budgets::Budgets;
pub use components::Components;
pub use dump::Dump;
pub use error::{BoxError, Error, Result};
pub use job_events::JobEvents;
pub use job_logs::JobLogs;
pub use jobs::{AttemptEnd, AttemptFailure, ClaimWrite, JobInsert, Jobs};
pub use nodes::{Heartbeat, Nodes};
pub use plugin_loads::{FileKey, PluginLoads, Record};
pub use pool::Pool;
pub use registrations::Registrations;
pub use tokens::Tokens;
pub use triggers::{ScheduleAdvance, ScheduleUpsert, Schedules, WatcherUpsert, Watchers};

/// Where a node keeps its state: hands out connections to it.
pub trait Backend: Send + Sync + fmt::Debug {
    /// What and where, for messages: `sqlite database '/data/qntx.db'`.
    fn describe(&self) -> String;

    /// The directory on this machine the backend keeps its files in, if any (SQLite: the
    /// database file's): no plugin may be granted write access to it.
    fn local_dir(&self) -> Option<std::path::PathBuf>;

    /// A new connection of its own.
    ///
    /// # Errors
    ///
    /// [`Error::Backend`] when the store cannot be reached.
    fn connect(&self) -> Result<Box<dyn Connection>>;
}

/// One connection to a backend. Methods of [`Store`] called on it directly each commit on
/// their own.
pub trait Connection: Send {
    /// The statements, outside any transaction.
    fn store(&self) -> &(dyn Store + 'static);

    /// Begin a write transaction. What it writes becomes visible at commit, all at once. Whether
    /// what it read still holds at commit depends on the backend (SQLite serialises writers;
    /// PostgreSQL reads what others committed before each statement): a decision that must
    /// hold names its key with [`Store::exclusive`].
    ///
    /// # Errors
    ///
    /// [`Error::Backend`] when the transaction cannot start (another writer held the store
    /// for longer than the backend waits).
    fn transaction(&mut self) -> Result<Box<dyn Transaction + '_>>;

    /// Begin a read transaction: every statement in it sees the store as of its first read,
    /// whatever others commit meanwhile, and it holds no writer back. For reads that must
    /// agree with each other (a query's pages and the feed position after them).
    ///
    /// # Errors
    ///
    /// [`Error::Backend`] when the transaction cannot start.
    fn snapshot(&mut self) -> Result<Box<dyn Transaction + '_>>;

    /// Wait until any connection commits a change, at most `timeout`; true when one did.
    /// Workers sleep here between polls, so a new job wakes them at once.
    ///
    /// # Errors
    ///
    /// [`Error::Backend`] when the store cannot be reached.
    fn wait_for_change(&mut self, timeout: Duration) -> Result<bool>;

    /// Housekeeping a long-running node asks for now and then (SQLite: a checkpoint of the
    /// write-ahead log); a warning for the operator when the store needs attention.
    fn upkeep(&mut self) -> Option<String>;

    /// `error`, which this connection returned, in words an operator can act on: the store it
    /// concerns and what the operating system or server said.
    fn explain(&self, error: &(dyn std::error::Error + 'static)) -> String;
}

/// A transaction spanning any statements of [`Store`]; rolled back when dropped uncommitted.
pub trait Transaction {
    /// The statements, inside this transaction.
    fn store(&self) -> &(dyn Store + 'static);

    /// Make every write of the transaction durable and visible at once.
    ///
    /// # Errors
    ///
    /// [`Error::Backend`] when the commit fails; nothing of the transaction is kept.
    fn commit(self: Box<Self>) -> Result<()>;
}

/// Every statement qntx runs, one trait per group of what it keeps. A backend implements each
/// group on its connection type, and a transaction is a mode of that connection (SQLite:
/// `BEGIN IMMEDIATE` … `COMMIT` on it), so both give the same `'static` store.
pub trait Store:
    Jobs
    + JobLogs
    + JobEvents
    + Registrations
    + Budgets
    + Nodes
    + Attestations
    + Schedules
    + Watchers
    + Components
    + PluginLoads
    + Tokens
    + Dump
{
    /// Run `work` all or nothing: in a transaction of its own, or inside a transaction, in a
    /// nested one (SQLite: a savepoint). `work` returns whether to keep its writes; false rolls
    /// them back and is no error of this method.
    ///
    /// # Errors
    ///
    /// [`Error::Backend`] when the transaction cannot begin or commit.
    fn atomically(&self, work: &mut dyn FnMut(&dyn Store) -> bool) -> Result<()>;

    /// Whether this store is inside a transaction, so that a failing statement fails it whole.
    fn in_transaction(&self) -> bool;

    /// Inside a transaction: hold `key` until the transaction ends, so that transactions
    /// naming the same key run one after the other. A decision read from the store (a budget's
    /// spend, a handler's load, whether a unique job exists) then still holds when the
    /// transaction commits. Backends that serialise every writer (SQLite) need do nothing;
    /// PostgreSQL takes a transaction-level advisory lock.
    ///
    /// # Errors
    ///
    /// [`Error::Backend`] when the store fails.
    fn exclusive(&self, key: &str) -> Result<()>;
}

impl<'a> std::ops::Deref for dyn Connection + 'a {
    type Target = dyn Store;

    fn deref(&self) -> &Self::Target {
        self.store()
    }
}

impl<'a> std::ops::Deref for dyn Transaction + 'a {
    type Target = dyn Store;

    fn deref(&self) -> &Self::Target {
        self.store()
    }
}

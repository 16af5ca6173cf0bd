//! The values Pulse exchanges with the storage seam besides jobs: the lease and report of a
//! running attempt (the guard and values of every running-job transition), activity counts,
//! and the records of handlers and nodes.

use super::Progress;

/// Which attempt of which job, under which lease: the guard of every running-job transition.
#[derive(Debug, Clone, Copy)]
pub struct Lease<'a> {
    /// The job.
    pub id: &'a str,
    /// Its running attempt.
    pub attempt: u32,
    /// Its claim number ([`super::Job::claims`]): unique to this claim, unlike the attempt.
    pub claim: u32,
    /// The node that holds it.
    pub owner: &'a str,
}

/// What an attempt reported, saved with any outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Report<'a> {
    /// The latest progress.
    pub progress: Progress,
    /// The cost reported.
    pub cost_actual: f64,
    /// Version of the plugin or handler that ran it.
    pub plugin_version: &'a str,
}

/// Why an attempt failed.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptError<'a> {
    /// One line.
    pub message: &'a str,
    /// The cause chain, outermost first.
    pub details: &'a [String],
    /// Retry at this time (Unix ms) if attempts are left; `None` fails the job now.
    pub retry_at: Option<i64>,
}

/// How much work for some handlers is waiting or under way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Activity {
    /// Queued jobs whose `run_at` has come.
    pub runnable: u64,
    /// Running jobs, on any node.
    pub running: u64,
    /// The earliest `run_at` of queued jobs not yet due (retries in backoff, delayed jobs).
    pub next_run_at: Option<i64>,
}

/// A handler as a node registered it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HandlerRecord {
    /// Full handler name.
    pub handler: String,
    /// The plugin that announced it.
    pub plugin: String,
    /// The plugin's version.
    pub plugin_version: String,
    /// What it does.
    pub description: String,
    /// When a node last registered it, Unix milliseconds.
    pub registered_at: i64,
}

/// A node as it recorded itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NodeRecord {
    /// Its id: the lease owner of its claims.
    pub id: String,
    /// The machine's host name.
    pub host: String,
    /// Its process id.
    pub pid: u32,
    /// When it started, Unix milliseconds.
    pub started_at: i64,
    /// When it last renewed its leases.
    pub seen_at: i64,
    /// Its lease: it is live until `seen_at + lease_ms` unless it stopped.
    pub lease_ms: i64,
    /// When it stopped, if it stopped cleanly.
    pub stopped_at: Option<i64>,
}

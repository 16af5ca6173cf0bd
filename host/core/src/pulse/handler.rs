//! The contract between Pulse and what runs its jobs: a [`JobHandler`] gets a [`RunningJob`]
//! (with the [`Interrupt`] that tells it to stop) and returns an [`Execution`]. The runtime
//! implements it for WebAssembly components; Pulse knows nothing about them.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;
use serde_json::Value;

use super::store::Lease;
use super::{Job, LogLine, NewJob, Progress, TreeLimits};
use crate::ats;

/// Runs one attempt of a job. The runtime implements it for plugin components; Pulse knows
/// nothing about WebAssembly.
pub trait JobHandler: Send + Sync {
    /// Run `job` to an outcome. Must return (never panic) for any guest behaviour, and stop
    /// soon after `job.interrupt` is set or `job.deadline_ms` passes.
    fn execute(&self, job: &RunningJob) -> Execution;

    /// Most jobs of this handler's plugin running at once on one node, if it sets a limit; the
    /// node then claims no more (see [`super::fair`]).
    fn concurrency(&self) -> Option<usize> {
        None
    }
}

/// A connection shared by a worker and the job it runs (for progress, logs and queries).
pub type SharedConnection = Arc<Mutex<Connection>>;

/// Lock a shared connection; a panic elsewhere cannot leave a connection half-used.
pub fn lock(conn: &SharedConnection) -> std::sync::MutexGuard<'_, Connection> {
    conn.lock().unwrap_or_else(|e| e.into_inner())
}

/// Why a running guest must stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interruption {
    /// The job was cancelled, paused, or its lease was lost: its outcome will be discarded.
    Cancelled,
    /// The node is shutting down: the attempt goes back to the queue uncounted.
    Shutdown,
}

/// A flag the node raises to interrupt a running job.
#[derive(Debug, Default)]
pub struct Interrupt(AtomicU8);

impl Interrupt {
    /// Ask the job to stop.
    pub fn raise(&self, why: Interruption) {
        let code = match why {
            Interruption::Shutdown => 1,
            Interruption::Cancelled => 2,
        };
        // Cancellation wins over shutdown: a cancelled job must not be requeued.
        self.0.fetch_max(code, Ordering::SeqCst);
    }

    /// Whether, and why, the job must stop.
    pub fn get(&self) -> Option<Interruption> {
        match self.0.load(Ordering::SeqCst) {
            0 => None,
            1 => Some(Interruption::Shutdown),
            _ => Some(Interruption::Cancelled),
        }
    }
}

/// One claimed attempt, as a [`JobHandler`] sees it.
#[derive(Debug)]
pub struct RunningJob {
    /// The job, with `attempt` already counting this one.
    pub job: Job,
    /// The node holding the lease.
    pub lease_owner: String,
    /// Wall-clock deadline, Unix milliseconds.
    pub deadline_ms: i64,
    /// The attempt's time limit that set the deadline, for messages.
    pub timeout: Duration,
    /// Raised when the job must stop.
    pub interrupt: Arc<Interrupt>,
    /// The worker's connection: for progress, logs and queries while the job runs.
    pub conn: SharedConnection,
    /// How far the job's tree may grow: bounds the children it enqueues.
    pub tree: TreeLimits,
}

impl RunningJob {
    /// The lease that guards this attempt's writes.
    pub fn lease(&self) -> Lease<'_> {
        Lease {
            id: &self.job.id,
            attempt: self.job.attempt,
            claim: self.job.claims,
            owner: &self.lease_owner,
        }
    }
}

/// How an attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Retrying cannot help.
    Permanent,
    /// Retry with backoff while attempts are left.
    Retryable,
    /// Stopped by the node (see [`Interruption`]).
    Interrupted(Interruption),
}

/// Why an attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// One line, naming plugin, handler and cause.
    pub message: String,
    /// The cause chain, outermost first.
    pub details: Vec<String>,
    /// What Pulse does next.
    pub kind: FailureKind,
}

/// What one attempt produced. Everything but the logs is committed only with its outcome.
#[derive(Debug, Clone)]
pub struct Execution {
    /// The result, or why there is none.
    pub outcome: Result<Value, Failure>,
    /// The latest progress the handler reported.
    pub progress: Progress,
    /// The cost the handler reported.
    pub cost: f64,
    /// What ran it: plugin version or handler sha256.
    pub plugin_version: String,
    /// Attestations to store if the attempt succeeds.
    pub attestations: Vec<ats::Attestation>,
    /// Child jobs to enqueue if the attempt succeeds.
    pub children: Vec<NewJob>,
    /// Log lines not yet written.
    pub logs: Vec<LogLine>,
}

impl Execution {
    /// An attempt that failed before the handler produced anything.
    pub fn failed(failure: Failure, plugin_version: impl Into<String>) -> Self {
        Self {
            outcome: Err(failure),
            progress: Progress::default(),
            cost: 0.0,
            plugin_version: plugin_version.into(),
            attestations: Vec::new(),
            children: Vec::new(),
            logs: Vec::new(),
        }
    }
}

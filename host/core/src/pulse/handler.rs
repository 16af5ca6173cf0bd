//! The contract between Pulse and what runs its jobs: a [`JobHandler`] gets a [`RunningJob`]
//! (with the [`Interrupt`] that tells it to stop) and returns an [`Execution`]. The runtime
//! implements it for WebAssembly components; Pulse knows nothing about them.
//!
//! While it runs, a handler reaches the store only through the narrow traits of [`AttemptIo`]:
//! it reports progress and logs, reads committed attestations and counts its job tree. It holds
//! no connection; the node's implementations ([`super::attempt_io`]) make each call on a
//! connection of their own, so a guest's query never waits for a worker's commit, nor the
//! reverse.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

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

/// Where a running attempt's progress, cost and log lines go, so that they are visible while
/// it runs.
pub trait ProgressSink: Send + Sync {
    /// Save `report`'s progress and cost and append its logs, all or nothing, if `lease`
    /// still holds.
    ///
    /// # Errors
    ///
    /// [`super::Error::LeaseLost`] when the attempt no longer holds its lease (nothing is
    /// written); another [`super::Error`] when the store fails.
    fn report(&self, lease: Lease<'_>, report: ProgressReport<'_>) -> super::Result<()>;
}

/// What a running attempt reports so far.
#[derive(Debug, Clone, Copy)]
pub struct ProgressReport<'a> {
    /// Its latest progress.
    pub progress: Progress,
    /// What it has cost, earlier attempts included.
    pub cost: f64,
    /// Log lines not yet reported.
    pub logs: &'a [LogLine],
    /// Now, Unix milliseconds.
    pub now: i64,
}

/// Reads committed attestations for a guest; [`AttestationReader::query_over`] adds a running
/// attempt's own pending writes, which are not stored yet.
pub trait AttestationReader: Send + Sync {
    /// One page of the committed attestations that match `query`, exactly as the store pages.
    ///
    /// # Errors
    ///
    /// [`ats::Error`] when the store fails.
    fn query(&self, query: &ats::Query) -> ats::Result<ats::Page>;

    /// The cursor of committed attestation `id`: its place in the newest-first order.
    ///
    /// # Errors
    ///
    /// [`ats::Error::NotFound`] when no attestation has this id; another [`ats::Error`] when
    /// the store fails.
    fn cursor(&self, id: &str) -> ats::Result<ats::Cursor>;

    /// The page of `query` had `pending` (in the order written) been stored after every
    /// committed attestation: read your own writes, with the store's order, paging and
    /// cursors, without writing them ([`ats::overlay`]).
    ///
    /// # Errors
    ///
    /// As [`AttestationReader::query`].
    fn query_over(
        &self,
        query: &ats::Query,
        pending: &[ats::Attestation],
    ) -> ats::Result<ats::Page> {
        let stored = self.query(query)?;
        ats::overlay::overlay(query, stored, pending, |last| self.cursor(&last.id))
    }
}

/// Counts a job tree, which bounds the children an attempt may enqueue.
pub trait JobTree: Send + Sync {
    /// How many jobs descend from the root job `root`.
    ///
    /// # Errors
    ///
    /// [`super::Error`] when the store fails.
    fn descendants(&self, root: &str) -> super::Result<u64>;
}

/// Everything a running attempt reads and writes before its outcome is committed.
#[derive(Clone)]
pub struct AttemptIo {
    /// Progress, cost and logs while the job runs.
    pub progress: Arc<dyn ProgressSink>,
    /// Committed attestations, for the guest's queries.
    pub attestations: Arc<dyn AttestationReader>,
    /// The job tree's size, for the guest's enqueues.
    pub tree: Arc<dyn JobTree>,
}

impl fmt::Debug for AttemptIo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttemptIo").finish_non_exhaustive()
    }
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
    /// Progress, logs, queries and the tree's size while the job runs.
    pub io: AttemptIo,
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

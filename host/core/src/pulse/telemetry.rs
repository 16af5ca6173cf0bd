//! What Pulse reports to the `metrics` facade: jobs enqueued, attempt outcomes, run times,
//! queue waits and spend. Recorder-agnostic: until a front end installs a recorder (the node's
//! Prometheus exporter), every call is a no-op.
//!
//! Labels are bounded: a handler name (bounded by registrations) and an [`Outcome`]; never a
//! job id. A write is counted once it is committed: what happens inside a transaction is
//! staged in a [`Tally`] and published after the commit, so a rolled-back batch counts
//! nothing.

use std::time::Duration;

/// Counter: jobs inserted, by `handler`.
pub const JOBS_ENQUEUED: &str = "qntx_jobs_enqueued_total";
/// Counter: attempts that ended, by `handler` and `outcome` (see [`Outcome`]).
pub const JOBS_FINISHED: &str = "qntx_jobs_finished_total";
/// Histogram: how long an attempt ran, seconds, by `handler`.
pub const JOB_DURATION: &str = "qntx_job_duration_seconds";
/// Histogram: from when a job could run (`run_at`) to its claim, seconds, by `handler`.
pub const JOB_QUEUE_WAIT: &str = "qntx_job_queue_wait_seconds";
/// Rising gauge (costs are fractional): cost reported by attempts as they commit.
pub const BUDGET_SPEND: &str = "qntx_budget_spend_total";
/// Gauge: jobs queued, by `handler`; computed from the store when rendered.
pub const JOBS_QUEUED: &str = "qntx_jobs_queued";

/// How an attempt a node ran ended, the `outcome` label of [`JOBS_FINISHED`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It succeeded; the job is `completed`.
    Completed,
    /// It failed with attempts left; the job is queued again for a later try.
    Retried,
    /// It failed permanently or on its last attempt; the job is `failed`.
    Failed,
    /// The node shut down; the job went back to the queue, the attempt uncounted.
    Released,
    /// The job was cancelled while it ran; the outcome was discarded.
    Cancelled,
    /// The job was paused while it ran; the outcome was discarded.
    Paused,
    /// The lease was lost otherwise (the job was rescued after this node's lease lapsed);
    /// the outcome was discarded.
    Discarded,
}

impl Outcome {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Retried => "retried",
            Self::Failed => "failed",
            Self::Released => "released",
            Self::Cancelled => "cancelled",
            Self::Paused => "paused",
            Self::Discarded => "discarded",
        }
    }
}

/// Events staged inside a transaction, published with [`Tally::publish`] once it commits
/// (dropped unpublished when it rolls back).
#[derive(Debug, Default)]
pub struct Tally {
    events: Vec<Event>,
}

#[derive(Debug)]
enum Event {
    Enqueued(String),
    Finished(String, Outcome),
    Spent(f64),
}

impl Tally {
    /// A job of `handler` was inserted.
    pub fn enqueued(&mut self, handler: &str) {
        self.events.push(Event::Enqueued(handler.to_owned()));
    }

    /// An attempt of `handler` ended with `outcome`.
    pub fn finished(&mut self, handler: &str, outcome: Outcome) {
        self.events
            .push(Event::Finished(handler.to_owned(), outcome));
    }

    /// An attempt settled `cost` more than its job had cost before (nothing when not above
    /// zero).
    pub fn spent(&mut self, cost: f64) {
        if cost > 0.0 && cost.is_finite() {
            self.events.push(Event::Spent(cost));
        }
    }

    /// Move the events of `other`, a nested part that committed, into this tally.
    pub fn absorb(&mut self, other: Tally) {
        self.events.extend(other.events);
    }

    /// Report every staged event: the transaction they happened in committed.
    pub fn publish(self) {
        for event in self.events {
            match event {
                Event::Enqueued(handler) => {
                    ::metrics::counter!(JOBS_ENQUEUED, "handler" => handler).increment(1);
                }
                Event::Finished(handler, outcome) => {
                    ::metrics::counter!(
                        JOBS_FINISHED,
                        "handler" => handler,
                        "outcome" => outcome.as_str()
                    )
                    .increment(1);
                }
                Event::Spent(cost) => ::metrics::gauge!(BUDGET_SPEND).increment(cost),
            }
        }
    }
}

/// An attempt of `handler` ran for `ran`.
pub(crate) fn attempt_ran(handler: &str, ran: Duration) {
    ::metrics::histogram!(JOB_DURATION, "handler" => handler.to_owned()).record(ran.as_secs_f64());
}

/// A job of `handler` was claimed `waited_ms` after it could run.
pub(crate) fn claimed_after(handler: &str, waited_ms: i64) {
    // Exact for any wait below 2^53 ms.
    let seconds = waited_ms.max(0) as f64 / 1000.0;
    ::metrics::histogram!(JOB_QUEUE_WAIT, "handler" => handler.to_owned()).record(seconds);
}

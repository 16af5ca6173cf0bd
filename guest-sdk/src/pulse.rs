//! Pulse: hand work to another handler as a new job.
//!
//! Inside a job, the new job is a child of the running one and is enqueued when the running
//! attempt succeeds.

use crate::bindings::qntx::plugin::pulse as wit;
use crate::{HostError, Value};

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    request: wit::EnqueueRequest,
}

impl NewJob {
    /// A job for `handler` (`<plugin>/<handler>` or `handler/<name>`) with a payload.
    pub fn new(handler: impl Into<String>, payload: &Value) -> Self {
        Self {
            request: wit::EnqueueRequest {
                handler: handler.into(),
                payload: payload.to_string(),
                priority: 0,
                max_attempts: None,
                delay_ms: 0,
                timeout_ms: None,
                cost_estimate: 0.0,
                source: None,
                unique: false,
            },
        }
    }

    /// Higher runs first; 0 is normal.
    pub fn priority(mut self, priority: i32) -> Self {
        self.request.priority = priority;
        self
    }

    /// Attempts before the job fails for good.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.request.max_attempts = Some(attempts);
        self
    }

    /// Run no earlier than `delay_ms` from now.
    pub fn delay_ms(mut self, delay_ms: u64) -> Self {
        self.request.delay_ms = delay_ms;
        self
    }

    /// Wall-clock limit of each attempt.
    pub fn timeout_ms(mut self, timeout_ms: u64) -> Self {
        self.request.timeout_ms = Some(timeout_ms);
        self
    }

    /// Expected cost, checked against the node's budgets before the job runs.
    pub fn cost_estimate(mut self, cost: f64) -> Self {
        self.request.cost_estimate = cost;
        self
    }

    /// Dedup key (with the handler) and a note of where the job came from.
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.request.source = Some(source.into());
        self
    }

    /// Skip the job when an active job has the same handler and source.
    pub fn unique(mut self) -> Self {
        self.request.unique = true;
        self
    }
}

/// Enqueue a job; returns its id.
///
/// # Errors
///
/// [`HostError::InvalidArgument`] for a malformed handler name or payload,
/// [`HostError::LimitExceeded`] past the job's limit on child jobs.
pub fn enqueue(job: NewJob) -> Result<String, HostError> {
    wit::enqueue(&job.request).map_err(HostError::from)
}

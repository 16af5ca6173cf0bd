//! The running job: its description ([`Job`]) and its side channel to Pulse.

use serde::de::DeserializeOwned;

use crate::bindings::qntx::plugin::job_context;
use crate::bindings::qntx::plugin::types as wit;
use crate::{JobError, Value};

/// One attempt of a Pulse job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The job's id; the same across attempts.
    pub id: String,
    /// The handler's own name as the component announced it, without the `<plugin>/` prefix.
    pub handler: String,
    /// The payload, parsed.
    pub payload: Value,
    /// 1 for the first attempt. Jobs run at least once: make handlers safe to repeat.
    pub attempt: u32,
    /// Attempts Pulse makes before the job fails for good.
    pub max_attempts: u32,
    /// Wall-clock deadline in Unix milliseconds; the node interrupts the guest after it.
    pub deadline_ms: u64,
    /// The job that enqueued this one, if any.
    pub parent_id: Option<String>,
    /// Where the job came from.
    pub source: String,
}

impl Job {
    pub(crate) fn from_wit(job: wit::Job) -> Result<Self, JobError> {
        Ok(Self {
            payload: serde_json::from_str(&job.payload)?,
            id: job.id,
            handler: job.handler,
            attempt: job.attempt,
            max_attempts: job.max_attempts,
            deadline_ms: job.deadline_ms,
            parent_id: job.parent_id,
            source: job.source,
        })
    }

    /// The payload as a typed value.
    ///
    /// # Errors
    ///
    /// A permanent [`JobError`] naming the mismatch when the payload does not fit `T`.
    pub fn payload_as<T: DeserializeOwned>(&self) -> Result<T, JobError> {
        serde_json::from_value(self.payload.clone())
            .map_err(|error| JobError::permanent(format!("payload does not fit: {error}")))
    }
}

/// Report progress; the node persists it and shows it while the job runs.
pub fn progress(current: u64, total: u64) {
    job_context::progress(current, total);
}

/// Add to the job's actual cost, in the unit of the node's budgets.
pub fn add_cost(amount: f64) {
    job_context::add_cost(amount);
}

/// True once the job has been cancelled: stop soon. The node interrupts the guest anyway.
pub fn is_cancelled() -> bool {
    job_context::is_cancelled()
}

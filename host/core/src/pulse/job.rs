//! The job record, its states, and what an enqueue asks for.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use super::state::{JobStatus, PauseReason};
use super::{Error, Result, bounds};

/// Attempts a job gets when the enqueue names no number.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// Progress a handler reports: `current` of `total` units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Units done.
    pub current: u64,
    /// Units in all; 0 when unknown.
    pub total: u64,
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// ULID: unique, sortable by creation time.
    pub id: String,
    /// Full handler name, e.g. `text/stats`.
    pub handler: String,
    /// JSON payload handed to the handler.
    pub payload: Value,
    /// Where it came from; with the handler, the dedup key of `unique` enqueues.
    pub source: String,
    /// Where it is in its life.
    pub status: JobStatus,
    /// Why it is paused, when it is.
    pub pause_reason: Option<PauseReason>,
    /// Higher runs first.
    pub priority: i32,
    /// Attempts started so far (the running one included).
    pub attempt: u32,
    /// Claims so far, including those given back uncounted (shutdown, pause); guards every
    /// running-job write so that an old claim's outcome never lands on a newer claim.
    pub claims: u32,
    /// Attempts before it fails for good.
    pub max_attempts: u32,
    /// Not claimed before this time, Unix milliseconds.
    pub run_at: i64,
    /// Wall-clock limit of one attempt; `None` means the node's default.
    pub timeout_ms: Option<u64>,
    /// The latest progress reported.
    pub progress: Progress,
    /// Expected cost, checked against budgets before it runs.
    pub cost_estimate: f64,
    /// Cost reported by the handler.
    pub cost_actual: f64,
    /// The handler's result, once completed.
    pub result: Option<Value>,
    /// Why the last attempt failed.
    pub error: Option<String>,
    /// The cause chain of `error`, outermost first.
    pub error_details: Option<Value>,
    /// The job that enqueued this one.
    pub parent_job_id: Option<String>,
    /// Version of the plugin (or handler sha256) that ran the latest attempt.
    pub plugin_version: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// When the latest attempt started.
    pub started_at: Option<i64>,
    /// When the job reached a final status.
    pub completed_at: Option<i64>,
    /// When anything last changed.
    pub updated_at: i64,
    /// The job at the top of this job's tree; `None` when this job is a root.
    pub root_job_id: Option<String>,
    /// How many parents this job has above it (0 for a root).
    pub depth: u32,
    /// The node that ran each claim of this job, oldest first (kept after it finishes).
    pub nodes: Vec<AttemptNode>,
}

impl Job {
    /// The root of this job's tree: its own id when it is a root.
    pub fn root(&self) -> &str {
        self.root_job_id.as_deref().unwrap_or(&self.id)
    }
}

/// Which node ran one attempt of a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptNode {
    /// The attempt's number (an attempt given back uncounted at shutdown appears again).
    pub attempt: u32,
    /// The id of the node that claimed it.
    pub node: String,
}

/// What an enqueue asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// A preassigned id (a guest learns its child job's id before the job is stored); `None`
    /// means a fresh ULID.
    pub id: Option<String>,
    /// Full handler name.
    pub handler: String,
    /// JSON payload.
    pub payload: Value,
    /// Where it comes from.
    pub source: String,
    /// Higher runs first, -1000 to 1000.
    pub priority: i32,
    /// Attempts before it fails for good, at least 1.
    pub max_attempts: u32,
    /// Not before this time, Unix milliseconds; `None` means now.
    pub run_at: Option<i64>,
    /// Wall-clock limit of one attempt.
    pub timeout_ms: Option<u64>,
    /// Expected cost.
    pub cost_estimate: f64,
    /// The job that enqueues this one.
    pub parent_job_id: Option<String>,
    /// Do not enqueue when an active job has the same handler and source.
    pub unique: bool,
    /// The root of the tree the job joins (`None`: it is a root); set with `parent_job_id`.
    pub root_job_id: Option<String>,
    /// Its depth in that tree (0 for a root).
    pub depth: u32,
}

impl NewJob {
    /// A job for `handler` with defaults: priority 0, 3 attempts, run now, source `cli`.
    pub fn new(handler: impl Into<String>, payload: Value) -> Self {
        Self {
            id: None,
            handler: handler.into(),
            payload,
            source: "cli".into(),
            priority: 0,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            run_at: None,
            timeout_ms: None,
            cost_estimate: 0.0,
            parent_job_id: None,
            unique: false,
            root_job_id: None,
            depth: 0,
        }
    }

    /// Check the rules the schema also enforces, with messages a user can act on.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] naming the field.
    pub fn validate(&self) -> Result<()> {
        let invalid = |message: String| Err(Error::Invalid(message));
        if self.handler.is_empty() || self.handler.len() > 256 {
            return invalid(format!(
                "handler name must be 1 to 256 bytes, got {}",
                self.handler.len()
            ));
        }
        if !(-1000..=1000).contains(&self.priority) {
            return invalid(format!(
                "priority {} is outside -1000..=1000",
                self.priority
            ));
        }
        if !(1..=bounds::MAX_ATTEMPTS).contains(&self.max_attempts) {
            return invalid(format!(
                "max attempts {} is outside 1..={}",
                self.max_attempts,
                bounds::MAX_ATTEMPTS
            ));
        }
        if let Some(timeout) = self.timeout_ms {
            bounds::check_timeout_ms(timeout)?;
        }
        if let Some(at) = self.run_at
            && !(0..=bounds::MAX_RUN_AT_MS).contains(&at)
        {
            return invalid(format!(
                "run-at time {at} ms is outside 1970-01-01 to 9999-12-31"
            ));
        }
        if !self.cost_estimate.is_finite() || self.cost_estimate < 0.0 {
            return invalid(format!(
                "cost estimate must be a non-negative number, got {}",
                self.cost_estimate
            ));
        }
        if self.source.len() > 1024 {
            return invalid("source must be at most 1024 bytes".into());
        }
        Ok(())
    }
}

/// Severity of a job log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Fine detail.
    Trace,
    /// Diagnostics.
    Debug,
    /// Normal events.
    Info,
    /// Something unexpected that the job survived.
    Warn,
    /// A failure.
    Error,
}

impl LogLevel {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trace => "trace",
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

impl FromStr for LogLevel {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        [
            Self::Trace,
            Self::Debug,
            Self::Info,
            Self::Warn,
            Self::Error,
        ]
        .into_iter()
        .find(|level| level.as_str() == text)
        .ok_or_else(|| format!("unknown log level '{text}'"))
    }
}

/// One line of a job's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// The attempt that wrote it.
    pub attempt: u32,
    /// Unix milliseconds.
    pub time: i64,
    /// Severity.
    pub level: LogLevel,
    /// Who wrote it: `pulse`, `runtime`, `guest`, `stdout`, `stderr`.
    pub stage: String,
    /// The text.
    pub message: String,
}

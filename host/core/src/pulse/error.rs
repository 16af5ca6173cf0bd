//! Errors of the job system.

use super::state::JobStatus;

/// Errors of the job system.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No job has this id (or id prefix).
    #[error("no job '{0}'")]
    NotFound(String),
    /// An id prefix matches several jobs.
    #[error("job id prefix '{prefix}' is ambiguous: {count} jobs match; give more characters")]
    Ambiguous {
        /// The prefix given.
        prefix: String,
        /// How many jobs match.
        count: usize,
    },
    /// The job is not in a state this transition starts from.
    #[error("job '{id}' is {status}, so it cannot be {action}")]
    WrongState {
        /// The job.
        id: String,
        /// Its current status.
        status: JobStatus,
        /// What was attempted, as a past participle ("cancelled").
        action: &'static str,
    },
    /// The job is not running under this lease any more (cancelled, rescued, or finished).
    #[error("job '{id}' attempt {attempt} no longer holds its lease")]
    LeaseLost {
        /// The job.
        id: String,
        /// The attempt that lost its lease.
        attempt: u32,
    },
    /// The new job breaks a rule.
    #[error("{0}")]
    Invalid(String),
    /// A job filter breaks a rule (an unknown status, a page size out of range, a reversed
    /// time range); the message says which.
    #[error("{0}")]
    InvalidFilter(String),
    /// A cursor that no page of jobs returned.
    #[error("malformed job cursor '{0}'")]
    BadCursor(String),
    /// Writing the attempt's attestations failed.
    #[error("storing the job's attestations")]
    Ats(#[from] crate::ats::Error),
    /// Storing the attestations of a completing attempt failed.
    #[error("storing the job's attestations")]
    Attestations(#[source] crate::storage::Error),
    /// The store failed.
    #[error("job store")]
    Storage(#[from] crate::storage::Error),
}

/// Result of job system operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

//! Errors a handler returns ([`JobError`]) and errors the node returns to it ([`HostError`]).

use std::fmt;

use crate::bindings::qntx::plugin::types as wit;

/// Why a job attempt failed, and whether Pulse should try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// Trying again cannot help: the job fails now.
    Permanent(String),
    /// A passing problem: Pulse retries with backoff until the job's attempts run out.
    Retryable(String),
}

impl JobError {
    /// A failure that retrying cannot fix.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self::Permanent(message.into())
    }

    /// A failure worth another attempt.
    pub fn retryable(message: impl Into<String>) -> Self {
        Self::Retryable(message.into())
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Permanent(message) => write!(f, "{message}"),
            Self::Retryable(message) => write!(f, "{message} (retryable)"),
        }
    }
}

impl std::error::Error for JobError {}

impl From<serde_json::Error> for JobError {
    fn from(error: serde_json::Error) -> Self {
        Self::permanent(format!("invalid JSON: {error}"))
    }
}

/// A refused host call is permanent: the same call would be refused again.
impl From<HostError> for JobError {
    fn from(error: HostError) -> Self {
        Self::permanent(error.to_string())
    }
}

impl From<JobError> for wit::JobError {
    fn from(error: JobError) -> Self {
        match error {
            JobError::Permanent(message) => Self::Permanent(message),
            JobError::Retryable(message) => Self::Retryable(message),
        }
    }
}

/// Why the node refused a host call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostError {
    /// The arguments break a rule (an empty subject, attributes that are not an object, ...).
    InvalidArgument(String),
    /// The plugin has no grant for this.
    Denied(String),
    /// What was asked for does not exist.
    NotFound(String),
    /// A size or count limit of the sandbox was reached.
    LimitExceeded(String),
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidArgument(message) => write!(f, "invalid argument: {message}"),
            Self::Denied(message) => write!(f, "denied: {message}"),
            Self::NotFound(message) => write!(f, "not found: {message}"),
            Self::LimitExceeded(message) => write!(f, "limit exceeded: {message}"),
        }
    }
}

impl std::error::Error for HostError {}

impl From<wit::HostError> for HostError {
    fn from(error: wit::HostError) -> Self {
        match error {
            wit::HostError::InvalidArgument(message) => Self::InvalidArgument(message),
            wit::HostError::Denied(message) => Self::Denied(message),
            wit::HostError::NotFound(message) => Self::NotFound(message),
            wit::HostError::LimitExceeded(message) => Self::LimitExceeded(message),
        }
    }
}

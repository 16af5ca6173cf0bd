//! Where a job is in its life, and why a paused one waits.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a job is in its life. See the diagram in [`super`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for `run_at` and a worker. Moved out by a [`super::Worker`]'s claim (to
    /// `Running`, or to `Paused` with `budget_exceeded` when its estimate does not fit), by
    /// `qntx job pause` and by `qntx job cancel` (directly or through its parent).
    Queued,
    /// Held by a worker under a lease. Moved out by that [`super::Worker`] (completed, failed,
    /// or back to `Queued` for a retry or at shutdown), by the [`super::Rescuer`] when the lease
    /// expires (its node died), and by pause and cancel, which the holding node notices within
    /// a maintenance tick and interrupts the guest.
    Running,
    /// Held back, with a [`PauseReason`]. Moved out by `qntx job resume` (any reason), by the
    /// [`super::BudgetResumer`] for `budget_exceeded` when the window allows, and by cancel.
    Paused,
    /// Done, with a result. Final; the [`super::Pruner`] deletes it after the retention.
    Completed,
    /// Out of attempts, or failed permanently. `qntx job retry` moves it back to `Queued`;
    /// otherwise the [`super::Pruner`] deletes it after the retention.
    Failed,
    /// Cancelled by a user or with its parent. Final; the [`super::Pruner`] deletes it after
    /// the retention.
    Cancelled,
}

impl JobStatus {
    /// Every status, in life order.
    pub const ALL: [Self; 6] = [
        Self::Queued,
        Self::Running,
        Self::Paused,
        Self::Completed,
        Self::Failed,
        Self::Cancelled,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Whether the job has finished for good.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobStatus {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| {
                format!(
                    "unknown job status '{text}' (one of: {})",
                    Self::ALL.map(Self::as_str).join(", ")
                )
            })
    }
}

/// Why a job is paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseReason {
    /// Its cost estimate does not fit the spend window; it resumes when the window allows.
    BudgetExceeded,
    /// Its handler's rate limit is used up; it resumes when the limit allows.
    RateLimited,
    /// A user paused it; a user resumes it.
    User,
}

impl PauseReason {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BudgetExceeded => "budget_exceeded",
            Self::RateLimited => "rate_limited",
            Self::User => "user",
        }
    }
}

impl FromStr for PauseReason {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        [Self::BudgetExceeded, Self::RateLimited, Self::User]
            .into_iter()
            .find(|reason| reason.as_str() == text)
            .ok_or_else(|| format!("unknown pause reason '{text}'"))
    }
}

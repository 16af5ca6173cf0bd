//! What the dashboard's buttons do to a job: cancel, pause, resume, retry.

use std::fmt;
use std::str::FromStr;

use qntx_core::pulse::{self, JobStatus, PauseReason, store};
use qntx_core::storage::Store;

use crate::ApiError;

/// A button's action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    Cancel,
    Pause,
    Resume,
    Retry,
}

impl Action {
    /// Every action, in the order buttons are shown.
    pub(super) const ALL: [Self; 4] = [Self::Pause, Self::Resume, Self::Retry, Self::Cancel];

    /// Its name, as in the URL and on the button.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Cancel => "cancel",
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::Retry => "retry",
        }
    }

    /// Whether it applies to a job in `status`.
    pub(super) fn applies_to(self, status: JobStatus) -> bool {
        match self {
            Self::Cancel => !status.is_final(),
            Self::Pause => matches!(status, JobStatus::Queued | JobStatus::Running),
            Self::Resume => status == JobStatus::Paused,
            Self::Retry => status == JobStatus::Failed,
        }
    }

    /// Do it to job `id` at `now` (retry: one more attempt).
    pub(super) fn apply(self, store: &dyn Store, id: &str, now: i64) -> pulse::Result<()> {
        match self {
            Self::Cancel => store::cancel(store, id, now).map(drop),
            Self::Pause => store::pause(store, id, PauseReason::User, now),
            Self::Resume => store::resume(store, id, now),
            Self::Retry => store::retry_failed(store, id, 1, now),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = ApiError;

    fn from_str(text: &str) -> Result<Self, ApiError> {
        Self::ALL
            .into_iter()
            .find(|action| action.as_str() == text)
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "no action '{text}': cancel, pause, resume or retry"
                ))
            })
    }
}

//! Errors of the storage seam, the same whatever the backend.

/// A backend's own error, kept as the cause.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong in the store, in terms a caller can act on without knowing the backend.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store refused the data itself (a constraint, a value too large, a wrong type):
    /// writing it again cannot succeed.
    #[error(transparent)]
    Refused(BoxError),
    /// The store failed (I/O, a full disk, a lock held too long, a read-only file, an
    /// unreachable server): the same write may succeed later.
    #[error(transparent)]
    Backend(BoxError),
    /// A stored value this build cannot read (a malformed row, an unknown status).
    #[error("malformed stored data: {0}")]
    Corrupt(String),
}

impl Error {
    /// Whether the store refused the data itself, so that retrying the same write is useless.
    pub fn is_refusal(&self) -> bool {
        matches!(self, Self::Refused(_))
    }
}

/// Result of storage operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

//! Errors of the attestation store.

/// Errors of the attestation store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The attestation or query breaks a rule; the message says which.
    #[error("{0}")]
    Invalid(String),
    /// No attestation has this id.
    #[error("no attestation '{0}'")]
    NotFound(String),
    /// A cursor that this store did not produce.
    #[error("malformed cursor '{0}'")]
    BadCursor(String),
    /// Ten random ids in a row collided with stored ones.
    #[error("could not generate a unique attestation id for '{0}'")]
    IdExhausted(String),
    /// The store failed.
    #[error("attestation store")]
    Storage(#[from] crate::storage::Error),
}

/// Result of attestation store operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

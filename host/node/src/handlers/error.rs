//! Why a handler operation failed.

/// Why a handler operation failed. Messages name the handler and what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The name breaks the naming rule.
    #[error("{0}")]
    InvalidName(String),
    /// No handler of that name was ever created.
    #[error("no handler '{0}'; create it with 'qntx handler create {0} --file FILE'")]
    NotFound(String),
    /// The handler was removed.
    #[error("handler '{0}' was removed; 'qntx handler rollback {0}' brings back its last version")]
    Removed(String),
    /// No version of the handler matches the sha256 (prefix) given.
    #[error(
        "handler '{name}' has no version '{sha}'; 'qntx handler show {name} --versions' lists them"
    )]
    UnknownVersion {
        /// The handler.
        name: String,
        /// What was asked for.
        sha: String,
    },
    /// More than one version matches the sha256 prefix given.
    #[error("'{sha}' matches several versions of handler '{name}'; give more digits")]
    AmbiguousVersion {
        /// The handler.
        name: String,
        /// What was asked for.
        sha: String,
    },
    /// There is no other version to roll back to.
    #[error("handler '{0}' has no earlier version to roll back to")]
    NoEarlierVersion(String),
    /// The component is not one a node can run as a handler.
    #[error("handler '{name}' refused")]
    Refused {
        /// The handler.
        name: String,
        /// Why.
        #[source]
        source: crate::plugins::Error,
    },
    /// A handler component must announce exactly one handler.
    #[error(
        "handler '{name}' refused: a handler component announces exactly one handler; this one announces {count}"
    )]
    Announces {
        /// The handler.
        name: String,
        /// How many it announces.
        count: usize,
    },
    /// The attestation points at component bytes that are not in the database.
    #[error("handler '{name}': component {sha256} is not in the database")]
    MissingComponent {
        /// The handler.
        name: String,
        /// The missing component.
        sha256: String,
    },
    /// The stored bytes do not hash to their key.
    #[error("handler '{name}': stored component {sha256} is corrupt (its bytes hash to {actual})")]
    Corrupt {
        /// The handler.
        name: String,
        /// The key.
        sha256: String,
        /// What the bytes hash to.
        actual: String,
    },
    /// A handler attestation lacks an attribute.
    #[error("handler attestation '{id}' has no valid '{attribute}' attribute")]
    BadAttestation {
        /// The attestation.
        id: String,
        /// The attribute.
        attribute: &'static str,
    },
    /// Reading or writing attestations failed.
    #[error(transparent)]
    Ats(#[from] crate::ats::Error),
    /// The store failed.
    #[error("handler store")]
    Storage(#[from] crate::storage::Error),
}

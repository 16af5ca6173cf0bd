//! Errors of opening the database, and PostgreSQL's errors as the storage seam's.

use crate::storage;

/// Errors opening or migrating a PostgreSQL database.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL is not a PostgreSQL connection string.
    #[error("'{url}' is not a PostgreSQL URL (postgres://user:password@host:port/database)")]
    Url {
        /// The URL, its password hidden.
        url: String,
        /// What the parser said.
        #[source]
        source: tokio_postgres::Error,
    },
    /// The server could not be reached or refused the connection (a wrong password, a
    /// database that does not exist).
    #[error("connecting to {target}")]
    Connect {
        /// The server and database, without the password.
        target: String,
        /// The cause.
        #[source]
        source: tokio_postgres::Error,
    },
    /// The runtime that drives the connections could not start.
    #[error("starting the PostgreSQL client's runtime")]
    Runtime(#[source] std::io::Error),
    /// A migration failed; the database is left at the previous version.
    #[error("applying migration {version} '{name}' to {target}")]
    Migrate {
        /// The migration's number.
        version: u32,
        /// The migration's name.
        name: &'static str,
        /// The server and database.
        target: String,
        /// The cause.
        #[source]
        source: storage::Error,
    },
    /// The database was migrated by a newer qntx.
    #[error(
        "database schema version {found} of {target} is newer than this qntx understands ({known}); upgrade qntx"
    )]
    TooNew {
        /// The server and database.
        target: String,
        /// The version recorded in the database.
        found: u32,
        /// The newest version this build knows.
        known: u32,
    },
}

/// PostgreSQL's `error` as a storage error: integrity and data errors (SQLSTATE classes 22
/// and 23) and program limits (54) refuse the data; a value that cannot be read back is
/// corrupt; anything else (the server gone, a lock timeout, a full disk) is the store failing.
pub fn to_storage(error: tokio_postgres::Error) -> storage::Error {
    let class = error.code().map(|code| &code.code()[..2]);
    match class {
        Some("22" | "23" | "54") => storage::Error::Refused(Box::new(error)),
        _ if is_conversion(&error) => storage::Error::Corrupt(crate::error_chain(&error)),
        _ => storage::Error::Backend(Box::new(error)),
    }
}

/// Whether the client failed to convert a value read back (a column of another type).
fn is_conversion(error: &tokio_postgres::Error) -> bool {
    error.code().is_none() && error.to_string().starts_with("error deserializing")
}

/// `.or_storage()` on a `tokio_postgres` result: the same value, or [`to_storage`] of the error.
pub(crate) trait OrStorage<T> {
    /// The value, or the error as a storage error.
    fn or_storage(self) -> storage::Result<T>;
}

impl<T> OrStorage<T> for Result<T, tokio_postgres::Error> {
    fn or_storage(self) -> storage::Result<T> {
        self.map_err(to_storage)
    }
}

//! The SQLite backend of the storage seam ([`crate::storage`]): one file holds attestations,
//! jobs and handler registrations. It owns all SQL, the migrations, the pragmas and the
//! wake-ups.
//!
//! Every process (a running node, a CLI command) opens its own [`SqliteBackend`] and its
//! connections. SQLite in WAL mode lets readers run beside one writer; the writers of one
//! backend queue on its write gate, those of other processes on the database lock for up to
//! [`BUSY_TIMEOUT`]. Many nodes on one file work on one machine; across machines, use one node.

#![warn(missing_docs)]

use qntx_core::{ats, clock, error_chain, pulse, storage};

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

mod attestations;
mod backend;
mod components;
mod dump;
mod error;
mod fault;
mod job_events;
mod job_list;
mod jobs;
mod migrations;
mod plugin_loads;
mod pulse_records;
mod tokens;
mod transitions;
mod triggers;
mod values;
mod wal;

pub use backend::{CHANGE_POLL, SqliteBackend, SqliteConnection};
pub use error::{OrStorage, to_storage};

pub use fault::{describe_error, sqlite_cause};
pub use migrations::{MIGRATIONS, Migration};
pub use wal::WalWatch;

/// How long a statement waits for another writer before failing with "database is locked".
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The database file inside a data directory.
pub const FILE_NAME: &str = "qntx.db";

/// Errors opening or migrating the database.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The data directory could not be created.
    #[error("creating data directory '{path}'")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// SQLite refused to open or configure the file.
    #[error("opening database '{path}'")]
    Open {
        /// The database file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },
    /// A migration failed; the database is left at the previous version.
    #[error("applying migration {version} '{name}'")]
    Migrate {
        /// The migration's number.
        version: u32,
        /// The migration's name.
        name: &'static str,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },
    /// The database was written by a newer qntx.
    #[error(
        "database schema version {found} is newer than this qntx understands ({known}); upgrade qntx"
    )]
    TooNew {
        /// The version recorded in the file.
        found: u32,
        /// The newest version this build knows.
        known: u32,
    },
}

/// The version of the SQLite library this build runs, `3.46.0`.
pub fn version() -> &'static str {
    rusqlite::version()
}

/// Open (creating if needed) the database in `data_dir` and bring its schema up to date.
///
/// # Errors
///
/// [`Error`] when the directory or file cannot be created, or a migration fails.
pub(crate) fn open_in(data_dir: &Path) -> Result<Connection, Error> {
    open_file(&data_dir.join(FILE_NAME))
}

/// Open (creating it and its directory if needed) the database file at `path` and bring its
/// schema up to date.
///
/// # Errors
///
/// [`Error`] when the directory or file cannot be created, or a migration fails.
pub(crate) fn open_file(path: &Path) -> Result<Connection, Error> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::CreateDir {
            path: dir.to_owned(),
            source,
        })?;
    }
    let mut conn = open(path)?;
    migrations::apply(&mut conn)?;
    Ok(conn)
}

/// Open a connection to an existing or new database file, configured for qntx. Does not migrate.
///
/// # Errors
///
/// [`Error::Open`] when SQLite cannot open or configure the file.
pub(crate) fn open(path: &Path) -> Result<Connection, Error> {
    let wrap = |source| Error::Open {
        path: path.to_owned(),
        source,
    };
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags).map_err(wrap)?;
    // Wait for other writers instead of failing at once.
    conn.busy_timeout(BUSY_TIMEOUT).map_err(wrap)?;
    // WAL: readers never block the writer, and a crash loses no committed transaction.
    conn.pragma_update(None, "journal_mode", "wal")
        .map_err(wrap)?;
    // In WAL mode NORMAL is durable against process crashes; a power loss may drop the last
    // transactions, never corrupt the file.
    conn.pragma_update(None, "synchronous", "normal")
        .map_err(wrap)?;
    // attestation_values references attestations.
    conn.pragma_update(None, "foreign_keys", "on")
        .map_err(wrap)?;
    // Read the file through a memory map (up to 1 GiB) and keep up to 64 MiB of pages per
    // connection: with the default 2 MiB cache, index walks on a large store spend most of
    // their time copying pages out of the OS cache with read().
    conn.pragma_update(None, "mmap_size", 1_i64 << 30)
        .map_err(wrap)?;
    conn.pragma_update(None, "cache_size", -65_536)
        .map_err(wrap)?;
    Ok(conn)
}

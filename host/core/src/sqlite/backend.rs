//! The SQLite backend: one database file, one connection per [`Connection`](storage::Connection).

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::error::OrStorage;
use super::{Error, FILE_NAME};
use crate::storage::{self, Store};

/// How often [`SqliteConnection::wait_for_change`] looks at the file: the added latency of a
/// job enqueued by another process. Reading `PRAGMA data_version` touches no table, so looking
/// every millisecond costs next to nothing.
pub const CHANGE_POLL: Duration = Duration::from_millis(1);

/// A qntx database file, migrated to this build's schema when opened.
#[derive(Debug)]
pub struct SqliteBackend {
    path: PathBuf,
    /// Keeps a temporary database's directory alive as long as the backend.
    _temporary: Option<tempfile::TempDir>,
}

impl SqliteBackend {
    /// The database in `data_dir` (created if needed), migrated.
    ///
    /// # Errors
    ///
    /// [`Error`] when the directory or file cannot be created, or a migration fails.
    pub fn open_in(data_dir: &Path) -> Result<Self, Error> {
        super::open_in(data_dir)?;
        Ok(Self {
            path: data_dir.join(FILE_NAME),
            _temporary: None,
        })
    }

    /// A migrated database in a temporary directory, removed with the backend: for work that
    /// needs a store but no data directory (checking a freshly built plugin, tests).
    ///
    /// # Errors
    ///
    /// [`Error`] when the directory or database cannot be created.
    pub fn temporary() -> Result<Self, Error> {
        let dir = tempfile::tempdir().map_err(|source| Error::CreateDir {
            path: std::env::temp_dir(),
            source,
        })?;
        let mut backend = Self::open_in(dir.path())?;
        backend._temporary = Some(dir);
        Ok(backend)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A new connection, as its concrete type.
    ///
    /// # Errors
    ///
    /// [`Error::Open`] when SQLite cannot open or configure the file.
    pub fn connection(&self) -> Result<SqliteConnection, Error> {
        Ok(SqliteConnection::new(super::open(&self.path)?))
    }
}

impl storage::Backend for SqliteBackend {
    fn describe(&self) -> String {
        format!("sqlite database '{}'", self.path.display())
    }

    fn connect(&self) -> storage::Result<Box<dyn storage::Connection>> {
        let conn = self
            .connection()
            .map_err(|error| storage::Error::Backend(Box::new(error)))?;
        Ok(Box::new(conn))
    }
}

/// One SQLite connection; its [`Store`] methods are implemented in this module's siblings.
pub struct SqliteConnection {
    conn: rusqlite::Connection,
    /// `PRAGMA data_version` when [`Self::wait_for_change`] last looked.
    seen_version: Cell<Option<i64>>,
}

impl std::fmt::Debug for SqliteConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteConnection")
            .field("path", &self.conn.path())
            .finish_non_exhaustive()
    }
}

impl SqliteConnection {
    fn new(conn: rusqlite::Connection) -> Self {
        Self {
            conn,
            seen_version: Cell::new(None),
        }
    }

    /// The SQLite connection underneath: for this backend's statements, and for tests and
    /// diagnostics that must write raw SQL (simulating damaged data).
    pub fn sql(&self) -> &rusqlite::Connection {
        &self.conn
    }

    /// Run `writes` all or nothing: in a transaction of their own (`BEGIN IMMEDIATE`, so that
    /// what they read still holds when they write) or, inside a transaction, in a savepoint.
    pub fn atomic<T>(
        &self,
        writes: impl FnOnce(&rusqlite::Connection) -> storage::Result<T>,
    ) -> storage::Result<T> {
        let (begin, commit, rollback) = if self.conn.is_autocommit() {
            ("BEGIN IMMEDIATE", "COMMIT", "ROLLBACK")
        } else {
            (
                "SAVEPOINT atomic",
                "RELEASE atomic",
                "ROLLBACK TO atomic; RELEASE atomic",
            )
        };
        self.conn.execute_batch(begin).or_storage()?;
        match writes(&self.conn) {
            Ok(value) => {
                self.conn.execute_batch(commit).or_storage()?;
                Ok(value)
            }
            Err(error) => {
                // The rollback's own failure would hide the cause; the connection rolls the
                // transaction back when SQLite cannot.
                let _ = self.conn.execute_batch(rollback);
                Err(error)
            }
        }
    }

    /// Let SQLite refresh its query planner statistics (`PRAGMA optimize`), as after a bulk
    /// load.
    ///
    /// # Errors
    ///
    /// When SQLite fails.
    pub fn optimize(&self) -> storage::Result<()> {
        self.conn.execute_batch("PRAGMA optimize").or_storage()
    }

    fn data_version(&self) -> storage::Result<i64> {
        self.conn
            .query_row("PRAGMA data_version", [], |row| row.get(0))
            .or_storage()
    }
}

impl storage::Connection for SqliteConnection {
    fn store(&self) -> &(dyn Store + 'static) {
        self
    }

    fn transaction(&mut self) -> storage::Result<Box<dyn storage::Transaction + '_>> {
        self.conn.execute_batch("BEGIN IMMEDIATE").or_storage()?;
        Ok(Box::new(SqliteTransaction {
            conn: self,
            finished: false,
        }))
    }

    fn snapshot(&mut self) -> storage::Result<Box<dyn storage::Transaction + '_>> {
        // Deferred: the first read fixes the snapshot (WAL mode), no lock is taken for writing.
        self.conn.execute_batch("BEGIN DEFERRED").or_storage()?;
        Ok(Box::new(SqliteTransaction {
            conn: self,
            finished: false,
        }))
    }

    fn wait_for_change(&mut self, timeout: Duration) -> storage::Result<bool> {
        let start = Instant::now();
        let mut seen = match self.seen_version.get() {
            Some(seen) => seen,
            None => self.data_version()?,
        };
        loop {
            let version = self.data_version()?;
            if version != seen {
                self.seen_version.set(Some(version));
                return Ok(true);
            }
            seen = version;
            self.seen_version.set(Some(seen));
            let left = timeout.saturating_sub(start.elapsed());
            if left.is_zero() {
                return Ok(false);
            }
            std::thread::sleep(left.min(CHANGE_POLL));
        }
    }

    fn explain(&self, error: &(dyn std::error::Error + 'static)) -> String {
        super::describe_error(&self.conn, error)
    }
}

/// A write transaction on a [`SqliteConnection`], rolled back when dropped uncommitted.
struct SqliteTransaction<'c> {
    conn: &'c SqliteConnection,
    finished: bool,
}

impl storage::Transaction for SqliteTransaction<'_> {
    fn store(&self) -> &(dyn Store + 'static) {
        self.conn
    }

    fn commit(mut self: Box<Self>) -> storage::Result<()> {
        self.finished = true;
        let committed = self.conn.conn.execute_batch("COMMIT");
        if committed.is_err() && !self.conn.conn.is_autocommit() {
            let _ = self.conn.conn.execute_batch("ROLLBACK");
        }
        committed.or_storage()
    }
}

impl Drop for SqliteTransaction<'_> {
    fn drop(&mut self) {
        if !self.finished
            && !self.conn.conn.is_autocommit()
            && let Err(error) = self.conn.conn.execute_batch("ROLLBACK")
        {
            tracing::warn!(error = %error, "rolling back a transaction failed");
        }
    }
}

impl Store for SqliteConnection {}

#[cfg(test)]
mod tests;

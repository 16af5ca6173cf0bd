//! The SQLite backend: one database file, one connection per [`Connection`](storage::Connection).

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::error::OrStorage;
use super::{BUSY_TIMEOUT, Error, FILE_NAME, WalWatch};
use crate::storage::{self, Store};

/// How often [`wait_for_change`](storage::Connection::wait_for_change) looks at the file: the added latency of a
/// job enqueued by another process. Reading `PRAGMA data_version` touches no table, so looking
/// every millisecond costs next to nothing.
pub const CHANGE_POLL: Duration = Duration::from_millis(1);

/// A qntx database file, migrated to this build's schema when opened.
///
/// Its connections write one at a time: a transaction (and `SqliteConnection::atomic`
/// outside one) first takes the backend's write gate, so writers of one process queue on an
/// in-process lock rather than on SQLite's busy sleeps, and each thread can own a connection.
#[derive(Debug)]
pub struct SqliteBackend {
    path: PathBuf,
    settings: Arc<Settings>,
    /// Keeps a temporary database's directory alive as long as the backend.
    _temporary: Option<tempfile::TempDir>,
}

/// What every connection of one backend shares.
#[derive(Debug)]
struct Settings {
    gate: WriteGate,
    busy_timeout: Duration,
    wal_threshold: u64,
}

/// The lock writers of one backend take from `BEGIN` to `COMMIT` or `ROLLBACK`.
#[derive(Debug, Default)]
struct WriteGate {
    held: Mutex<bool>,
    freed: Condvar,
}

impl WriteGate {
    /// Take the gate, waiting at most `patience`; false when it stayed taken (then the writer
    /// goes on to SQLite's own lock, which waits and fails as it would without the gate: a
    /// connection of this thread that holds the gate must not deadlock another).
    fn take(&self, patience: Duration) -> bool {
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let (mut held, timeout) = self
            .freed
            .wait_timeout_while(held, patience, |held| *held)
            .unwrap_or_else(|e| e.into_inner());
        if timeout.timed_out() && *held {
            return false;
        }
        *held = true;
        true
    }

    fn give_back(&self) {
        *self.held.lock().unwrap_or_else(|e| e.into_inner()) = false;
        self.freed.notify_one();
    }
}

impl SqliteBackend {
    /// The database in `data_dir` (created if needed), migrated.
    ///
    /// # Errors
    ///
    /// [`Error`] when the directory or file cannot be created, or a migration fails.
    pub fn open_in(data_dir: &Path) -> Result<Self, Error> {
        super::open_in(data_dir)?;
        Ok(Self::on(data_dir.join(FILE_NAME)))
    }

    /// The database file at `path` (created, with its directory, if needed), migrated.
    ///
    /// # Errors
    ///
    /// [`Error`] when the directory or file cannot be created, or a migration fails.
    pub fn open(path: &Path) -> Result<Self, Error> {
        super::open_file(path)?;
        Ok(Self::on(path.to_owned()))
    }

    /// The database file at `path` as it is, with the default limits.
    fn on(path: PathBuf) -> Self {
        Self {
            path,
            settings: Arc::new(Settings {
                gate: WriteGate::default(),
                busy_timeout: BUSY_TIMEOUT,
                wal_threshold: WalWatch::THRESHOLD,
            }),
            _temporary: None,
        }
    }

    /// The database file at `path` as it is, not migrated: for tests of older schemas.
    #[cfg(test)]
    pub(crate) fn unmigrated(path: &Path) -> Self {
        Self::on(path.to_owned())
    }

    /// The same database, its connections waiting `busy_timeout` for another process's
    /// writer and reporting a write-ahead log past `wal_threshold` bytes in
    /// [`storage::Connection::upkeep`]. Connections made before keep their settings.
    #[must_use]
    pub fn with_limits(mut self, busy_timeout: Duration, wal_threshold: u64) -> Self {
        self.settings = Arc::new(Settings {
            gate: WriteGate::default(),
            busy_timeout,
            wal_threshold,
        });
        self
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
        let conn = super::open(&self.path)?;
        conn.busy_timeout(self.settings.busy_timeout)
            .map_err(|source| Error::Open {
                path: self.path.clone(),
                source,
            })?;
        Ok(SqliteConnection {
            conn,
            seen_version: Cell::new(None),
            settings: self.settings.clone(),
            gated: Cell::new(false),
            wal: WalWatch::new(&self.path, self.settings.wal_threshold),
        })
    }
}

impl storage::Backend for SqliteBackend {
    fn describe(&self) -> String {
        format!("sqlite database '{}'", self.path.display())
    }

    fn local_dir(&self) -> Option<PathBuf> {
        self.path.parent().map(Path::to_path_buf)
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
    settings: Arc<Settings>,
    /// Whether this connection holds the backend's write gate.
    gated: Cell<bool>,
    /// The write-ahead log's size at the last [`storage::Connection::upkeep`].
    wal: WalWatch,
}

impl std::fmt::Debug for SqliteConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteConnection")
            .field("path", &self.conn.path())
            .finish_non_exhaustive()
    }
}

impl SqliteConnection {
    /// The SQLite connection underneath: for the statements of this backend, and for tests
    /// and diagnostics that must write what no statement of the seam writes (damaged rows).
    pub fn sql(&self) -> &rusqlite::Connection {
        &self.conn
    }

    /// `BEGIN IMMEDIATE` once this connection holds the write gate.
    fn begin(&self) -> storage::Result<()> {
        let gated = self.settings.gate.take(self.settings.busy_timeout);
        self.gated.set(gated);
        let begun = self
            .conn
            .prepare_cached("BEGIN IMMEDIATE")
            .and_then(|mut s| s.execute([]));
        if begun.is_err() {
            self.ungate();
        }
        begun.map(drop).or_storage()
    }

    /// Give the write gate back, if this connection holds it.
    fn ungate(&self) {
        if self.gated.replace(false) {
            self.settings.gate.give_back();
        }
    }

    /// `COMMIT`, or `ROLLBACK` when the commit fails; the gate is given back either way.
    fn finish(&self, sql: &str) -> rusqlite::Result<()> {
        let finished = self
            .conn
            .prepare_cached(sql)
            .and_then(|mut s| s.execute([]));
        if finished.is_err() && !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        self.ungate();
        finished.map(drop)
    }

    /// Run `writes` all or nothing: in a transaction of their own (`BEGIN IMMEDIATE`, so that
    /// what they read still holds when they write) or, inside a transaction, in a savepoint.
    /// The error is any that a storage error converts into.
    pub(crate) fn atomic<T, E: From<storage::Error>>(
        &self,
        writes: impl FnOnce(&rusqlite::Connection) -> Result<T, E>,
    ) -> Result<T, E> {
        if self.conn.is_autocommit() {
            self.begin()?;
            return match writes(&self.conn) {
                Ok(value) => Ok(self.finish("COMMIT").or_storage().map(|()| value)?),
                Err(error) => {
                    // The rollback's own failure would hide the cause; the connection rolls
                    // the transaction back when SQLite cannot.
                    let _ = self.finish("ROLLBACK");
                    Err(error)
                }
            };
        }
        // Cached: a worker committing a batch of outcomes opens a savepoint per job.
        let run = |sql: &str| {
            self.conn
                .prepare_cached(sql)
                .and_then(|mut s| s.execute([]))
        };
        run("SAVEPOINT atomic").or_storage()?;
        match writes(&self.conn) {
            Ok(value) => {
                run("RELEASE atomic").or_storage()?;
                Ok(value)
            }
            Err(error) => {
                let _ = self
                    .conn
                    .execute_batch("ROLLBACK TO atomic; RELEASE atomic");
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
        self.begin()?;
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

    fn upkeep(&mut self) -> Option<String> {
        self.wal.check(&self.conn)
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
        self.conn.finish("COMMIT").or_storage()
    }
}

impl Drop for SqliteTransaction<'_> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        if !self.conn.conn.is_autocommit()
            && let Err(error) = self.conn.conn.execute_batch("ROLLBACK")
        {
            tracing::warn!(error = %error, "rolling back a transaction failed");
        }
        self.conn.ungate();
    }
}

impl Store for SqliteConnection {
    fn atomically(&self, work: &mut dyn FnMut(&dyn Store) -> bool) -> storage::Result<()> {
        /// Why writes were not kept: the store failed, or `work` discarded them.
        enum NotKept {
            Failed(storage::Error),
            Discarded,
        }
        impl From<storage::Error> for NotKept {
            fn from(error: storage::Error) -> Self {
                Self::Failed(error)
            }
        }
        let kept = self.atomic(|_| {
            if work(self) {
                Ok(())
            } else {
                Err(NotKept::Discarded)
            }
        });
        match kept {
            Ok(()) | Err(NotKept::Discarded) => Ok(()),
            Err(NotKept::Failed(error)) => Err(error),
        }
    }

    fn in_transaction(&self) -> bool {
        !self.conn.is_autocommit()
    }

    fn exclusive(&self, _key: &str) -> storage::Result<()> {
        // Every transaction holds the write gate from `BEGIN IMMEDIATE` to its end.
        Ok(())
    }
}

#[cfg(test)]
mod tests;

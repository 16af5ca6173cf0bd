//! The node's [`AttemptIo`] on SQLite: a running attempt's progress and logs, its guest's
//! queries and its tree counts, each on a connection of the attempts' own (a small pool per
//! worker, opened on first use), never the worker's, so that a guest's query does not wait
//! for a worker's commit, nor the reverse. Plugin loading reads through the connection it
//! already holds (the `Mutex<Connection>` impls), for `initialize`.
//!
//! This is the one file that calls the store for a running attempt: `update_progress`,
//! `append_logs`, `descendants`, `ats::store::query` and the cursor statement below move
//! behind the storage seam here, and the pool becomes a [`crate::storage::Pool`].

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, TransactionBehavior};

use super::store::{self, Lease};
use super::{
    AttemptIo, AttestationReader, JobTree, ProgressReport, ProgressSink, SharedConnection, lock,
};
use crate::{ats, sqlite};

/// Idle connections a pool keeps: the calls of one attempt come one at a time.
const KEEP_IDLE: usize = 2;

/// The [`AttemptIo`] of attempts run by a worker writing through `conn`: connections of their
/// own to its database file. An in-memory database has no second connection, so attempts on
/// one (benchmarks) use `conn` itself.
pub fn beside(conn: &SharedConnection) -> AttemptIo {
    let file = lock(conn)
        .path()
        .filter(|path| !path.is_empty())
        .map(PathBuf::from);
    match file {
        Some(path) => {
            let pool = Arc::new(Pool {
                path,
                idle: Mutex::default(),
            });
            AttemptIo {
                progress: pool.clone(),
                attestations: pool.clone(),
                tree: pool,
            }
        }
        None => AttemptIo {
            progress: conn.clone(),
            attestations: conn.clone(),
            tree: conn.clone(),
        },
    }
}

/// Connections to one database file, opened when none is idle.
struct Pool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

/// Where a call gets its connection.
trait Connections: Send + Sync {
    /// Run `work` on a connection.
    fn with<T, E: From<crate::storage::Error>>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, E>,
    ) -> Result<T, E>;
}

impl Connections for Pool {
    fn with<T, E: From<crate::storage::Error>>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, E>,
    ) -> Result<T, E> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => open(&self.path)?,
        };
        let result = work(&conn);
        // A connection that just failed may be broken: the next call opens a new one.
        if result.is_ok() {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            if idle.len() < KEEP_IDLE {
                idle.push(conn);
            }
        }
        result
    }
}

/// The connection a plugin's loader (or an in-memory benchmark) already holds.
impl Connections for Mutex<Connection> {
    fn with<T, E: From<crate::storage::Error>>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, E>,
    ) -> Result<T, E> {
        work(&self.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl<C: Connections> ProgressSink for C {
    fn report(&self, lease: Lease<'_>, report: ProgressReport<'_>) -> super::Result<()> {
        self.with(|conn| {
            let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)
                .map_err(sqlite::to_storage)?;
            store::update_progress(&tx, lease, report.progress, report.cost, report.now)?;
            store::append_logs(&tx, lease.id, report.logs)?;
            tx.commit().map_err(sqlite::to_storage)?;
            Ok(())
        })
    }
}

impl<C: Connections> AttestationReader for C {
    fn query(&self, query: &ats::Query) -> ats::Result<ats::Page> {
        self.with(|conn| ats::store::query(conn, query))
    }

    fn cursor(&self, id: &str) -> ats::Result<ats::Cursor> {
        self.with(|conn| ats::store::cursor(conn, id))
    }
}

impl<C: Connections> JobTree for C {
    fn descendants(&self, root: &str) -> super::Result<u64> {
        self.with(|conn| store::descendants(conn, root))
    }
}

/// A new connection to `path`. Opening fails only when SQLite refuses the file, which the
/// error says.
fn open(path: &Path) -> crate::storage::Result<Connection> {
    sqlite::open(path).map_err(|error| match error {
        sqlite::Error::Open { source, .. } => sqlite::to_storage(source),
        other => crate::storage::Error::Backend(Box::new(other)),
    })
}

#[cfg(test)]
mod tests;

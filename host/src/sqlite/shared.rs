//! Pulse's operations on a shared `rusqlite` connection, for the two callers that still hold
//! one: the runtime (a job's progress, logs and tree size) and the triggers (an enqueue in the
//! cursor's transaction, and their own statements' errors as Pulse's). They run the same statements as [`SqliteConnection`](super::SqliteConnection);
//! this module goes when those callers move to the storage seam.

use rusqlite::Connection;

use crate::pulse::guard::lease_held;
use crate::pulse::store::Enqueued;
use crate::pulse::{Lease, LogLine, NewJob, Progress, Result};

/// [`crate::pulse::store::enqueue`] on `conn`.
///
/// # Errors
///
/// As [`crate::pulse::store::enqueue`].
pub fn enqueue(conn: &Connection, job: &NewJob, now: i64) -> Result<Enqueued> {
    crate::pulse::store::enqueue_with(
        job,
        now,
        |handler, source| super::jobs::find_active(conn, handler, source),
        |insert| super::jobs::insert(conn, insert),
    )
}

/// [`crate::pulse::store::update_progress`] on `conn`.
///
/// # Errors
///
/// As [`crate::pulse::store::update_progress`].
pub fn update_progress(
    conn: &Connection,
    lease: Lease<'_>,
    progress: Progress,
    cost_actual: f64,
    now: i64,
) -> Result<()> {
    let matched = super::transitions::progress_update(conn, lease, progress, cost_actual, now)?;
    lease_held(matched, lease)
}

/// [`crate::pulse::store::append_logs`] on `conn`.
///
/// # Errors
///
/// As [`crate::pulse::store::append_logs`].
pub fn append_logs(conn: &Connection, job_id: &str, lines: &[LogLine]) -> Result<()> {
    Ok(super::pulse_records::append_logs(conn, job_id, lines)?)
}

/// [`crate::pulse::store::descendants`] on `conn`.
///
/// # Errors
///
/// As [`crate::pulse::store::descendants`].
pub fn descendants(conn: &Connection, root: &str) -> Result<u64> {
    Ok(super::jobs::count_descendants(conn, root)?)
}

/// For the triggers' statements, which still run on a shared connection: SQLite's error as
/// Pulse's storage error.
impl From<rusqlite::Error> for crate::pulse::Error {
    fn from(error: rusqlite::Error) -> Self {
        Self::Storage(super::to_storage(error))
    }
}

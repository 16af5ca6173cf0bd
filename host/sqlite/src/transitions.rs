//! The guarded transitions of jobs on SQLite: each `UPDATE` names the state (and for a running
//! job, the attempt, claim and lease owner) it expects, and reports whether it matched.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use super::OrStorage;
use super::values::{json_list, sql, sql_int};
use crate::pulse::{Lease, Progress};
use crate::storage::{self, AttemptEnd, AttemptFailure};

/// Whether a guarded statement changed a row.
fn changed(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> storage::Result<bool> {
    conn.prepare_cached(sql)
        .and_then(|mut s| s.execute(params))
        .map(|rows| rows > 0)
        .or_storage()
}

/// Whether a guarded statement with `RETURNING` returned a row.
pub(super) fn returned_row(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> storage::Result<bool> {
    conn.prepare_cached(sql)
        .and_then(|mut s| s.query_row(params, |_| Ok(())).optional())
        .map(|row| row.is_some())
        .or_storage()
}

pub(super) fn complete(
    conn: &Connection,
    end: &AttemptEnd<'_>,
    result: &Value,
) -> storage::Result<bool> {
    let AttemptEnd { lease, report, now } = *end;
    changed(
        conn,
        sql!("job_complete"),
        params![
            lease.id,
            lease.attempt,
            lease.owner,
            result.to_string(),
            sql_int(report.progress.current),
            sql_int(report.progress.total),
            report.cost_actual,
            report.plugin_version,
            now,
            lease.claim,
        ],
    )
}

pub(super) fn retry(
    conn: &Connection,
    end: &AttemptEnd<'_>,
    failure: &AttemptFailure<'_>,
    retry_at: i64,
) -> storage::Result<bool> {
    let AttemptEnd { lease, report, now } = *end;
    changed(
        conn,
        sql!("job_retry"),
        params![
            lease.id,
            lease.attempt,
            lease.owner,
            retry_at,
            failure.message,
            json_list(&failure.details),
            sql_int(report.progress.current),
            sql_int(report.progress.total),
            report.cost_actual,
            report.plugin_version,
            now,
            lease.claim,
        ],
    )
}

pub(super) fn fail(
    conn: &Connection,
    end: &AttemptEnd<'_>,
    failure: &AttemptFailure<'_>,
) -> storage::Result<bool> {
    let AttemptEnd { lease, report, now } = *end;
    changed(
        conn,
        sql!("job_fail"),
        params![
            lease.id,
            lease.attempt,
            lease.owner,
            failure.message,
            json_list(&failure.details),
            sql_int(report.progress.current),
            sql_int(report.progress.total),
            report.cost_actual,
            report.plugin_version,
            now,
            lease.claim,
        ],
    )
}

pub(super) fn release(conn: &Connection, lease: Lease<'_>, now: i64) -> storage::Result<bool> {
    changed(
        conn,
        sql!("job_release"),
        params![lease.id, lease.attempt, lease.owner, now, lease.claim],
    )
}

/// Save progress and cost of a running attempt.
pub(super) fn progress_update(
    conn: &Connection,
    lease: Lease<'_>,
    progress: Progress,
    cost_actual: f64,
    now: i64,
) -> storage::Result<bool> {
    changed(
        conn,
        sql!("job_progress_update"),
        params![
            lease.id,
            lease.attempt,
            lease.owner,
            sql_int(progress.current),
            sql_int(progress.total),
            cost_actual,
            now,
            lease.claim
        ],
    )
}

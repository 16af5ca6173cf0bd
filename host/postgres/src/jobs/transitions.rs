//! The guarded transitions of jobs on PostgreSQL: each `UPDATE` names the state (and for a
//! running job, the attempt, claim and lease owner) it expects, and reports whether it matched.
//! A transition other nodes wait for (a job runnable again, finished, or taken from the node
//! running it) announces itself with [`PostgresConnection::changed`].

use serde_json::Value;

use super::values::{ids, int, json_list, text};
use crate::PostgresConnection;
use crate::pulse::{Lease, PauseReason, Progress};
use crate::storage::{self, AttemptEnd, AttemptFailure};

/// `matched`, announced as a change when true.
fn announced(conn: &PostgresConnection, matched: bool) -> storage::Result<bool> {
    if matched {
        conn.changed()?;
    }
    Ok(matched)
}

pub(super) fn complete(
    conn: &PostgresConnection,
    end: &AttemptEnd<'_>,
    result: &Value,
) -> storage::Result<bool> {
    let AttemptEnd { lease, report, now } = *end;
    let changed = conn.execute(
        include_str!("../sql/job_complete.sql"),
        &[
            &lease.id,
            &i64::from(lease.attempt),
            &lease.owner,
            &result.to_string(),
            &int(report.progress.current),
            &int(report.progress.total),
            &report.cost_actual,
            &report.plugin_version,
            &now,
            &i64::from(lease.claim),
        ],
    )?;
    announced(conn, changed > 0)
}

pub(super) fn retry(
    conn: &PostgresConnection,
    end: &AttemptEnd<'_>,
    failure: &AttemptFailure<'_>,
    retry_at: i64,
) -> storage::Result<bool> {
    let AttemptEnd { lease, report, now } = *end;
    let changed = conn.execute(
        include_str!("../sql/job_retry.sql"),
        &[
            &lease.id,
            &i64::from(lease.attempt),
            &lease.owner,
            &retry_at,
            &text(failure.message),
            &json_list(&failure.details),
            &int(report.progress.current),
            &int(report.progress.total),
            &report.cost_actual,
            &report.plugin_version,
            &now,
            &i64::from(lease.claim),
        ],
    )?;
    announced(conn, changed > 0)
}

pub(super) fn fail(
    conn: &PostgresConnection,
    end: &AttemptEnd<'_>,
    failure: &AttemptFailure<'_>,
) -> storage::Result<bool> {
    let AttemptEnd { lease, report, now } = *end;
    let changed = conn.execute(
        include_str!("../sql/job_fail.sql"),
        &[
            &lease.id,
            &i64::from(lease.attempt),
            &lease.owner,
            &text(failure.message),
            &json_list(&failure.details),
            &int(report.progress.current),
            &int(report.progress.total),
            &report.cost_actual,
            &report.plugin_version,
            &now,
            &i64::from(lease.claim),
        ],
    )?;
    announced(conn, changed > 0)
}

pub(super) fn release(
    conn: &PostgresConnection,
    lease: Lease<'_>,
    now: i64,
) -> storage::Result<bool> {
    let changed = conn.execute(
        include_str!("../sql/job_release.sql"),
        &[
            &lease.id,
            &i64::from(lease.attempt),
            &lease.owner,
            &now,
            &i64::from(lease.claim),
        ],
    )?;
    announced(conn, changed > 0)
}

/// Save progress and cost of a running attempt (nobody waits for it: no announcement).
pub(super) fn progress_update(
    conn: &PostgresConnection,
    lease: Lease<'_>,
    progress: Progress,
    cost_actual: f64,
    now: i64,
) -> storage::Result<bool> {
    let changed = conn.execute(
        include_str!("../sql/job_progress_update.sql"),
        &[
            &lease.id,
            &i64::from(lease.attempt),
            &lease.owner,
            &int(progress.current),
            &int(progress.total),
            &cost_actual,
            &now,
            &i64::from(lease.claim),
        ],
    )?;
    Ok(changed > 0)
}

pub(super) fn cancel(
    conn: &PostgresConnection,
    id: &str,
    now: i64,
) -> storage::Result<Vec<String>> {
    let cancelled = ids(&conn.query(include_str!("../sql/job_cancel.sql"), &[&id, &now])?)?;
    announced(conn, !cancelled.is_empty())?;
    Ok(cancelled)
}

pub(super) fn pause(
    conn: &PostgresConnection,
    id: &str,
    reason: PauseReason,
    now: i64,
) -> storage::Result<bool> {
    let row = conn.query_opt(
        include_str!("../sql/job_pause.sql"),
        &[&id, &reason.as_str(), &now],
    )?;
    announced(conn, row.is_some())
}

pub(super) fn resume(conn: &PostgresConnection, id: &str, now: i64) -> storage::Result<bool> {
    let row = conn.query_opt(include_str!("../sql/job_resume.sql"), &[&id, &now])?;
    announced(conn, row.is_some())
}

pub(super) fn requeue_failed(
    conn: &PostgresConnection,
    id: &str,
    attempts: u32,
    now: i64,
) -> storage::Result<bool> {
    let row = conn.query_opt(
        include_str!("../sql/job_requeue_failed.sql"),
        &[&id, &i64::from(attempts), &now],
    )?;
    announced(conn, row.is_some())
}

/// A rescue statement (`sql`, one parameter: now): the ids it moved.
pub(super) fn rescue(
    conn: &PostgresConnection,
    sql: &'static str,
    now: i64,
) -> storage::Result<Vec<String>> {
    let rescued = ids(&conn.query(sql, &[&now])?)?;
    announced(conn, !rescued.is_empty())?;
    Ok(rescued)
}

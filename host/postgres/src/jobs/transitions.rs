//! The guarded transitions of jobs on PostgreSQL: each `UPDATE` names the state (and for a
//! running job, the attempt, claim and lease owner) it expects, and reports whether it matched.
//! A transition other nodes wait for (a job runnable again, finished, or taken from the node
//! running it) announces itself with [`PostgresConnection::changed`].

use serde_json::Value;
use tokio_postgres::types::ToSql;

use super::values::{ids, int, json_list, text};
use crate::PostgresConnection;
use crate::backend::Params;
use crate::pulse::{Lease, PauseReason, Progress};
use crate::storage::{self, AttemptEnd, AttemptFailure};

/// `matched`, announced as a change when true.
fn announced(conn: &PostgresConnection, matched: bool) -> storage::Result<bool> {
    if matched {
        conn.changed()?;
    }
    Ok(matched)
}

/// Run `sql`, guarded on `lease` (its first four parameters: id, attempt, owner, claim), with
/// `more` after them; whether it matched.
fn guarded(
    conn: &PostgresConnection,
    sql: &'static str,
    lease: Lease<'_>,
    more: Params<'_>,
) -> storage::Result<bool> {
    let (attempt, claim) = (i64::from(lease.attempt), i64::from(lease.claim));
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![&lease.id, &attempt, &lease.owner, &claim];
    params.extend_from_slice(more);
    Ok(conn.execute(sql, &params)? > 0)
}

/// End a running attempt with `sql`: guarded on its lease, then its report (progress, cost,
/// plugin version, now) and `more`; announced when it matched.
fn end_attempt(
    conn: &PostgresConnection,
    sql: &'static str,
    end: &AttemptEnd<'_>,
    more: Params<'_>,
) -> storage::Result<bool> {
    let AttemptEnd { lease, report, now } = *end;
    let (current, total) = (int(report.progress.current), int(report.progress.total));
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![
        &current,
        &total,
        &report.cost_actual,
        &report.plugin_version,
        &now,
    ];
    params.extend_from_slice(more);
    let matched = guarded(conn, sql, lease, &params)?;
    announced(conn, matched)
}

pub(super) fn complete(
    conn: &PostgresConnection,
    end: &AttemptEnd<'_>,
    result: &Value,
) -> storage::Result<bool> {
    let sql = include_str!("../sql/job_complete.sql");
    end_attempt(conn, sql, end, &[&result.to_string()])
}

pub(super) fn retry(
    conn: &PostgresConnection,
    end: &AttemptEnd<'_>,
    failure: &AttemptFailure<'_>,
    retry_at: i64,
) -> storage::Result<bool> {
    let (message, details) = (text(failure.message), json_list(&failure.details));
    let sql = include_str!("../sql/job_retry.sql");
    end_attempt(conn, sql, end, &[&message, &details, &retry_at])
}

pub(super) fn fail(
    conn: &PostgresConnection,
    end: &AttemptEnd<'_>,
    failure: &AttemptFailure<'_>,
) -> storage::Result<bool> {
    let (message, details) = (text(failure.message), json_list(&failure.details));
    end_attempt(
        conn,
        include_str!("../sql/job_fail.sql"),
        end,
        &[&message, &details],
    )
}

pub(super) fn release(
    conn: &PostgresConnection,
    lease: Lease<'_>,
    now: i64,
) -> storage::Result<bool> {
    let matched = guarded(conn, include_str!("../sql/job_release.sql"), lease, &[&now])?;
    announced(conn, matched)
}

/// Save progress and cost of a running attempt (nobody waits for it: no announcement).
pub(super) fn progress_update(
    conn: &PostgresConnection,
    lease: Lease<'_>,
    progress: Progress,
    cost_actual: f64,
    now: i64,
) -> storage::Result<bool> {
    let (current, total) = (int(progress.current), int(progress.total));
    let sql = include_str!("../sql/job_progress_update.sql");
    guarded(conn, sql, lease, &[&current, &total, &cost_actual, &now])
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

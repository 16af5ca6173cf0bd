//! The only code that reads or writes jobs, job logs and handler registrations.
//!
//! One statement per file in `sql/`, one function per statement (a few functions wrap a
//! transaction of several). Every status change is a guarded `UPDATE`: it names the state (and
//! for a running job, the attempt and lease owner) it expects, and zero rows changed is a typed
//! error, never a silent no-op.

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use serde_json::Value;

use super::budget::{BudgetLimits, Period, ResumeReport, Spend};
use super::limits::{HandlerLimits, RATE_WINDOW_MS};
use super::{
    AttemptNode, Error, Job, JobStatus, LogLevel, LogLine, NewJob, PauseReason, Progress, Result,
    bounds,
};
use crate::ats;

macro_rules! sql {
    ($name:literal) => {
        include_str!(concat!("sql/", $name, ".sql"))
    };
}

/// What an enqueue did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enqueued {
    /// The new job's id, or the existing job's for a `unique` enqueue that found one.
    pub id: String,
    /// True when a `unique` enqueue found an active job and created none.
    pub existing: bool,
}

/// Insert a queued job.
///
/// # Errors
///
/// [`Error::Invalid`] for a job that breaks a rule; [`Error::Sqlite`] on database failure.
pub fn enqueue(conn: &Connection, job: &NewJob, now: i64) -> Result<Enqueued> {
    job.validate()?;
    if job.unique
        && let Some(id) = conn
            .prepare_cached(sql!("job_find_active"))?
            .query_row(params![job.handler, job.source], |row| row.get(0))
            .optional()?
    {
        return Ok(Enqueued { id, existing: true });
    }
    let payload = job.payload.to_string();
    bounds::check_payload_bytes(payload.len())?;
    let id = job
        .id
        .clone()
        .unwrap_or_else(|| ulid::Ulid::new().to_string());
    conn.prepare_cached(sql!("job_insert"))?.execute(params![
        id,
        job.handler,
        payload,
        job.source,
        job.priority,
        job.max_attempts,
        job.run_at.unwrap_or(now),
        job.timeout_ms.map(sql_int),
        job.cost_estimate,
        job.parent_job_id,
        now,
        job.root_job_id,
        job.depth,
    ])?;
    Ok(Enqueued {
        id,
        existing: false,
    })
}

/// Insert many queued jobs in one transaction: all or none.
///
/// # Errors
///
/// As [`enqueue`]; then nothing is stored.
pub fn enqueue_batch(conn: &mut Connection, jobs: &[NewJob], now: i64) -> Result<Vec<Enqueued>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let enqueued = jobs
        .iter()
        .map(|job| enqueue(&tx, job, now))
        .collect::<Result<Vec<_>>>()?;
    tx.commit()?;
    Ok(enqueued)
}

/// The job with this id.
///
/// # Errors
///
/// [`Error::NotFound`] when there is none.
pub fn get(conn: &Connection, id: &str) -> Result<Job> {
    conn.prepare_cached(sql!("job_get"))?
        .query_row([id], from_row)
        .optional()?
        .ok_or_else(|| Error::NotFound(id.to_owned()))
}

/// The full id of the one job whose id starts with `prefix` (case-insensitive).
///
/// # Errors
///
/// [`Error::NotFound`] or [`Error::Ambiguous`].
pub fn resolve_id(conn: &Connection, prefix: &str) -> Result<String> {
    let prefix = prefix.to_ascii_uppercase();
    if prefix.is_empty() {
        return Err(Error::NotFound(prefix));
    }
    // ULIDs use digits and capitals only, so every id with this prefix sorts below `prefix~`.
    let upper = format!("{prefix}~");
    let ids = conn
        .prepare_cached(sql!("job_ids_by_prefix"))?
        .query_map(params![prefix, upper], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    match ids.as_slice() {
        [] => Err(Error::NotFound(prefix)),
        [id] => Ok(id.clone()),
        _ => Err(Error::Ambiguous {
            count: ids.len(),
            prefix,
        }),
    }
}

/// Jobs newest first, optionally of one status and one handler.
///
/// # Errors
///
/// [`Error::Sqlite`] on database failure.
pub fn list(
    conn: &Connection,
    status: Option<JobStatus>,
    handler: Option<&str>,
    limit: u32,
) -> Result<Vec<Job>> {
    let jobs = conn
        .prepare_cached(sql!("job_list"))?
        .query_map(
            params![status.map(JobStatus::as_str), handler, limit],
            from_row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(jobs)
}

/// How many jobs are queued for each handler not in `served`, by handler name.
///
/// # Errors
///
/// [`Error::Sqlite`] on database failure.
pub fn queued_unserved(conn: &Connection, served: &[String]) -> Result<Vec<(String, u64)>> {
    let served = serde_json::to_string(served).expect("strings serialize");
    let counts = conn
        .prepare_cached(sql!("job_count_unserved"))?
        .query_map([served], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })?
        .map(|row| row.map(|(handler, count)| (handler, u64::try_from(count).unwrap_or(0))))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(counts)
}

/// What a worker asks for when it claims.
#[derive(Debug, Clone)]
pub struct ClaimParams<'a> {
    /// Claim only jobs for these handlers (the ones the node registered).
    pub handlers: &'a [String],
    /// The lease owner: the claiming node.
    pub owner: &'a str,
    /// The lease's expiry, Unix milliseconds.
    pub lease_until: i64,
    /// At most this many jobs (the worker's free slots).
    pub limit: u32,
    /// Rate and concurrency limits of handlers.
    pub limits: &'a HandlerLimits,
    /// What the claiming node may still take of each plugin ([`super::fair`]); `None`: no
    /// bound.
    pub room: Option<&'a super::fair::Room>,
    /// Now, Unix milliseconds.
    pub now: i64,
}

/// What a claim did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Claimed {
    /// Jobs now running under the lease, most urgent first.
    pub jobs: Vec<Job>,
    /// Jobs paused with `budget_exceeded` because their estimate did not fit.
    pub paused: Vec<String>,
}

/// Atomically move up to `limit` runnable jobs to `running` under a lease, most urgent first
/// (priority, then `run_at`, then enqueue order). Two processes never claim the same job.
///
/// In the same transaction: handlers at their rate or concurrency limit are not claimed (see
/// [`super::limits`]), and a claimed job whose cost estimate does not fit the budget is paused
/// with `budget_exceeded`, its attempt not counted (see [`super::budget`]).
///
/// # Errors
///
/// [`Error::Sqlite`] on database failure.
pub fn claim(conn: &mut Connection, claim: &ClaimParams<'_>) -> Result<Claimed> {
    claim_in(conn, claim)
}

/// [`claim`] on a connection that may be inside a transaction already (a worker committing
/// outcomes claims the next batch in the same transaction): then it is a savepoint of that
/// transaction, and the jobs are claimed only if that transaction commits.
///
/// # Errors
///
/// As [`claim`].
pub fn claim_in(conn: &Connection, claim: &ClaimParams<'_>) -> Result<Claimed> {
    atomic(conn, |tx| claim_writes(tx, claim))
}

fn claim_writes(tx: &Connection, claim: &ClaimParams<'_>) -> Result<Claimed> {
    let mut room = std::collections::BTreeMap::new();
    for (handler, limit) in claim.limits.iter() {
        if !claim.handlers.iter().any(|h| h == handler) {
            continue;
        }
        let (running, starts) = handler_load(tx, handler, claim.now - RATE_WINDOW_MS)?;
        if let Some(free) = limit.room(running, starts) {
            room.insert(handler.to_owned(), free);
        }
    }
    let mut shares = claim.room.cloned();
    let eligible: Vec<&String> = claim
        .handlers
        .iter()
        .filter(|h| room.get(h.as_str()) != Some(&0))
        .filter(|h| shares.as_ref().is_none_or(|s| s.has_room(h)))
        .collect();
    let mut claimed = Claimed::default();
    if eligible.is_empty() || claim.limit == 0 {
        return Ok(claimed);
    }
    let handlers = serde_json::to_string(&eligible).expect("strings serialize");
    let mut jobs = tx
        .prepare_cached(sql!("job_claim"))?
        .query_map(
            params![
                claim.owner,
                claim.lease_until,
                claim.now,
                handlers,
                claim.limit
            ],
            |row| Ok((row.get::<_, i64>(CLAIM_SEQ_COLUMN)?, from_row(row)?)),
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // RETURNING gives no order; restore the claim order.
    jobs.sort_by(|(a_seq, a), (b_seq, b)| {
        b.priority
            .cmp(&a.priority)
            .then(a.run_at.cmp(&b.run_at))
            .then(a_seq.cmp(b_seq))
    });
    // A batch may take more of a limited handler (or of a plugin on this node) than it has
    // room for: undo those claims, as if they had not been made.
    let mut kept = Vec::with_capacity(jobs.len());
    for (_, job) in jobs {
        let limited = room.get_mut(&job.handler);
        let over = limited.as_ref().is_some_and(|free| **free == 0)
            || shares.as_mut().is_some_and(|s| !s.take(&job.handler));
        if over {
            unclaim(tx, &job, claim.owner)?;
            continue;
        }
        if let Some(free) = limited {
            *free -= 1;
        }
        kept.push(job);
    }
    let mut headroom = None;
    if kept.iter().any(|job| job.cost_estimate > 0.0) {
        let limits = budget_limits(tx)?;
        if !limits.is_empty() {
            // This batch already reserves as running; count its jobs one by one instead.
            let batch: f64 = kept.iter().map(reservation).sum();
            headroom = limits
                .headroom(&spend(tx, claim.now)?)
                .map(|room| room + batch);
        }
    }
    for job in kept {
        if let Some(room) = headroom.as_mut()
            && job.cost_estimate > 0.0
        {
            let needed = reservation(&job);
            if needed > *room {
                budget_pause(tx, &job, *room, claim.now)?;
                claimed.paused.push(job.id);
                continue;
            }
            *room -= needed;
        }
        claimed.jobs.push(job);
    }
    Ok(claimed)
}

/// Undo a claim made in this transaction: attempt, claim count and node record as before.
fn unclaim(conn: &Connection, job: &Job, owner: &str) -> Result<()> {
    let changed = conn
        .prepare_cached(sql!("job_unclaim"))?
        .execute(params![job.id, job.claims, owner])?;
    if changed == 0 {
        return Err(lease_lost(claim_lease(job, owner)));
    }
    Ok(())
}

fn claim_lease<'a>(job: &'a Job, owner: &'a str) -> Lease<'a> {
    Lease {
        id: &job.id,
        attempt: job.attempt,
        claim: job.claims,
        owner,
    }
}

/// Pause a just-claimed job whose estimate does not fit, and say why in its log.
fn budget_pause(conn: &Connection, job: &Job, room: f64, now: i64) -> Result<()> {
    pause_in(conn, &job.id, PauseReason::BudgetExceeded, now)?;
    append_logs(
        conn,
        &job.id,
        &[LogLine {
            attempt: job.attempt,
            time: now,
            level: LogLevel::Warn,
            stage: "pulse".into(),
            message: format!(
                "paused: cost estimate {} does not fit the budget (room {:.4}); it resumes \
                 when the spend window allows",
                job.cost_estimate,
                room.max(0.0)
            ),
        }],
    )
}

/// What a running job holds against the budget.
fn reservation(job: &Job) -> f64 {
    job.cost_estimate.max(job.cost_actual)
}

/// Which attempt of which job, under which lease: the guard of every running-job transition.
#[derive(Debug, Clone, Copy)]
pub struct Lease<'a> {
    /// The job.
    pub id: &'a str,
    /// Its running attempt.
    pub attempt: u32,
    /// Its claim number ([`Job::claims`]): unique to this claim, unlike the attempt.
    pub claim: u32,
    /// The node that holds it.
    pub owner: &'a str,
}

/// What an attempt reported, saved with any outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Report<'a> {
    /// The latest progress.
    pub progress: Progress,
    /// The cost reported.
    pub cost_actual: f64,
    /// Version of the plugin or handler that ran it.
    pub plugin_version: &'a str,
}

/// What a successful attempt leaves behind, committed together by [`complete`].
#[derive(Debug, Clone, PartialEq)]
pub struct Completion<'a> {
    /// The result.
    pub result: &'a Value,
    /// Attestations the attempt wrote (stored copies get their final ids).
    pub attestations: &'a [ats::Attestation],
    /// Child jobs the attempt enqueued.
    pub children: &'a [NewJob],
    /// The attempt's log lines not yet written.
    pub logs: &'a [LogLine],
}

/// Complete a running attempt, storing its attestations and enqueuing its child jobs in the
/// same transaction. Returns the stored attestations (with their final ids).
///
/// # Errors
///
/// [`Error::LeaseLost`] when the job was cancelled, rescued or finished meanwhile: then nothing
/// is written. [`Error::Ats`] or [`Error::Invalid`] when an attestation or child cannot be stored.
pub fn complete(
    conn: &mut Connection,
    lease: Lease<'_>,
    report: &Report<'_>,
    completion: Completion<'_>,
    now: i64,
) -> Result<Vec<ats::Attestation>> {
    complete_in(conn, lease, report, completion, now)
}

/// [`complete`] on a connection that may be inside a transaction already (a worker committing
/// a batch of outcomes): then it is a savepoint of that transaction, all or nothing for this
/// job alone.
///
/// # Errors
///
/// As [`complete`].
pub fn complete_in(
    conn: &Connection,
    lease: Lease<'_>,
    report: &Report<'_>,
    completion: Completion<'_>,
    now: i64,
) -> Result<Vec<ats::Attestation>> {
    if !conn.is_autocommit() && completion.attestations.is_empty() && completion.children.is_empty()
    {
        // Inside a transaction, a completion without writes needs no savepoint (which copies
        // every page the job touches to a sub-journal): its guarded UPDATE changes nothing when
        // the guard fails, and a database error fails the whole transaction.
        return complete_writes(conn, lease, report, completion, now);
    }
    atomic(conn, |tx| {
        complete_writes(tx, lease, report, completion, now)
    })
}

fn complete_writes(
    tx: &Connection,
    lease: Lease<'_>,
    report: &Report<'_>,
    completion: Completion<'_>,
    now: i64,
) -> Result<Vec<ats::Attestation>> {
    let Completion {
        result,
        attestations,
        children,
        logs,
    } = completion;
    let changed = tx.prepare_cached(sql!("job_complete"))?.execute(params![
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
    ])?;
    if changed == 0 {
        return Err(lease_lost(lease));
    }
    let mut stored = Vec::with_capacity(attestations.len());
    for attestation in attestations {
        let mut attestation = attestation.clone();
        ats::store::insert(tx, &mut attestation)?;
        stored.push(attestation);
    }
    for child in children {
        enqueue(tx, child, now)?;
    }
    append_logs(tx, lease.id, logs)?;
    Ok(stored)
}

/// Run `writes` all or nothing: in an immediate transaction of its own, or, when `conn` is in a
/// transaction already, in a savepoint of it.
fn atomic<T>(conn: &Connection, writes: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    let (begin, commit, rollback) = if conn.is_autocommit() {
        ("BEGIN IMMEDIATE", "COMMIT", "ROLLBACK")
    } else {
        (
            "SAVEPOINT qntx_atomic",
            "RELEASE qntx_atomic",
            "ROLLBACK TO qntx_atomic; RELEASE qntx_atomic",
        )
    };
    // Cached: a worker committing a batch of outcomes opens a savepoint per job.
    conn.prepare_cached(begin)?.execute([])?;
    match writes(conn) {
        Ok(value) => {
            conn.prepare_cached(commit)?.execute([])?;
            Ok(value)
        }
        Err(error) => {
            conn.execute_batch(rollback)?;
            Err(error)
        }
    }
}

/// Why an attempt failed.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptError<'a> {
    /// One line.
    pub message: &'a str,
    /// The cause chain, outermost first.
    pub details: &'a [String],
    /// Retry at this time (Unix ms) if attempts are left; `None` fails the job now.
    pub retry_at: Option<i64>,
}

/// Fail a running attempt: back to `queued` at `error.retry_at` when set and attempts are
/// left, otherwise `failed`, with the attempt's log lines in the same transaction. Returns the
/// job's new status.
///
/// # Errors
///
/// [`Error::LeaseLost`] when the job is no longer running under this lease: nothing is written.
pub fn fail(
    conn: &Connection,
    lease: Lease<'_>,
    max_attempts: u32,
    error: &AttemptError<'_>,
    report: &Report<'_>,
    logs: &[LogLine],
    now: i64,
) -> Result<JobStatus> {
    atomic(conn, |tx| {
        fail_writes(tx, lease, max_attempts, error, report, logs, now)
    })
}

fn fail_writes(
    tx: &Connection,
    lease: Lease<'_>,
    max_attempts: u32,
    error: &AttemptError<'_>,
    report: &Report<'_>,
    logs: &[LogLine],
    now: i64,
) -> Result<JobStatus> {
    let details = serde_json::to_string(error.details).expect("strings serialize");
    let (status, changed) = match error.retry_at {
        Some(retry_at) if lease.attempt < max_attempts => (
            JobStatus::Queued,
            tx.prepare_cached(sql!("job_retry"))?.execute(params![
                lease.id,
                lease.attempt,
                lease.owner,
                retry_at,
                error.message,
                details,
                sql_int(report.progress.current),
                sql_int(report.progress.total),
                report.cost_actual,
                report.plugin_version,
                now,
                lease.claim,
            ])?,
        ),
        _ => (
            JobStatus::Failed,
            tx.prepare_cached(sql!("job_fail"))?.execute(params![
                lease.id,
                lease.attempt,
                lease.owner,
                error.message,
                details,
                sql_int(report.progress.current),
                sql_int(report.progress.total),
                report.cost_actual,
                report.plugin_version,
                now,
                lease.claim,
            ])?,
        ),
    };
    if changed == 0 {
        return Err(lease_lost(lease));
    }
    append_logs(tx, lease.id, logs)?;
    Ok(status)
}

/// Give a running attempt back to the queue without counting it (the node is shutting down),
/// with its log lines in the same transaction.
///
/// # Errors
///
/// [`Error::LeaseLost`] when the job is no longer running under this lease.
pub fn release(conn: &Connection, lease: Lease<'_>, logs: &[LogLine], now: i64) -> Result<()> {
    atomic(conn, |tx| {
        release_claim(tx, lease, now)?;
        append_logs(tx, lease.id, logs)
    })
}

/// The guarded statement of [`release`], for use inside a caller's transaction.
fn release_claim(conn: &Connection, lease: Lease<'_>, now: i64) -> Result<()> {
    let changed = conn.prepare_cached(sql!("job_release"))?.execute(params![
        lease.id,
        lease.attempt,
        lease.owner,
        now,
        lease.claim
    ])?;
    if changed == 0 {
        return Err(lease_lost(lease));
    }
    Ok(())
}

/// Save progress and cost of a running attempt.
///
/// # Errors
///
/// [`Error::LeaseLost`] when the job is no longer running under this lease.
pub fn update_progress(
    conn: &Connection,
    lease: Lease<'_>,
    progress: Progress,
    cost_actual: f64,
    now: i64,
) -> Result<()> {
    let changed = conn
        .prepare_cached(sql!("job_progress_update"))?
        .execute(params![
            lease.id,
            lease.attempt,
            lease.owner,
            sql_int(progress.current),
            sql_int(progress.total),
            cost_actual,
            now,
            lease.claim
        ])?;
    if changed == 0 {
        return Err(lease_lost(lease));
    }
    Ok(())
}

/// Cancel a job that has not finished, with its unfinished descendants. Returns the ids
/// cancelled, the job's own first.
///
/// # Errors
///
/// [`Error::NotFound`], or [`Error::WrongState`] when the job has already finished.
pub fn cancel(conn: &Connection, id: &str, now: i64) -> Result<Vec<String>> {
    let mut ids = conn
        .prepare_cached(sql!("job_cancel"))?
        .query_map(params![id, now], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    match ids.iter().position(|cancelled| cancelled == id) {
        Some(index) => {
            ids.swap(0, index);
            Ok(ids)
        }
        None => Err(Error::WrongState {
            id: id.to_owned(),
            status: get(conn, id)?.status,
            action: "cancelled",
        }),
    }
}

/// Extend the leases of the claims `held` (job id, claim number) that `owner` still runs.
/// Returns how many. A job `owner` claimed but no longer holds (its worker gave it up) is not
/// renewed, so the rescuer sees its lease expire.
///
/// # Errors
///
/// [`Error::Sqlite`] on database failure.
pub fn renew_leases(
    conn: &Connection,
    held: &[(String, u32)],
    owner: &str,
    until: i64,
) -> Result<usize> {
    if held.is_empty() {
        return Ok(0);
    }
    let held = serde_json::to_string(held).expect("strings serialize");
    Ok(conn
        .prepare_cached(sql!("job_leases_renew"))?
        .execute(params![held, owner, until])?)
}

/// How many jobs are stored below `root` in its job tree.
///
/// # Errors
///
/// [`Error::Sqlite`] on database failure.
pub fn descendants(conn: &Connection, root: &str) -> Result<u64> {
    let count: i64 = conn
        .prepare_cached(sql!("job_count_descendants"))?
        .query_row([root], |row| row.get(0))?;
    Ok(u64::try_from(count).unwrap_or_default())
}

/// What the rescuer did with expired leases.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rescued {
    /// Jobs put back in the queue.
    pub requeued: Vec<String>,
    /// Jobs failed because their last attempt's node died.
    pub failed: Vec<String>,
}

/// Return jobs whose lease expired (their node died) to the queue, or fail them when that was
/// their last attempt. The attempt stays counted.
///
/// # Errors
///
/// [`Error::Sqlite`] on database failure.
pub fn rescue_expired(conn: &mut Connection, now: i64) -> Result<Rescued> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let ids = |sql: &str| -> Result<Vec<String>> {
        Ok(tx
            .prepare_cached(sql)?
            .query_map([now], |row| row.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?)
    };
    let rescued = Rescued {
        requeued: ids(sql!("job_rescue_requeue"))?,
        failed: ids(sql!("job_rescue_fail"))?,
    };
    tx.commit()?;
    Ok(rescued)
}

/// Of the claims `held` (job id, claim number), the jobs no longer running under that claim
/// and `owner`'s lease (cancelled, paused or rescued).
///
/// # Errors
///
/// [`Error::Sqlite`] on database failure.
pub fn interrupted(conn: &Connection, held: &[(String, u32)], owner: &str) -> Result<Vec<String>> {
    let ids = serde_json::to_string(held).expect("strings serialize");
    Ok(conn
        .prepare_cached(sql!("job_ids_interrupted"))?
        .query_map(params![ids, owner], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Append lines to a job's log.
///
/// # Errors
///
/// [`Error::Sqlite`] on database failure.
pub fn append_logs(conn: &Connection, job_id: &str, lines: &[LogLine]) -> Result<()> {
    let mut insert = conn.prepare_cached(sql!("job_log_insert"))?;
    for line in lines {
        insert.execute(params![
            job_id,
            line.attempt,
            line.time,
            line.level.as_str(),
            line.stage,
            line.message
        ])?;
    }
    Ok(())
}

/// A job's log lines after the line numbered `after` (0 for all), with their numbers.
///
/// # Errors
///
/// [`Error::Sqlite`] on database failure.
pub fn logs(conn: &Connection, job_id: &str, after: i64) -> Result<Vec<(i64, LogLine)>> {
    let lines = conn
        .prepare_cached(sql!("job_logs_get"))?
        .query_map(params![job_id, after], |row| {
            let level: String = row.get(3)?;
            Ok((
                row.get(0)?,
                LogLine {
                    attempt: row.get(1)?,
                    time: row.get(2)?,
                    level: level.parse().unwrap_or(LogLevel::Info),
                    stage: row.get(4)?,
                    message: row.get(5)?,
                },
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(lines)
}

/// A handler as a node registered it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HandlerRecord {
    /// Full handler name.
    pub handler: String,
    /// The plugin that announced it.
    pub plugin: String,
    /// The plugin's version.
    pub plugin_version: String,
    /// What it does.
    pub description: String,
    /// When a node last registered it, Unix milliseconds.
    pub registered_at: i64,
}

/// Record that a node registered a handler, so the CLI can check enqueues against it.
///
/// # Errors
///
/// [`Error::Sqlite`] on database failure.
pub fn register_handler(conn: &Connection, record: &HandlerRecord) -> Result<()> {
    conn.prepare_cached(sql!("handler_register"))?
        .execute(params![
            record.handler,
            record.plugin,
            record.plugin_version,
            record.description,
            record.registered_at
        ])?;
    Ok(())
}

/// The registration of a handler, if any node made one.
///
/// # Errors
///
/// [`Error::Sqlite`] on database failure.
pub fn registered_handler(conn: &Connection, handler: &str) -> Result<Option<HandlerRecord>> {
    Ok(conn
        .prepare_cached(sql!("handler_get"))?
        .query_row([handler], |row| {
            Ok(HandlerRecord {
                handler: row.get(0)?,
                plugin: row.get(1)?,
                plugin_version: row.get(2)?,
                description: row.get(3)?,
                registered_at: row.get(4)?,
            })
        })
        .optional()?)
}

/// Names of every registered handler.
///
/// # Errors
///
/// [`Error::Sqlite`] on database failure.
pub fn registered_handler_names(conn: &Connection) -> Result<Vec<String>> {
    Ok(conn
        .prepare_cached(sql!("handler_list"))?
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Pause a queued or running job. A running attempt loses its lease (the node interrupts
/// it within a maintenance tick and discards its outcome) and is not counted.
///
/// # Errors
///
/// [`Error::NotFound`], or [`Error::WrongState`] when the job is paused or finished.
pub fn pause(conn: &Connection, id: &str, reason: PauseReason, now: i64) -> Result<()> {
    if pause_in(conn, id, reason, now)? {
        return Ok(());
    }
    Err(Error::WrongState {
        id: id.to_owned(),
        status: get(conn, id)?.status,
        action: "paused",
    })
}

fn pause_in(conn: &Connection, id: &str, reason: PauseReason, now: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached(sql!("job_pause"))?
        .query_row(params![id, reason.as_str(), now], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Put a paused job back in the queue, in its old place.
///
/// # Errors
///
/// [`Error::NotFound`], or [`Error::WrongState`] when the job is not paused.
pub fn resume(conn: &Connection, id: &str, now: i64) -> Result<()> {
    let resumed = conn
        .prepare_cached(sql!("job_resume"))?
        .query_row(params![id, now], |_| Ok(()))
        .optional()?;
    match resumed {
        Some(()) => Ok(()),
        None => Err(Error::WrongState {
            id: id.to_owned(),
            status: get(conn, id)?.status,
            action: "resumed",
        }),
    }
}

/// Put a failed job back in the queue with `attempts` more attempts, to run now.
///
/// # Errors
///
/// [`Error::NotFound`], [`Error::WrongState`] when the job has not failed, [`Error::Invalid`]
/// for zero attempts.
pub fn retry_failed(conn: &Connection, id: &str, attempts: u32, now: i64) -> Result<()> {
    if attempts == 0 {
        return Err(Error::Invalid("a retry needs at least 1 attempt".into()));
    }
    let requeued = conn
        .prepare_cached(sql!("job_requeue_failed"))?
        .query_row(params![id, attempts, now], |_| Ok(()))
        .optional()?;
    match requeued {
        Some(()) => Ok(()),
        None => Err(Error::WrongState {
            id: id.to_owned(),
            status: get(conn, id)?.status,
            action: "retried",
        }),
    }
}

/// The spend limits in force.
///
/// # Errors
///
/// [`Error::Sqlite`] on database failure.
pub fn budget_limits(conn: &Connection) -> Result<BudgetLimits> {
    let mut limits = BudgetLimits::default();
    let rows = conn
        .prepare_cached(sql!("budget_list"))?
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, f64>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (period, limit) in rows {
        if let Ok(period) = period.parse::<Period>() {
            limits.set(period, Some(limit));
        }
    }
    Ok(limits)
}

/// Set (or with `None`, remove) the limit of one period.
///
/// # Errors
///
/// [`Error::Invalid`] for a negative or non-finite limit; [`Error::Sqlite`] on database failure.
pub fn set_budget(conn: &Connection, period: Period, limit: Option<f64>, now: i64) -> Result<()> {
    match limit {
        Some(limit) if !limit.is_finite() || limit < 0.0 => Err(Error::Invalid(format!(
            "{period} budget must be a non-negative number, got {limit}"
        ))),
        Some(limit) => {
            conn.prepare_cached(sql!("budget_set"))?.execute(params![
                period.as_str(),
                limit,
                now
            ])?;
            Ok(())
        }
        None => {
            conn.prepare_cached(sql!("budget_clear"))?
                .execute([period.as_str()])?;
            Ok(())
        }
    }
}

/// Settled spend in each window ending `now`, and what running jobs reserve.
///
/// # Errors
///
/// [`Error::Sqlite`] on database failure.
pub fn spend(conn: &Connection, now: i64) -> Result<Spend> {
    Ok(conn.prepare_cached(sql!("budget_spend"))?.query_row(
        params![
            now - Period::Daily.window_ms(),
            now - Period::Weekly.window_ms(),
            now - Period::Monthly.window_ms()
        ],
        |row| {
            Ok(Spend {
                daily: row.get(0)?,
                weekly: row.get(1)?,
                monthly: row.get(2)?,
                reserved: row.get(3)?,
            })
        },
    )?)
}

/// Resume jobs paused with `budget_exceeded` whose estimates fit now, most urgent first, looking
/// at `batch` of them at most. Everything resumes when no budget is set.
///
/// # Errors
///
/// [`Error::Sqlite`] on database failure.
pub fn resume_within_budget(conn: &mut Connection, batch: u32, now: i64) -> Result<ResumeReport> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let paused = tx
        .prepare_cached(sql!("job_ids_budget_paused"))?
        .query_map([batch], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, f64>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut report = ResumeReport::default();
    if paused.is_empty() {
        return Ok(report);
    }
    let mut headroom = budget_limits(&tx)?.headroom(&spend(&tx, now)?);
    for (id, estimate) in paused {
        match headroom {
            Some(room) if estimate > room => report.waiting += 1,
            _ => {
                resume(&tx, &id, now)?;
                headroom = headroom.map(|room| room - estimate);
                report.resumed.push(id);
            }
        }
    }
    tx.commit()?;
    Ok(report)
}

/// Running jobs of `handler`, and its job starts after `since`.
fn handler_load(conn: &Connection, handler: &str, since: i64) -> Result<(u64, u64)> {
    Ok(conn
        .prepare_cached(sql!("handler_load"))?
        .query_row(params![handler, since], |row| {
            Ok((row.get::<_, i64>(0)? as u64, row.get::<_, i64>(1)? as u64))
        })?)
}

/// Delete up to `batch` jobs (with their logs) that finished before `before`, keeping jobs with
/// a cost until they leave the longest spend window. Returns the ids deleted.
///
/// # Errors
///
/// [`Error::Sqlite`] on database failure.
pub fn prune(conn: &mut Connection, before: i64, batch: u32, now: i64) -> Result<Vec<String>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let ids = tx
        .prepare_cached(sql!("job_prune"))?
        .query_map(
            params![before, now - Period::Monthly.window_ms(), batch],
            |row| row.get::<_, String>(0),
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if !ids.is_empty() {
        let json = serde_json::to_string(&ids).expect("strings serialize");
        tx.prepare_cached(sql!("job_logs_prune"))?.execute([json])?;
    }
    tx.commit()?;
    Ok(ids)
}

fn lease_lost(lease: Lease<'_>) -> Error {
    Error::LeaseLost {
        id: lease.id.to_owned(),
        attempt: lease.attempt,
    }
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<Job> {
    let json = |index: usize| -> rusqlite::Result<Option<Value>> {
        let text: Option<String> = row.get(index)?;
        text.map(|t| {
            serde_json::from_str(&t).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    index,
                    rusqlite::types::Type::Text,
                    e.into(),
                )
            })
        })
        .transpose()
    };
    fn parse<T: std::str::FromStr<Err = String>>(
        index: usize,
        text: String,
    ) -> rusqlite::Result<T> {
        text.parse().map_err(|e: String| {
            rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, e.into())
        })
    }
    // By position, in the order of the column lists in `sql/` (looking columns up by name
    // costs more than the rest of the row).
    let pause_reason: Option<String> = row.get(5)?;
    Ok(Job {
        id: row.get(0)?,
        handler: row.get(1)?,
        payload: json(2)?.unwrap_or(Value::Null),
        source: row.get(3)?,
        status: parse(4, row.get(4)?)?,
        pause_reason: pause_reason.map(|r| parse(5, r)).transpose()?,
        priority: row.get(6)?,
        attempt: row.get(7)?,
        claims: row.get(8)?,
        max_attempts: row.get(9)?,
        run_at: row.get(10)?,
        timeout_ms: row
            .get::<_, Option<i64>>(11)?
            .map(|t| u64::try_from(t).unwrap_or_default()),
        progress: Progress {
            current: u64::try_from(row.get::<_, i64>(12)?).unwrap_or_default(),
            total: u64::try_from(row.get::<_, i64>(13)?).unwrap_or_default(),
        },
        cost_estimate: row.get(14)?,
        cost_actual: row.get(15)?,
        result: json(16)?,
        error: row.get(17)?,
        error_details: json(18)?,
        parent_job_id: row.get(19)?,
        plugin_version: row.get(20)?,
        created_at: row.get(21)?,
        started_at: row.get(22)?,
        completed_at: row.get(23)?,
        updated_at: row.get(24)?,
        root_job_id: row.get(25)?,
        depth: row.get(26)?,
        nodes: json(27)?
            .map(serde_json::from_value::<Vec<AttemptNode>>)
            .transpose()
            .map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(27, rusqlite::types::Type::Text, e.into())
            })?
            .unwrap_or_default(),
    })
}

/// The position of `seq` (enqueue order) after the job's columns in `job_claim`.
const CLAIM_SEQ_COLUMN: usize = 28;

/// A count or size from a guest or a user as an SQLite integer; past `i64::MAX` it is stored as
/// `i64::MAX` rather than wrapping to a negative number.
fn sql_int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// How much work for some handlers is waiting or under way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Activity {
    /// Queued jobs whose `run_at` has come.
    pub runnable: u64,
    /// Running jobs, on any node.
    pub running: u64,
    /// The earliest `run_at` of queued jobs not yet due (retries in backoff, delayed jobs).
    pub next_run_at: Option<i64>,
}

/// Count runnable and running jobs for `handlers`.
///
/// # Errors
///
/// [`Error::Sqlite`] on database failure.
pub fn activity(conn: &Connection, handlers: &[String], now: i64) -> Result<Activity> {
    let handlers = serde_json::to_string(handlers).expect("strings serialize");
    Ok(conn
        .prepare_cached(sql!("job_count_active"))?
        .query_row(params![handlers, now], |row| {
            Ok(Activity {
                runnable: row.get::<_, i64>(0)? as u64,
                running: row.get::<_, i64>(1)? as u64,
                next_run_at: row.get(2)?,
            })
        })?)
}

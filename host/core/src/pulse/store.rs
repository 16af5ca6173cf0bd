//! Pulse's operations on jobs, job logs and handler registrations, on the storage seam: each
//! checks what the domain requires, runs the backend's statements, and turns what they report
//! (a guard that did not match, a missing row) into Pulse's errors. The claim policy
//! ([`claim`]) and the budget operations ([`set_budget`], [`resume_within_budget`]) live in
//! files of their own and are re-exported here.
//!
//! Every status change is a guarded statement: it names the state (and for a running job, the
//! attempt and lease owner) it expects, and a miss is a typed error, never a silent no-op.

use serde_json::Value;

use super::guard::{atomic, lease_held, wrong_state};
use super::keys;
use super::listing::{self, JobCounts, JobFilter, JobPage};
use super::telemetry::Tally;
use super::{Error, Job, JobStatus, LogLine, NewJob, PauseReason, Progress, Result, bounds};
use crate::ats;
use crate::storage::{AttemptEnd, AttemptFailure, Connection, JobInsert, Jobs, Store};

pub use super::budgets::{budget_limits, resume_within_budget, set_budget, spend};
pub use super::claim::{ClaimParams, Claimed, claim, claim_in};
pub use super::records::{Activity, AttemptError, HandlerRecord, Lease, Report};

/// What an enqueue did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Enqueued {
    /// The new job's id, or the existing job's for a `unique` enqueue that found one.
    pub id: String,
    /// True when a `unique` enqueue found an active job and created none.
    pub existing: bool,
}

/// Insert a queued job. A `unique` job whose handler and source have an unfinished job is not
/// inserted: that job is returned. The look-up and the insert hold together: inside the
/// transaction `store` is in, or in one of their own.
///
/// A new job is counted in [`JOBS_ENQUEUED`](super::telemetry::JOBS_ENQUEUED) at once when `store` is not inside a
/// transaction; inside one, [`enqueue_tallied`] counts it when the caller's transaction commits.
///
/// # Errors
///
/// [`Error::Invalid`] for a job that breaks a rule; [`Error::Storage`] on database failure.
pub fn enqueue(store: &dyn Store, job: &NewJob, now: i64) -> Result<Enqueued> {
    let mut tally = Tally::default();
    let enqueued = enqueue_tallied(store, job, now, &mut tally)?;
    if !store.in_transaction() {
        tally.publish();
    }
    Ok(enqueued)
}

/// [`enqueue`], staging the new job's count in `tally`: publish it once the transaction
/// `store` is in commits.
///
/// # Errors
///
/// As [`enqueue`].
pub fn enqueue_tallied(
    store: &dyn Store,
    job: &NewJob,
    now: i64,
    tally: &mut Tally,
) -> Result<Enqueued> {
    job.validate()?;
    if !job.unique {
        return insert(store, job, now, tally);
    }
    if store.in_transaction() {
        return enqueue_unique(store, job, now, tally);
    }
    // The look-up and the insert hold together only in one transaction.
    atomic(store, |tx| enqueue_unique(tx, job, now, tally))
}

/// A `unique` enqueue inside a transaction: the active job, or a new one.
fn enqueue_unique(tx: &dyn Store, job: &NewJob, now: i64, tally: &mut Tally) -> Result<Enqueued> {
    // Until this transaction commits, no other unique enqueue of the same handler and source
    // may look: it would not see this job and insert a second.
    tx.exclusive(&keys::unique(&job.handler, &job.source))?;
    if let Some(id) = tx.job_find_active(&job.handler, &job.source)? {
        return Ok(Enqueued { id, existing: true });
    }
    insert(tx, job, now, tally)
}

/// Insert `job`, validated, as a new queued job.
fn insert(store: &dyn Jobs, job: &NewJob, now: i64, tally: &mut Tally) -> Result<Enqueued> {
    let row = Row::of(job)?;
    store.job_insert(&row.insert(job, now))?;
    tally.enqueued(&job.handler);
    Ok(Enqueued {
        id: row.id,
        existing: false,
    })
}

/// What a validated job is stored with: its id and its payload as text.
struct Row {
    id: String,
    payload: String,
}

impl Row {
    /// The row of `job`, after checking the payload's size.
    fn of(job: &NewJob) -> Result<Self> {
        let payload = job.payload.to_string();
        bounds::check_payload_bytes(payload.len())?;
        let id = job
            .id
            .clone()
            .unwrap_or_else(|| ulid::Ulid::new().to_string());
        Ok(Self { id, payload })
    }

    fn insert<'a>(&'a self, job: &'a NewJob, now: i64) -> JobInsert<'a> {
        JobInsert {
            id: &self.id,
            job,
            payload: &self.payload,
            now,
        }
    }
}

/// Insert many queued jobs in one transaction: all or none.
///
/// # Errors
///
/// As [`enqueue`]; then nothing is stored.
pub fn enqueue_batch(
    conn: &mut dyn Connection,
    jobs: &[NewJob],
    now: i64,
) -> Result<Vec<Enqueued>> {
    let tx = conn.transaction()?;
    // The unique keys of the whole batch first, sorted (see [`keys`]).
    keys::take(
        &**tx,
        jobs.iter()
            .filter(|job| job.unique)
            .map(|job| keys::unique(&job.handler, &job.source)),
    )?;
    // Jobs that are not `unique` go in together (one statement per chunk where the backend
    // can), in batch order: those waiting are inserted before each unique job looks.
    let mut enqueued = Vec::with_capacity(jobs.len());
    let mut tally = Tally::default();
    let mut waiting: Vec<(&NewJob, Row)> = Vec::new();
    let flush = |waiting: &mut Vec<(&NewJob, Row)>| -> Result<()> {
        let inserts: Vec<JobInsert<'_>> = waiting
            .iter()
            .map(|(job, row)| row.insert(job, now))
            .collect();
        tx.job_insert_many(&inserts)?;
        waiting.clear();
        Ok(())
    };
    for job in jobs {
        if job.unique {
            flush(&mut waiting)?;
            enqueued.push(enqueue_tallied(&**tx, job, now, &mut tally)?);
            continue;
        }
        job.validate()?;
        let row = Row::of(job)?;
        tally.enqueued(&job.handler);
        enqueued.push(Enqueued {
            id: row.id.clone(),
            existing: false,
        });
        waiting.push((job, row));
    }
    flush(&mut waiting)?;
    tx.commit()?;
    tally.publish();
    Ok(enqueued)
}

/// The job with this id.
///
/// # Errors
///
/// [`Error::NotFound`] when there is none.
pub fn get(store: &dyn Store, id: &str) -> Result<Job> {
    store
        .job_get(id)?
        .ok_or_else(|| Error::NotFound(id.to_owned()))
}

/// The full id of the one job whose id starts with `prefix` (case-insensitive).
///
/// # Errors
///
/// [`Error::NotFound`] or [`Error::Ambiguous`].
pub fn resolve_id(store: &dyn Store, prefix: &str) -> Result<String> {
    let prefix = prefix.to_ascii_uppercase();
    if prefix.is_empty() {
        return Err(Error::NotFound(prefix));
    }
    let ids = store.job_ids_with_prefix(&prefix)?;
    match ids.as_slice() {
        [] => Err(Error::NotFound(prefix)),
        [id] => Ok(id.clone()),
        _ => Err(Error::Ambiguous {
            count: ids.len(),
            prefix,
        }),
    }
}

/// One page of the jobs that match `filter`, newest first, and the cursor of the next page
/// when there is one (see [`super::listing`]).
///
/// # Errors
///
/// [`Error::InvalidFilter`] and [`Error::BadCursor`] as [`JobFilter::query`];
/// [`Error::Storage`] on database failure.
pub fn list(store: &dyn Store, filter: &JobFilter) -> Result<JobPage> {
    let query = filter.query()?;
    let mut jobs = store.job_list(&query)?;
    let limit = usize::try_from(filter.page_size()?).unwrap_or(usize::MAX);
    let next_cursor = if jobs.len() > limit {
        jobs.truncate(limit);
        jobs.last().map(|job| listing::encode_cursor(&job.id))
    } else {
        None
    };
    Ok(JobPage { jobs, next_cursor })
}

/// Every job that matches `filter` (its cursor and limit aside), newest first, read a page of
/// [`listing::MAX_PAGE`] at a time: for acting on all matches. Not a snapshot: a job that
/// changes status between pages may be missed or met twice in different pages' statuses.
///
/// # Errors
///
/// As [`list`].
pub fn list_all(store: &dyn Store, filter: &JobFilter) -> Result<Vec<Job>> {
    let mut filter = JobFilter {
        cursor: None,
        limit: Some(listing::MAX_PAGE),
        ..filter.clone()
    };
    let mut jobs = Vec::new();
    loop {
        let page = list(store, &filter)?;
        jobs.extend(page.jobs);
        match page.next_cursor {
            Some(cursor) => filter.cursor = Some(cursor),
            None => return Ok(jobs),
        }
    }
}

/// Every stored job counted by handler and status, by handler then status in life order.
///
/// # Errors
///
/// [`Error::Storage`] on database failure.
pub fn counts(store: &dyn Store) -> Result<JobCounts> {
    let mut by_handler = store.job_count_by_status()?;
    by_handler.sort_by(|a, b| {
        let rank = |status| JobStatus::ALL.iter().position(|s| *s == status);
        a.handler
            .cmp(&b.handler)
            .then_with(|| rank(a.status).cmp(&rank(b.status)))
    });
    Ok(JobCounts { by_handler })
}

/// How many jobs are queued for each handler not in `served`, by handler name.
///
/// # Errors
///
/// [`Error::Storage`] on database failure.
pub fn queued_unserved(store: &dyn Store, served: &[String]) -> Result<Vec<(String, u64)>> {
    Ok(store.job_count_unserved(served)?)
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
/// is written. [`Error::Attestations`] or [`Error::Invalid`] when an attestation or child
/// cannot be stored.
pub fn complete(
    conn: &mut dyn Connection,
    lease: Lease<'_>,
    report: &Report<'_>,
    completion: Completion<'_>,
    now: i64,
) -> Result<Vec<ats::Attestation>> {
    complete_in(&**conn, lease, report, completion, now)
}

/// [`complete`] on a store that may be inside a transaction already (a worker committing a
/// batch of outcomes): then it is nested in that transaction, all or nothing for this job
/// alone.
///
/// # Errors
///
/// As [`complete`].
pub fn complete_in(
    store: &dyn Store,
    lease: Lease<'_>,
    report: &Report<'_>,
    completion: Completion<'_>,
    now: i64,
) -> Result<Vec<ats::Attestation>> {
    let mut tally = Tally::default();
    let stored = complete_tallied(store, lease, report, completion, now, &mut tally)?;
    if !store.in_transaction() {
        tally.publish();
    }
    Ok(stored)
}

/// [`complete_in`], staging the counts of the child jobs it enqueues in `tally`: publish it
/// once the transaction `store` is in commits.
///
/// # Errors
///
/// As [`complete`].
pub fn complete_tallied(
    store: &dyn Store,
    lease: Lease<'_>,
    report: &Report<'_>,
    completion: Completion<'_>,
    now: i64,
    tally: &mut Tally,
) -> Result<Vec<ats::Attestation>> {
    if store.in_transaction()
        && completion.attestations.is_empty()
        && completion.children.is_empty()
    {
        // Inside a transaction, a completion without writes needs no nesting (a savepoint
        // copies every page the job touches to a sub-journal): its guarded UPDATE changes
        // nothing when the guard fails, and a database error fails the whole transaction.
        return complete_writes(store, lease, report, completion, now, tally);
    }
    // Children counted by a nested part that rolls back are not kept.
    let mut nested = Tally::default();
    let stored = atomic(store, |tx| {
        complete_writes(tx, lease, report, completion, now, &mut nested)
    })?;
    tally.absorb(nested);
    Ok(stored)
}

fn complete_writes(
    tx: &dyn Store,
    lease: Lease<'_>,
    report: &Report<'_>,
    completion: Completion<'_>,
    now: i64,
    tally: &mut Tally,
) -> Result<Vec<ats::Attestation>> {
    let end = AttemptEnd { lease, report, now };
    lease_held(tx.job_complete(&end, completion.result)?, lease)?;
    let mut stored = Vec::with_capacity(completion.attestations.len());
    for attestation in completion.attestations {
        let mut attestation = attestation.clone();
        ats::store::insert(tx, &mut attestation).map_err(|error| match error {
            ats::Error::Storage(error) => Error::Attestations(error),
            other => Error::Ats(other),
        })?;
        stored.push(attestation);
    }
    for child in completion.children {
        enqueue_tallied(tx, child, now, tally)?;
    }
    tx.job_logs_append(lease.id, completion.logs)?;
    Ok(stored)
}

/// Fail a running attempt: back to `queued` at `error.retry_at` when set and attempts are
/// left, otherwise `failed`, with the attempt's log lines in the same transaction. Returns the
/// job's new status.
///
/// # Errors
///
/// [`Error::LeaseLost`] when the job is no longer running under this lease: nothing is written.
pub fn fail(
    store: &dyn Store,
    lease: Lease<'_>,
    max_attempts: u32,
    error: &AttemptError<'_>,
    report: &Report<'_>,
    logs: &[LogLine],
    now: i64,
) -> Result<JobStatus> {
    atomic(store, |tx| {
        let end = AttemptEnd { lease, report, now };
        let failure = AttemptFailure {
            message: error.message,
            details: error.details,
        };
        let (status, matched) = match error.retry_at {
            Some(retry_at) if lease.attempt < max_attempts => {
                (JobStatus::Queued, tx.job_retry(&end, &failure, retry_at)?)
            }
            _ => (JobStatus::Failed, tx.job_fail(&end, &failure)?),
        };
        lease_held(matched, lease)?;
        tx.job_logs_append(lease.id, logs)?;
        Ok(status)
    })
}

/// Give a running attempt back to the queue without counting it (the node is shutting down),
/// with its log lines in the same transaction.
///
/// # Errors
///
/// [`Error::LeaseLost`] when the job is no longer running under this lease.
pub fn release(store: &dyn Store, lease: Lease<'_>, logs: &[LogLine], now: i64) -> Result<()> {
    atomic(store, |tx| {
        lease_held(tx.job_release(lease, now)?, lease)?;
        Ok(tx.job_logs_append(lease.id, logs)?)
    })
}

/// Save progress and cost of a running attempt.
///
/// # Errors
///
/// [`Error::LeaseLost`] when the job is no longer running under this lease.
pub fn update_progress(
    store: &dyn Jobs,
    lease: Lease<'_>,
    progress: Progress,
    cost_actual: f64,
    now: i64,
) -> Result<()> {
    lease_held(
        store.job_progress_update(lease, progress, cost_actual, now)?,
        lease,
    )
}

/// Cancel a job that has not finished, with its unfinished descendants. Returns the ids
/// cancelled, the job's own first.
///
/// # Errors
///
/// [`Error::NotFound`], or [`Error::WrongState`] when the job has already finished.
pub fn cancel(store: &dyn Store, id: &str, now: i64) -> Result<Vec<String>> {
    let mut ids = store.job_cancel(id, now)?;
    match ids.iter().position(|cancelled| cancelled == id) {
        Some(index) => {
            ids.swap(0, index);
            Ok(ids)
        }
        None => Err(wrong_state(store, id, "cancelled")),
    }
}

/// Pause a queued or running job. A running attempt loses its lease (the node interrupts
/// it within a maintenance tick and discards its outcome) and is not counted.
///
/// # Errors
///
/// [`Error::NotFound`], or [`Error::WrongState`] when the job is paused or finished.
pub fn pause(store: &dyn Store, id: &str, reason: PauseReason, now: i64) -> Result<()> {
    if store.job_pause(id, reason, now)? {
        return Ok(());
    }
    Err(wrong_state(store, id, "paused"))
}

/// Put a paused job back in the queue, in its old place.
///
/// # Errors
///
/// [`Error::NotFound`], or [`Error::WrongState`] when the job is not paused.
pub fn resume(store: &dyn Store, id: &str, now: i64) -> Result<()> {
    if store.job_resume(id, now)? {
        return Ok(());
    }
    Err(wrong_state(store, id, "resumed"))
}

/// Put a failed job back in the queue with `attempts` more attempts, to run now.
///
/// # Errors
///
/// [`Error::NotFound`], [`Error::WrongState`] when the job has not failed, [`Error::Invalid`]
/// for zero attempts.
pub fn retry_failed(store: &dyn Store, id: &str, attempts: u32, now: i64) -> Result<()> {
    if attempts == 0 {
        return Err(Error::Invalid("a retry needs at least 1 attempt".into()));
    }
    if store.job_requeue_failed(id, attempts, now)? {
        return Ok(());
    }
    Err(wrong_state(store, id, "retried"))
}

/// Extend the leases of the claims `held` (job id, claim number) that `owner` still runs.
/// Returns how many. A job `owner` claimed but no longer holds (its worker gave it up) is not
/// renewed, so the rescuer sees its lease expire.
///
/// # Errors
///
/// [`Error::Storage`] on database failure.
pub fn renew_leases(
    store: &dyn Store,
    held: &[(String, u32)],
    owner: &str,
    until: i64,
) -> Result<usize> {
    if held.is_empty() {
        return Ok(0);
    }
    Ok(store.job_leases_renew(held, owner, until)?)
}

/// How many jobs are stored below `root` in its job tree.
///
/// # Errors
///
/// [`Error::Storage`] on database failure.
pub fn descendants(store: &dyn Jobs, root: &str) -> Result<u64> {
    Ok(store.job_count_descendants(root)?)
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
/// [`Error::Storage`] on database failure.
pub fn rescue_expired(conn: &mut dyn Connection, now: i64) -> Result<Rescued> {
    let tx = conn.transaction()?;
    let rescued = Rescued {
        requeued: tx.job_rescue_requeue(now)?,
        failed: tx.job_rescue_fail(now)?,
    };
    tx.commit()?;
    Ok(rescued)
}

/// Of the claims `held` (job id, claim number), the jobs no longer running under that claim
/// and `owner`'s lease (cancelled, paused or rescued).
///
/// # Errors
///
/// [`Error::Storage`] on database failure.
pub fn interrupted(store: &dyn Store, held: &[(String, u32)], owner: &str) -> Result<Vec<String>> {
    Ok(store.job_ids_interrupted(held, owner)?)
}

/// Append lines to a job's log.
///
/// # Errors
///
/// [`Error::Storage`] on database failure.
pub fn append_logs(
    store: &dyn crate::storage::JobLogs,
    job_id: &str,
    lines: &[LogLine],
) -> Result<()> {
    Ok(store.job_logs_append(job_id, lines)?)
}

/// A job's log lines after the line numbered `after` (0 for all), with their numbers.
///
/// # Errors
///
/// [`Error::Storage`] on database failure.
pub fn logs(store: &dyn Store, job_id: &str, after: i64) -> Result<Vec<(i64, LogLine)>> {
    Ok(store.job_logs_after(job_id, after)?)
}

/// Record that a node registered a handler, so the CLI can check enqueues against it.
///
/// # Errors
///
/// [`Error::Storage`] on database failure.
pub fn register_handler(store: &dyn Store, record: &HandlerRecord) -> Result<()> {
    Ok(store.handler_register(record)?)
}

/// The registration of a handler, if any node made one.
///
/// # Errors
///
/// [`Error::Storage`] on database failure.
pub fn registered_handler(store: &dyn Store, handler: &str) -> Result<Option<HandlerRecord>> {
    Ok(store.handler_get(handler)?)
}

/// Names of every registered handler.
///
/// # Errors
///
/// [`Error::Storage`] on database failure.
pub fn registered_handler_names(store: &dyn Store) -> Result<Vec<String>> {
    Ok(store.handler_names()?)
}

/// Delete up to `batch` jobs (with their logs) that finished before `before`, keeping jobs with
/// a cost until they leave the longest spend window. Returns the ids deleted.
///
/// # Errors
///
/// [`Error::Storage`] on database failure.
pub fn prune(conn: &mut dyn Connection, before: i64, batch: u32, now: i64) -> Result<Vec<String>> {
    let tx = conn.transaction()?;
    let costs_after = now - super::Period::Monthly.window_ms();
    let ids = tx.job_prune(before, costs_after, batch)?;
    if !ids.is_empty() {
        tx.job_logs_delete(&ids)?;
    }
    tx.commit()?;
    Ok(ids)
}

/// Count runnable and running jobs for `handlers`.
///
/// # Errors
///
/// [`Error::Storage`] on database failure.
pub fn activity(store: &dyn Store, handlers: &[String], now: i64) -> Result<Activity> {
    Ok(store.job_count_active(handlers, now)?)
}

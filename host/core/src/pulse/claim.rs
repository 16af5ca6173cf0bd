//! The claim policy: which runnable jobs a node takes, decided here and written by the
//! backend's statements in one transaction, so that the decision and the writes are atomic.
//!
//! Handlers at their rate or concurrency limit are not claimed (see [`super::limits`]); a
//! batch that took more of a limited handler (or of a plugin on this node) than it has room
//! for gives those jobs back, as if they had not been claimed; a claimed job whose cost
//! estimate does not fit the budget is paused with `budget_exceeded`, its attempt not counted
//! (see [`super::budget`]).

use std::collections::BTreeMap;

use super::guard::{atomic, lease_held};
use super::keys;
use super::limits::{HandlerLimits, RATE_WINDOW_MS};
use super::{Job, Lease, LogLevel, LogLine, PauseReason, Result};
use crate::storage::{ClaimWrite, Connection, Store};

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
/// # Errors
///
/// [`super::Error::Storage`] on database failure.
pub fn claim(conn: &mut dyn Connection, claim: &ClaimParams<'_>) -> Result<Claimed> {
    claim_in(&**conn, claim)
}

/// [`claim`] on a store that may be inside a transaction already (a worker committing
/// outcomes claims the next batch in the same transaction): then it is nested in that
/// transaction, and the jobs are claimed only if that transaction commits.
///
/// # Errors
///
/// As [`claim`].
pub fn claim_in(store: &dyn Store, claim: &ClaimParams<'_>) -> Result<Claimed> {
    atomic(store, |tx| decide(tx, claim))
}

fn decide(tx: &dyn Store, claim: &ClaimParams<'_>) -> Result<Claimed> {
    let limited: Vec<_> = claim
        .limits
        .iter()
        .filter(|(handler, _)| claim.handlers.iter().any(|h| h == handler))
        .collect();
    // The load of a limited handler is counted, then claimed against: until this transaction
    // commits, no other claim of that handler may count it (only limited handlers pay this).
    keys::take(
        tx,
        limited.iter().map(|(handler, _)| keys::handler(handler)),
    )?;
    let mut room = BTreeMap::new();
    for (handler, limit) in limited {
        let (running, starts) = tx.handler_load(handler, claim.now - RATE_WINDOW_MS)?;
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
    let jobs = tx.job_claim(&ClaimWrite {
        handlers: &eligible,
        owner: claim.owner,
        lease_until: claim.lease_until,
        limit: claim.limit,
        now: claim.now,
    })?;
    // A batch may take more of a limited handler (or of a plugin on this node) than it has
    // room for: undo those claims, as if they had not been made.
    let mut kept = Vec::with_capacity(jobs.len());
    for job in jobs {
        let limited = room.get_mut(&job.handler);
        let over = limited.as_ref().is_some_and(|free| **free == 0)
            || shares.as_mut().is_some_and(|s| !s.take(&job.handler));
        if over {
            let lease = Lease {
                id: &job.id,
                attempt: job.attempt,
                claim: job.claims,
                owner: claim.owner,
            };
            lease_held(tx.job_unclaim(&job, claim.owner)?, lease)?;
            continue;
        }
        if let Some(free) = limited {
            *free -= 1;
        }
        kept.push(job);
    }
    let mut headroom = None;
    if kept.iter().any(|job| job.cost_estimate > 0.0) {
        let limits = tx.budget_limits()?;
        if !limits.is_empty() {
            // The spend is read, then reserved by this batch's running jobs: until this
            // transaction commits, no other claim (or the resumer) may read it. Taken last,
            // after the handler keys; only claims of jobs with an estimate under a budget pay.
            tx.exclusive(keys::BUDGET)?;
            // This batch already reserves as running; count its jobs one by one instead.
            let batch: f64 = kept.iter().map(reservation).sum();
            headroom = limits
                .headroom(&tx.budget_spend(claim.now)?)
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

/// Pause a just-claimed job whose estimate does not fit, and say why in its log.
fn budget_pause(tx: &dyn Store, job: &Job, room: f64, now: i64) -> Result<()> {
    // Claimed in this transaction, the job is running: the pause matches.
    tx.job_pause(&job.id, PauseReason::BudgetExceeded, now)?;
    tx.job_logs_append(
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
    )?;
    Ok(())
}

/// What a running job holds against the budget.
fn reservation(job: &Job) -> f64 {
    job.cost_estimate.max(job.cost_actual)
}

//! Schedules and watchers through the storage seam ([`crate::storage::Schedules`],
//! [`crate::storage::Watchers`]): the rules (intervals, ids, who may remove what) and the
//! transactions that fire them.

use super::{Schedule, ScheduleSpec, Watcher, WatcherSpec};
use crate::ats::Attestation;
use crate::pulse::store::Enqueued;
use crate::pulse::telemetry::Tally;
use crate::pulse::{Error, NewJob, Result};
use crate::storage::{Connection, ScheduleAdvance, ScheduleUpsert, Store, WatcherUpsert};

/// The owner of schedules users add from the CLI.
pub const USER: &str = "user";

/// Store what a plugin announced: create or update its schedules and watchers, and delete the
/// ones it no longer announces. A user's pause survives; a new watcher starts at the feed's head
/// (it fires on attestations written from now on), an existing one keeps its cursor.
///
/// # Errors
///
/// [`Error::Invalid`] for an interval under a second; [`Error::Storage`] when the store fails.
pub fn sync_plugin(
    conn: &mut dyn Connection,
    owner: &str,
    schedules: &[ScheduleSpec],
    watchers: &[WatcherSpec],
    now: i64,
) -> Result<()> {
    let tx = conn.transaction()?;
    // Two nodes loading one plugin at once must not interleave their prunes and upserts (on
    // PostgreSQL a transaction does not hold what it read): one sync, then the other.
    tx.exclusive(&format!("triggers:{owner}"))?;
    let mut schedule_ids = Vec::new();
    for spec in schedules {
        let base = format!("{}@{}s", spec.handler, spec.interval_ms / 1000);
        let id = unique_id(&base, &schedule_ids);
        upsert_schedule(tx.store(), &id, owner, spec, now)?;
        schedule_ids.push(id);
    }
    tx.schedule_prune(owner, &schedule_ids)?;

    let head = tx.attestation_head()?;
    let mut watcher_ids = Vec::new();
    for spec in watchers {
        let id = unique_id(&format!("{}#1", spec.handler), &watcher_ids);
        if !(spec.max_fires_per_second.is_finite() && spec.max_fires_per_second > 0.0) {
            return Err(Error::Invalid(format!(
                "watcher '{id}': max fires per second must be a positive number"
            )));
        }
        tx.watcher_upsert(&WatcherUpsert {
            id: &id,
            owner,
            spec,
            cursor_seq: head,
            now,
        })?;
        watcher_ids.push(id);
    }
    tx.watcher_prune(owner, &watcher_ids)?;
    tx.commit()?;
    Ok(())
}

/// Add a user's schedule; it first fires one interval from now (or now, with `start_now`).
///
/// # Errors
///
/// [`Error::Invalid`] for an interval under a second; [`Error::Storage`] when the store fails.
pub fn add_schedule(store: &dyn Store, spec: &ScheduleSpec, now: i64) -> Result<Schedule> {
    let id = format!(
        "user-{}",
        ulid::Ulid::new().to_string().to_ascii_lowercase()
    );
    upsert_schedule(store, &id, USER, spec, now)?;
    get_schedule(store, &id)
}

/// Every schedule, by id.
///
/// # Errors
///
/// [`Error::Storage`] when the store fails.
pub fn list_schedules(store: &dyn Store) -> Result<Vec<Schedule>> {
    Ok(store.schedule_list()?)
}

/// The schedule with this id.
///
/// # Errors
///
/// [`Error::NotFound`] when there is none.
pub fn get_schedule(store: &dyn Store, id: &str) -> Result<Schedule> {
    store
        .schedule_get(id)?
        .ok_or_else(|| Error::NotFound(format!("schedule {id}")))
}

/// Pause or resume a schedule. A resumed schedule fires one interval from now.
///
/// # Errors
///
/// [`Error::NotFound`] when there is no such schedule.
pub fn set_enabled(store: &dyn Store, id: &str, enabled: bool, now: i64) -> Result<()> {
    let schedule = get_schedule(store, id)?;
    if !store.schedule_set_enabled(id, enabled, now.saturating_add(schedule.interval_ms))? {
        return Err(Error::NotFound(format!("schedule {id}")));
    }
    Ok(())
}

/// Delete a user's schedule.
///
/// # Errors
///
/// [`Error::NotFound`], or [`Error::Invalid`] for a plugin's schedule (pause it instead).
pub fn remove_schedule(store: &dyn Store, id: &str) -> Result<()> {
    let schedule = get_schedule(store, id)?;
    if schedule.owner != USER {
        return Err(Error::Invalid(format!(
            "schedule '{id}' belongs to plugin '{}'; pause it instead",
            schedule.owner
        )));
    }
    if !store.schedule_delete(id)? {
        return Err(Error::NotFound(format!("schedule {id}")));
    }
    Ok(())
}

/// Schedules due at `now`, earliest first.
pub(super) fn due_schedules(store: &dyn Store, now: i64, limit: u32) -> Result<Vec<Schedule>> {
    Ok(store.schedule_due(now, limit)?)
}

/// What firing a schedule did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fired {
    /// A job was enqueued.
    Enqueued(String),
    /// A job of this schedule is still active; none was enqueued.
    StillActive(String),
    /// Another node fired it first.
    Lost,
}

/// Fire a due schedule: move its next run past `now` (guarded on the next run time seen, so
/// only one node wins) and enqueue its job unless one is still active, in one transaction.
pub(super) fn fire_schedule(
    conn: &mut dyn Connection,
    schedule: &Schedule,
    now: i64,
) -> Result<Fired> {
    let tx = conn.transaction()?;
    let interval = schedule.interval_ms.max(1);
    let missed = now.saturating_sub(schedule.next_run_at).max(0) / interval;
    let next = schedule
        .next_run_at
        .saturating_add(missed.saturating_add(1).saturating_mul(interval));
    let mut tally = Tally::default();
    let enqueued = enqueue_for(tx.store(), schedule, now, &mut tally)?;
    let advanced = tx.schedule_advance(&ScheduleAdvance {
        id: &schedule.id,
        seen_next_run_at: schedule.next_run_at,
        next_run_at: next,
        job_id: &enqueued.id,
        now,
    })?;
    if !advanced {
        return Ok(Fired::Lost);
    }
    tx.commit()?;
    tally.publish();
    Ok(if enqueued.existing {
        Fired::StillActive(enqueued.id)
    } else {
        Fired::Enqueued(enqueued.id)
    })
}

/// Enqueue a schedule's job now, outside its rhythm, unless one is still active.
///
/// # Errors
///
/// [`Error::NotFound`] when there is no such schedule.
pub fn run_now(store: &dyn Store, id: &str, now: i64) -> Result<Enqueued> {
    let schedule = get_schedule(store, id)?;
    let mut tally = Tally::default();
    let enqueued = enqueue_for(store, &schedule, now, &mut tally)?;
    store.schedule_record_job(id, &enqueued.id, now)?;
    if !store.in_transaction() {
        tally.publish();
    }
    Ok(enqueued)
}

fn enqueue_for(
    store: &dyn Store,
    schedule: &Schedule,
    now: i64,
    tally: &mut Tally,
) -> Result<Enqueued> {
    let job = NewJob {
        source: schedule.source(),
        unique: true,
        ..NewJob::new(schedule.handler.clone(), schedule.payload.clone())
    };
    enqueue(store, &job, now, tally)
}

/// The one place triggers enqueue: `job` joins the transaction `store` is in, and is counted
/// in `tally` for when it commits.
fn enqueue(store: &dyn Store, job: &NewJob, now: i64, tally: &mut Tally) -> Result<Enqueued> {
    crate::pulse::store::enqueue_tallied(store, job, now, tally)
}

/// Every watcher, by id.
///
/// # Errors
///
/// [`Error::Storage`] when the store fails.
pub fn list_watchers(store: &dyn Store) -> Result<Vec<Watcher>> {
    Ok(store.watcher_list()?)
}

/// Whether some watcher has not yet examined every attestation (work it may still turn into
/// jobs).
///
/// # Errors
///
/// [`Error::Storage`] when the store fails.
pub fn watchers_behind(store: &dyn Store) -> Result<bool> {
    Ok(store.watchers_behind()?)
}

/// Enqueue one job per attestation in `fire` for `watcher` and move its cursor from
/// `watcher.cursor_seq` to `cursor`, in one transaction. Returns false (and changes nothing)
/// when another node moved the cursor first.
pub(super) fn fire_watcher(
    conn: &mut dyn Connection,
    watcher: &Watcher,
    fire: &[&Attestation],
    cursor: i64,
    now: i64,
) -> Result<bool> {
    let tx = conn.transaction()?;
    if !tx.watcher_advance(&watcher.id, watcher.cursor_seq, cursor, now)? {
        return Ok(false);
    }
    let mut tally = Tally::default();
    for attestation in fire {
        let payload = serde_json::to_value(attestation).expect("an attestation serializes");
        let job = NewJob {
            source: watcher.source(),
            ..NewJob::new(watcher.handler.clone(), payload)
        };
        enqueue(tx.store(), &job, now, &mut tally)?;
    }
    tx.commit()?;
    tally.publish();
    Ok(true)
}

/// Longest schedule interval, in seconds: 366 days.
pub const MAX_INTERVAL_SECONDS: i64 = 366 * 24 * 3600;
const MAX_INTERVAL_MS: i64 = MAX_INTERVAL_SECONDS * 1000;

fn upsert_schedule(
    store: &dyn Store,
    id: &str,
    owner: &str,
    spec: &ScheduleSpec,
    now: i64,
) -> Result<()> {
    if !(1000..=MAX_INTERVAL_MS).contains(&spec.interval_ms) {
        return Err(Error::Invalid(format!(
            "schedule for '{}': the interval must be 1 s to 366 days, got {} ms",
            spec.handler, spec.interval_ms
        )));
    }
    Ok(store.schedule_upsert(&ScheduleUpsert {
        id,
        owner,
        spec,
        next_run_at: now.saturating_add(spec.interval_ms),
        now,
    })?)
}

fn unique_id(base: &str, taken: &[String]) -> String {
    let (stem, first) = match base.rsplit_once('#') {
        Some((stem, _)) => (stem.to_owned(), base.to_owned()),
        None => (base.to_owned(), base.to_owned()),
    };
    if !taken.contains(&first) {
        return first;
    }
    let separator = if base.contains('#') { '#' } else { '~' };
    (2..)
        .map(|n| format!("{stem}{separator}{n}"))
        .find(|id| !taken.contains(id))
        .expect("some suffix is free")
}

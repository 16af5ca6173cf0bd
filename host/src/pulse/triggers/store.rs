//! The only code that reads or writes schedules and watchers.

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use serde_json::Value;

use super::model::WatcherFilter;
use super::{Schedule, ScheduleSpec, Watcher, WatcherSpec};
use crate::ats::{self, Attestation};
use crate::pulse::store::Enqueued;
use crate::pulse::{Error, NewJob, Result};

macro_rules! sql {
    ($name:literal) => {
        include_str!(concat!("sql/", $name, ".sql"))
    };
}

/// The owner of schedules users add from the CLI.
pub const USER: &str = "user";

/// Store what a plugin announced: create or update its schedules and watchers, and delete the
/// ones it no longer announces. A user's pause survives; a new watcher starts at the feed's head
/// (it fires on attestations written from now on), an existing one keeps its cursor.
///
/// # Errors
///
/// [`Error::Invalid`] for an interval under a second; [`Error::Sqlite`] on database failure.
pub fn sync_plugin(
    conn: &mut Connection,
    owner: &str,
    schedules: &[ScheduleSpec],
    watchers: &[WatcherSpec],
    now: i64,
) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut schedule_ids = Vec::new();
    for spec in schedules {
        let base = format!("{}@{}s", spec.handler, spec.interval_ms / 1000);
        let id = unique_id(&base, &schedule_ids);
        upsert_schedule(&tx, &id, owner, spec, now)?;
        schedule_ids.push(id);
    }
    tx.prepare_cached(sql!("schedule_prune"))?
        .execute(params![owner, json_list(&schedule_ids)])?;

    let head = ats::store::head(&tx)?;
    let mut watcher_ids = Vec::new();
    for spec in watchers {
        let id = unique_id(&format!("{}#1", spec.handler), &watcher_ids);
        if !(spec.max_fires_per_second.is_finite() && spec.max_fires_per_second > 0.0) {
            return Err(Error::Invalid(format!(
                "watcher '{id}': max fires per second must be a positive number"
            )));
        }
        tx.prepare_cached(sql!("watcher_upsert"))?.execute(params![
            id,
            owner,
            spec.handler,
            serde_json::to_string(&spec.filter).expect("a filter serializes"),
            spec.max_fires_per_second,
            spec.include_own_writes,
            head,
            now,
        ])?;
        watcher_ids.push(id);
    }
    tx.prepare_cached(sql!("watcher_prune"))?
        .execute(params![owner, json_list(&watcher_ids)])?;
    tx.commit()?;
    Ok(())
}

/// Add a user's schedule; it first fires one interval from now (or now, with `start_now`).
///
/// # Errors
///
/// [`Error::Invalid`] for an interval under a second; [`Error::Sqlite`] on database failure.
pub fn add_schedule(conn: &Connection, spec: &ScheduleSpec, now: i64) -> Result<Schedule> {
    let id = format!(
        "user-{}",
        ulid::Ulid::new().to_string().to_ascii_lowercase()
    );
    upsert_schedule(conn, &id, USER, spec, now)?;
    get_schedule(conn, &id)
}

/// Every schedule, by id.
///
/// # Errors
///
/// [`Error::Sqlite`] on database failure.
pub fn list_schedules(conn: &Connection) -> Result<Vec<Schedule>> {
    Ok(conn
        .prepare_cached(sql!("schedule_list"))?
        .query_map([], schedule_from_row)?
        .collect::<rusqlite::Result<_>>()?)
}

/// The schedule with this id.
///
/// # Errors
///
/// [`Error::NotFound`] when there is none.
pub fn get_schedule(conn: &Connection, id: &str) -> Result<Schedule> {
    conn.prepare_cached(sql!("schedule_get"))?
        .query_row([id], schedule_from_row)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("schedule {id}")))
}

/// Pause or resume a schedule. A resumed schedule fires one interval from now.
///
/// # Errors
///
/// [`Error::NotFound`] when there is no such schedule.
pub fn set_enabled(conn: &Connection, id: &str, enabled: bool, now: i64) -> Result<()> {
    let schedule = get_schedule(conn, id)?;
    conn.prepare_cached(sql!("schedule_set_enabled"))?
        .execute(params![
            id,
            enabled,
            now.saturating_add(schedule.interval_ms)
        ])?;
    Ok(())
}

/// Delete a user's schedule.
///
/// # Errors
///
/// [`Error::NotFound`], or [`Error::Invalid`] for a plugin's schedule (pause it instead).
pub fn remove_schedule(conn: &Connection, id: &str) -> Result<()> {
    let schedule = get_schedule(conn, id)?;
    if schedule.owner != USER {
        return Err(Error::Invalid(format!(
            "schedule '{id}' belongs to plugin '{}'; pause it instead",
            schedule.owner
        )));
    }
    conn.prepare_cached(sql!("schedule_delete"))?
        .execute([id])?;
    Ok(())
}

/// Schedules due at `now`, earliest first.
pub(super) fn due_schedules(conn: &Connection, now: i64, limit: u32) -> Result<Vec<Schedule>> {
    Ok(conn
        .prepare_cached(sql!("schedule_due"))?
        .query_map(params![now, limit], schedule_from_row)?
        .collect::<rusqlite::Result<_>>()?)
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
pub(super) fn fire_schedule(conn: &mut Connection, schedule: &Schedule, now: i64) -> Result<Fired> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let interval = schedule.interval_ms.max(1);
    let missed = now.saturating_sub(schedule.next_run_at).max(0) / interval;
    let next = schedule
        .next_run_at
        .saturating_add(missed.saturating_add(1).saturating_mul(interval));
    let enqueued = enqueue_for(&tx, schedule, now)?;
    let changed = tx
        .prepare_cached(sql!("schedule_advance"))?
        .execute(params![
            schedule.id,
            schedule.next_run_at,
            next,
            enqueued.id,
            now
        ])?;
    if changed == 0 {
        return Ok(Fired::Lost);
    }
    tx.commit()?;
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
pub fn run_now(conn: &Connection, id: &str, now: i64) -> Result<Enqueued> {
    let schedule = get_schedule(conn, id)?;
    let enqueued = enqueue_for(conn, &schedule, now)?;
    conn.prepare_cached(sql!("schedule_record_job"))?
        .execute(params![id, enqueued.id, now])?;
    Ok(enqueued)
}

fn enqueue_for(conn: &Connection, schedule: &Schedule, now: i64) -> Result<Enqueued> {
    let job = NewJob {
        source: schedule.source(),
        unique: true,
        ..NewJob::new(schedule.handler.clone(), schedule.payload.clone())
    };
    crate::sqlite::shared::enqueue(conn, &job, now)
}

/// Every watcher, by id.
///
/// # Errors
///
/// [`Error::Sqlite`] on database failure.
pub fn list_watchers(conn: &Connection) -> Result<Vec<Watcher>> {
    Ok(conn
        .prepare_cached(sql!("watcher_list"))?
        .query_map([], |row| {
            let filter: String = row.get(3)?;
            Ok(Watcher {
                id: row.get(0)?,
                owner: row.get(1)?,
                handler: row.get(2)?,
                filter: serde_json::from_str::<WatcherFilter>(&filter).unwrap_or_default(),
                max_fires_per_second: row.get(4)?,
                include_own_writes: row.get(5)?,
                cursor_seq: row.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?)
}

/// Whether some watcher has not yet examined every attestation (work it may still turn into
/// jobs).
///
/// # Errors
///
/// [`Error::Sqlite`] on database failure.
pub fn watchers_behind(conn: &Connection) -> Result<bool> {
    Ok(conn
        .prepare_cached(sql!("watcher_behind"))?
        .query_row([], |row| row.get(0))?)
}

/// Enqueue one job per attestation in `fire` for `watcher` and move its cursor from
/// `watcher.cursor_seq` to `cursor`, in one transaction. Returns false (and changes nothing)
/// when another node moved the cursor first.
pub(super) fn fire_watcher(
    conn: &mut Connection,
    watcher: &Watcher,
    fire: &[&Attestation],
    cursor: i64,
    now: i64,
) -> Result<bool> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let changed = tx
        .prepare_cached(sql!("watcher_advance"))?
        .execute(params![watcher.id, watcher.cursor_seq, cursor, now])?;
    if changed == 0 {
        return Ok(false);
    }
    for attestation in fire {
        let payload = serde_json::to_value(attestation).expect("an attestation serializes");
        let job = NewJob {
            source: watcher.source(),
            ..NewJob::new(watcher.handler.clone(), payload)
        };
        crate::sqlite::shared::enqueue(&tx, &job, now)?;
    }
    tx.commit()?;
    Ok(true)
}

/// Longest schedule interval, in seconds: 366 days.
pub const MAX_INTERVAL_SECONDS: i64 = 366 * 24 * 3600;
const MAX_INTERVAL_MS: i64 = MAX_INTERVAL_SECONDS * 1000;

fn upsert_schedule(
    conn: &Connection,
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
    conn.prepare_cached(sql!("schedule_upsert"))?
        .execute(params![
            id,
            owner,
            spec.handler,
            spec.payload.to_string(),
            spec.interval_ms,
            spec.enabled,
            now.saturating_add(spec.interval_ms),
            now,
        ])?;
    Ok(())
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

fn json_list(ids: &[String]) -> String {
    serde_json::to_string(ids).expect("strings serialize")
}

fn schedule_from_row(row: &Row<'_>) -> rusqlite::Result<Schedule> {
    let payload: String = row.get(3)?;
    Ok(Schedule {
        id: row.get(0)?,
        owner: row.get(1)?,
        handler: row.get(2)?,
        payload: serde_json::from_str(&payload).unwrap_or(Value::Null),
        interval_ms: row.get(4)?,
        enabled: row.get(5)?,
        next_run_at: row.get(6)?,
        last_job_id: row.get(7)?,
    })
}

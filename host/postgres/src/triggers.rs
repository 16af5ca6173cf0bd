//! The statements of schedules and watchers on PostgreSQL. Firing is guarded by
//! compare-and-set (`schedule_advance` on the next run time, `watcher_advance` on the cursor),
//! so of several nodes firing at once exactly one wins, without a leader.

use serde_json::Value;
use tokio_postgres::Row;

use super::PostgresConnection;
use super::error::OrStorage;
use crate::pulse::triggers::{Schedule, Watcher, WatcherFilter};
use crate::storage::{self, ScheduleAdvance, ScheduleUpsert, Schedules, WatcherUpsert, Watchers};

macro_rules! sql {
    ($name:literal) => {
        include_str!(concat!("sql/", $name, ".sql"))
    };
}

impl Schedules for PostgresConnection {
    fn schedule_upsert(&self, schedule: &ScheduleUpsert<'_>) -> storage::Result<()> {
        let spec = schedule.spec;
        self.execute(
            sql!("schedule_upsert"),
            &[
                &schedule.id,
                &schedule.owner,
                &spec.handler,
                &spec.payload.to_string(),
                &spec.interval_ms,
                &spec.enabled,
                &schedule.next_run_at,
                &schedule.now,
            ],
        )?;
        self.changed()
    }

    fn schedule_prune(&self, owner: &str, keep: &[String]) -> storage::Result<usize> {
        let pruned = self.execute(sql!("schedule_prune"), &[&owner, &keep])?;
        if pruned > 0 {
            self.changed()?;
        }
        Ok(count(pruned))
    }

    fn schedule_list(&self) -> storage::Result<Vec<Schedule>> {
        self.query(sql!("schedule_list"), &[])?
            .iter()
            .map(schedule_from_row)
            .collect()
    }

    fn schedule_get(&self, id: &str) -> storage::Result<Option<Schedule>> {
        self.query_opt(sql!("schedule_get"), &[&id])?
            .as_ref()
            .map(schedule_from_row)
            .transpose()
    }

    fn schedule_set_enabled(
        &self,
        id: &str,
        enabled: bool,
        next_run_at: i64,
    ) -> storage::Result<bool> {
        let changed = self.execute(sql!("schedule_set_enabled"), &[&id, &enabled, &next_run_at])?;
        if changed > 0 {
            self.changed()?;
        }
        Ok(changed > 0)
    }

    fn schedule_delete(&self, id: &str) -> storage::Result<bool> {
        let deleted = self.execute(sql!("schedule_delete"), &[&id])?;
        if deleted > 0 {
            self.changed()?;
        }
        Ok(deleted > 0)
    }

    fn schedule_due(&self, now: i64, limit: u32) -> storage::Result<Vec<Schedule>> {
        self.query(sql!("schedule_due"), &[&now, &i64::from(limit)])?
            .iter()
            .map(schedule_from_row)
            .collect()
    }

    fn schedule_advance(&self, advance: &ScheduleAdvance<'_>) -> storage::Result<bool> {
        // The job it enqueued in the same transaction sends the wake-up.
        let changed = self.execute(
            sql!("schedule_advance"),
            &[
                &advance.id,
                &advance.seen_next_run_at,
                &advance.next_run_at,
                &advance.job_id,
                &advance.now,
            ],
        )?;
        Ok(changed > 0)
    }

    fn schedule_record_job(&self, id: &str, job_id: &str, now: i64) -> storage::Result<()> {
        self.execute(sql!("schedule_record_job"), &[&id, &job_id, &now])
            .map(drop)
    }
}

impl Watchers for PostgresConnection {
    fn watcher_upsert(&self, watcher: &WatcherUpsert<'_>) -> storage::Result<()> {
        let spec = watcher.spec;
        self.execute(
            sql!("watcher_upsert"),
            &[
                &watcher.id,
                &watcher.owner,
                &spec.handler,
                &serde_json::to_string(&spec.filter).expect("a filter serializes"),
                &spec.max_fires_per_second,
                &spec.include_own_writes,
                &watcher.cursor_seq,
                &watcher.now,
            ],
        )?;
        self.changed()
    }

    fn watcher_prune(&self, owner: &str, keep: &[String]) -> storage::Result<usize> {
        let pruned = self.execute(sql!("watcher_prune"), &[&owner, &keep])?;
        if pruned > 0 {
            self.changed()?;
        }
        Ok(count(pruned))
    }

    fn watcher_list(&self) -> storage::Result<Vec<Watcher>> {
        self.query(sql!("watcher_list"), &[])?
            .iter()
            .map(watcher_from_row)
            .collect()
    }

    fn watcher_advance(&self, id: &str, from: i64, to: i64, now: i64) -> storage::Result<bool> {
        // The jobs it enqueued in the same transaction send the wake-up.
        let changed = self.execute(sql!("watcher_advance"), &[&id, &from, &to, &now])?;
        Ok(changed > 0)
    }

    fn watchers_behind(&self) -> storage::Result<bool> {
        self.query_one(sql!("watcher_behind"), &[])?
            .try_get(0)
            .or_storage()
    }
}

fn count(rows: u64) -> usize {
    usize::try_from(rows).unwrap_or(usize::MAX)
}

/// A schedule's row; a payload that is not JSON reads as null, as on SQLite.
fn schedule_from_row(row: &Row) -> storage::Result<Schedule> {
    let payload: &str = row.try_get(3).or_storage()?;
    Ok(Schedule {
        id: row.try_get(0).or_storage()?,
        owner: row.try_get(1).or_storage()?,
        handler: row.try_get(2).or_storage()?,
        payload: payload.parse().unwrap_or(Value::Null),
        interval_ms: row.try_get(4).or_storage()?,
        enabled: row.try_get(5).or_storage()?,
        next_run_at: row.try_get(6).or_storage()?,
        last_job_id: row.try_get(7).or_storage()?,
    })
}

/// A watcher's row; a filter of an unknown shape reads as the empty filter, as on SQLite.
fn watcher_from_row(row: &Row) -> storage::Result<Watcher> {
    let filter: &str = row.try_get(3).or_storage()?;
    Ok(Watcher {
        id: row.try_get(0).or_storage()?,
        owner: row.try_get(1).or_storage()?,
        handler: row.try_get(2).or_storage()?,
        filter: serde_json::from_str::<WatcherFilter>(filter).unwrap_or_default(),
        max_fires_per_second: row.try_get(4).or_storage()?,
        include_own_writes: row.try_get(5).or_storage()?,
        cursor_seq: row.try_get(6).or_storage()?,
    })
}

#[cfg(test)]
mod tests;

//! The statements of schedules and watchers on SQLite.

use rusqlite::{OptionalExtension, Row, params};
use serde_json::Value;

use super::{OrStorage, SqliteConnection};
use crate::pulse::triggers::{Schedule, Watcher, WatcherFilter};
use crate::storage::{self, ScheduleAdvance, ScheduleUpsert, Schedules, WatcherUpsert, Watchers};

macro_rules! sql {
    ($name:literal) => {
        include_str!(concat!("sql/", $name, ".sql"))
    };
}

impl Schedules for SqliteConnection {
    fn schedule_upsert(&self, schedule: &ScheduleUpsert<'_>) -> storage::Result<()> {
        let spec = schedule.spec;
        self.sql()
            .prepare_cached(sql!("schedule_upsert"))
            .and_then(|mut upsert| {
                upsert.execute(params![
                    schedule.id,
                    schedule.owner,
                    spec.handler,
                    spec.payload.to_string(),
                    spec.interval_ms,
                    spec.enabled,
                    schedule.next_run_at,
                    schedule.now,
                ])
            })
            .or_storage()?;
        Ok(())
    }

    fn schedule_prune(&self, owner: &str, keep: &[String]) -> storage::Result<usize> {
        self.sql()
            .prepare_cached(sql!("schedule_prune"))
            .and_then(|mut prune| prune.execute(params![owner, json_list(keep)]))
            .or_storage()
    }

    fn schedule_list(&self) -> storage::Result<Vec<Schedule>> {
        self.sql()
            .prepare_cached(sql!("schedule_list"))
            .and_then(|mut list| {
                list.query_map([], schedule_from_row)?
                    .collect::<rusqlite::Result<_>>()
            })
            .or_storage()
    }

    fn schedule_get(&self, id: &str) -> storage::Result<Option<Schedule>> {
        self.sql()
            .prepare_cached(sql!("schedule_get"))
            .and_then(|mut get| get.query_row([id], schedule_from_row).optional())
            .or_storage()
    }

    fn schedule_set_enabled(
        &self,
        id: &str,
        enabled: bool,
        next_run_at: i64,
    ) -> storage::Result<bool> {
        self.sql()
            .prepare_cached(sql!("schedule_set_enabled"))
            .and_then(|mut set| set.execute(params![id, enabled, next_run_at]))
            .map(|changed| changed > 0)
            .or_storage()
    }

    fn schedule_delete(&self, id: &str) -> storage::Result<bool> {
        self.sql()
            .prepare_cached(sql!("schedule_delete"))
            .and_then(|mut delete| delete.execute([id]))
            .map(|changed| changed > 0)
            .or_storage()
    }

    fn schedule_due(&self, now: i64, limit: u32) -> storage::Result<Vec<Schedule>> {
        self.sql()
            .prepare_cached(sql!("schedule_due"))
            .and_then(|mut due| {
                due.query_map(params![now, limit], schedule_from_row)?
                    .collect::<rusqlite::Result<_>>()
            })
            .or_storage()
    }

    fn schedule_advance(&self, advance: &ScheduleAdvance<'_>) -> storage::Result<bool> {
        self.sql()
            .prepare_cached(sql!("schedule_advance"))
            .and_then(|mut update| {
                update.execute(params![
                    advance.id,
                    advance.seen_next_run_at,
                    advance.next_run_at,
                    advance.job_id,
                    advance.now
                ])
            })
            .map(|changed| changed > 0)
            .or_storage()
    }

    fn schedule_record_job(&self, id: &str, job_id: &str, now: i64) -> storage::Result<()> {
        self.sql()
            .prepare_cached(sql!("schedule_record_job"))
            .and_then(|mut record| record.execute(params![id, job_id, now]))
            .or_storage()?;
        Ok(())
    }
}

impl Watchers for SqliteConnection {
    fn watcher_upsert(&self, watcher: &WatcherUpsert<'_>) -> storage::Result<()> {
        let spec = watcher.spec;
        self.sql()
            .prepare_cached(sql!("watcher_upsert"))
            .and_then(|mut upsert| {
                upsert.execute(params![
                    watcher.id,
                    watcher.owner,
                    spec.handler,
                    serde_json::to_string(&spec.filter).expect("a filter serializes"),
                    spec.max_fires_per_second,
                    spec.include_own_writes,
                    watcher.cursor_seq,
                    watcher.now,
                ])
            })
            .or_storage()?;
        Ok(())
    }

    fn watcher_prune(&self, owner: &str, keep: &[String]) -> storage::Result<usize> {
        self.sql()
            .prepare_cached(sql!("watcher_prune"))
            .and_then(|mut prune| prune.execute(params![owner, json_list(keep)]))
            .or_storage()
    }

    fn watcher_list(&self) -> storage::Result<Vec<Watcher>> {
        self.sql()
            .prepare_cached(sql!("watcher_list"))
            .and_then(|mut list| {
                list.query_map([], watcher_from_row)?
                    .collect::<rusqlite::Result<_>>()
            })
            .or_storage()
    }

    fn watcher_advance(&self, id: &str, from: i64, to: i64, now: i64) -> storage::Result<bool> {
        self.sql()
            .prepare_cached(sql!("watcher_advance"))
            .and_then(|mut advance| advance.execute(params![id, from, to, now]))
            .map(|changed| changed > 0)
            .or_storage()
    }

    fn watchers_behind(&self) -> storage::Result<bool> {
        self.sql()
            .prepare_cached(sql!("watcher_behind"))
            .and_then(|mut behind| behind.query_row([], |row| row.get(0)))
            .or_storage()
    }
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

fn watcher_from_row(row: &Row<'_>) -> rusqlite::Result<Watcher> {
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
}

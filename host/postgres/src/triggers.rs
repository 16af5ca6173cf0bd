//! STUB: the statements of Schedules, Watchers (to be written).
#![allow(unused_variables, unused_imports)]

use super::PostgresConnection;
use crate::ats::*;
use crate::pulse::triggers::*;
use crate::pulse::*;
use crate::storage::{self, *};

impl Schedules for PostgresConnection {
    fn schedule_upsert(&self, schedule: &ScheduleUpsert<'_>) -> storage::Result<()> {
        unimplemented!("Schedules")
    }

    fn schedule_prune(&self, owner: &str, keep: &[String]) -> storage::Result<usize> {
        unimplemented!("Schedules")
    }

    fn schedule_list(&self) -> storage::Result<Vec<Schedule>> {
        unimplemented!("Schedules")
    }

    fn schedule_get(&self, id: &str) -> storage::Result<Option<Schedule>> {
        unimplemented!("Schedules")
    }

    fn schedule_set_enabled(
        &self,
        id: &str,
        enabled: bool,
        next_run_at: i64,
    ) -> storage::Result<bool> {
        unimplemented!("Schedules")
    }

    fn schedule_delete(&self, id: &str) -> storage::Result<bool> {
        unimplemented!("Schedules")
    }

    fn schedule_due(&self, now: i64, limit: u32) -> storage::Result<Vec<Schedule>> {
        unimplemented!("Schedules")
    }

    fn schedule_advance(&self, advance: &ScheduleAdvance<'_>) -> storage::Result<bool> {
        unimplemented!("Schedules")
    }

    fn schedule_record_job(&self, id: &str, job_id: &str, now: i64) -> storage::Result<()> {
        unimplemented!("Schedules")
    }
}

impl storage::Watchers for PostgresConnection {
    fn watcher_upsert(&self, watcher: &WatcherUpsert<'_>) -> storage::Result<()> {
        unimplemented!("Watchers")
    }

    fn watcher_prune(&self, owner: &str, keep: &[String]) -> storage::Result<usize> {
        unimplemented!("Watchers")
    }

    fn watcher_list(&self) -> storage::Result<Vec<Watcher>> {
        unimplemented!("Watchers")
    }

    fn watcher_advance(&self, id: &str, from: i64, to: i64, now: i64) -> storage::Result<bool> {
        unimplemented!("Watchers")
    }

    fn watchers_behind(&self) -> storage::Result<bool> {
        unimplemented!("Watchers")
    }
}

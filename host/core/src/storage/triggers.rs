//! The statements of triggers: schedules, watchers and their cursors on the feed.

use super::Result;
use crate::pulse::triggers::{Schedule, ScheduleSpec, Watcher, WatcherSpec};

/// A schedule to create or update ([`Schedules::schedule_upsert`]).
#[derive(Debug, Clone, Copy)]
pub struct ScheduleUpsert<'a> {
    /// Its id.
    pub id: &'a str,
    /// The plugin that announced it, or `user`.
    pub owner: &'a str,
    /// What it runs and how often.
    pub spec: &'a ScheduleSpec,
    /// When it fires first, Unix milliseconds (kept for an existing schedule whose interval
    /// does not change).
    pub next_run_at: i64,
    /// Now, Unix milliseconds.
    pub now: i64,
}

/// A due schedule's move to its next run ([`Schedules::schedule_advance`]).
#[derive(Debug, Clone, Copy)]
pub struct ScheduleAdvance<'a> {
    /// The schedule.
    pub id: &'a str,
    /// The next run time the firer read: the guard.
    pub seen_next_run_at: i64,
    /// The next run time to store.
    pub next_run_at: i64,
    /// The job it enqueued.
    pub job_id: &'a str,
    /// Now, Unix milliseconds.
    pub now: i64,
}

/// Schedules: jobs enqueued every interval.
pub trait Schedules {
    /// Create a schedule, or update the one with its id (owner, handler, payload, interval;
    /// its next run time only when the interval changes; a user's pause stays).
    fn schedule_upsert(&self, schedule: &ScheduleUpsert<'_>) -> Result<()>;

    /// Delete `owner`'s schedules whose ids are not in `keep`; returns how many.
    fn schedule_prune(&self, owner: &str, keep: &[String]) -> Result<usize>;

    /// Every schedule, by id.
    fn schedule_list(&self) -> Result<Vec<Schedule>>;

    /// The schedule with this id.
    fn schedule_get(&self, id: &str) -> Result<Option<Schedule>>;

    /// Pause or resume a schedule; a resumed one next runs at `next_run_at`. False when there
    /// is no such schedule.
    fn schedule_set_enabled(&self, id: &str, enabled: bool, next_run_at: i64) -> Result<bool>;

    /// Delete a schedule. False when there is no such schedule.
    fn schedule_delete(&self, id: &str) -> Result<bool>;

    /// Enabled schedules due at `now`, earliest first, at most `limit`.
    fn schedule_due(&self, now: i64, limit: u32) -> Result<Vec<Schedule>>;

    /// Move an enabled schedule's next run and record its job, guarded on the next run time
    /// the firer read; false (nothing changed) when another firer moved it first.
    fn schedule_advance(&self, advance: &ScheduleAdvance<'_>) -> Result<bool>;

    /// Record the job a schedule enqueued outside its rhythm.
    fn schedule_record_job(&self, id: &str, job_id: &str, now: i64) -> Result<()>;
}

/// A watcher to create or update ([`Watchers::watcher_upsert`]).
#[derive(Debug, Clone, Copy)]
pub struct WatcherUpsert<'a> {
    /// Its id.
    pub id: &'a str,
    /// The plugin that announced it.
    pub owner: &'a str,
    /// What it runs and on what.
    pub spec: &'a WatcherSpec,
    /// Where a new watcher's cursor starts (an existing one keeps its cursor).
    pub cursor_seq: i64,
    /// Now, Unix milliseconds.
    pub now: i64,
}

/// Watchers: jobs enqueued for new attestations, with a cursor on the feed each.
pub trait Watchers {
    /// Create a watcher, or update the one with its id, keeping its cursor.
    fn watcher_upsert(&self, watcher: &WatcherUpsert<'_>) -> Result<()>;

    /// Delete `owner`'s watchers whose ids are not in `keep`; returns how many.
    fn watcher_prune(&self, owner: &str, keep: &[String]) -> Result<usize>;

    /// Every watcher, by id.
    fn watcher_list(&self) -> Result<Vec<Watcher>>;

    /// Move a watcher's cursor from `from` to `to`; false (nothing changed) when it was no
    /// longer at `from`.
    fn watcher_advance(&self, id: &str, from: i64, to: i64, now: i64) -> Result<bool>;

    /// Whether some watcher's cursor is behind the newest attestation.
    fn watchers_behind(&self) -> Result<bool>;
}

//! The scheduler: fires due schedules.

use rusqlite::Connection;

use super::store::{self, Fired};
use crate::pulse::Result;

/// Schedules fired per [`Scheduler::run_once`] at most.
const BATCH: u32 = 100;

/// Counts of what [`Scheduler::run_once`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchedulerReport {
    /// Jobs enqueued.
    pub enqueued: Vec<String>,
    /// Due schedules whose previous job is still active.
    pub still_active: usize,
    /// Due schedules another node fired first.
    pub lost: usize,
}

/// Fires due schedules; the node calls it from its maintenance loop.
#[derive(Debug, Default)]
pub struct Scheduler;

impl Scheduler {
    /// Fire every schedule due at `now`.
    ///
    /// # Errors
    ///
    /// [`crate::pulse::Error`] when the database fails.
    pub fn run_once(&self, conn: &mut Connection, now: i64) -> Result<SchedulerReport> {
        let mut report = SchedulerReport::default();
        for schedule in store::due_schedules(conn, now, BATCH)? {
            match store::fire_schedule(conn, &schedule, now)? {
                Fired::Enqueued(id) => {
                    tracing::info!(schedule = %schedule.id, job = %id, "schedule fired");
                    report.enqueued.push(id);
                }
                Fired::StillActive(id) => {
                    tracing::debug!(schedule = %schedule.id, job = %id, "schedule due but its job is still active");
                    report.still_active += 1;
                }
                Fired::Lost => report.lost += 1,
            }
        }
        Ok(report)
    }
}

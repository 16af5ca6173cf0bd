//! The scheduler: fires due schedules.

use std::sync::Arc;
use std::time::Duration;

use super::store::{self, Fired};
use crate::clock::Clock;
use crate::pulse::Result;
use crate::pulse::service::{Service, ServiceReport};
use crate::storage::Connection;

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

/// Fires due schedules; a node's [`crate::pulse::Maintainer`] runs it every
/// [`Scheduler::INTERVAL`].
#[derive(Debug)]
pub struct Scheduler {
    conn: Box<dyn Connection>,
    clock: Arc<dyn Clock>,
}

impl Scheduler {
    /// How often the node runs it: the precision of schedules.
    pub const INTERVAL: Duration = Duration::from_millis(100);

    /// A scheduler on its own connection.
    pub fn new(conn: Box<dyn Connection>, clock: Arc<dyn Clock>) -> Self {
        Self { conn, clock }
    }

    /// Fire every schedule due now.
    ///
    /// # Errors
    ///
    /// [`crate::pulse::Error`] when the database fails.
    pub fn run_once(&mut self) -> Result<SchedulerReport> {
        let now = self.clock.now_ms();
        let conn = self.conn.as_mut();
        let mut report = SchedulerReport::default();
        for schedule in store::due_schedules(conn.store(), now, BATCH)? {
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

impl Service for Scheduler {
    type Report = SchedulerReport;

    fn name(&self) -> &'static str {
        "scheduler"
    }

    fn interval(&self) -> Duration {
        Self::INTERVAL
    }

    fn run_once(&mut self) -> Result<SchedulerReport> {
        Scheduler::run_once(self)
    }

    fn explain(&self, error: &crate::pulse::Error) -> String {
        self.conn.explain(error)
    }
}

impl ServiceReport for SchedulerReport {
    fn made_runnable(&self) -> bool {
        !self.enqueued.is_empty()
    }
}

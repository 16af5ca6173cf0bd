//! The budget resumer: lets jobs paused with `budget_exceeded` run again once their estimates
//! fit the spend windows (see [`super::budget`]).

use std::sync::Arc;
use std::time::Duration;

use crate::storage::Connection;

use super::service::{Service, ServiceReport};
use super::{Result, ResumeReport, store};
use crate::clock::Clock;

/// Settings of the [`BudgetResumer`].
#[derive(Debug, Clone)]
pub struct ResumerConfig {
    /// How often the node runs it.
    pub interval: Duration,
    /// At most this many paused jobs looked at per run.
    pub batch: u32,
}

impl ResumerConfig {
    /// Default interval: 2 s.
    pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(2);
    /// Default batch: 1000 jobs.
    pub const DEFAULT_BATCH: u32 = 1000;
}

impl Default for ResumerConfig {
    fn default() -> Self {
        Self {
            interval: Self::DEFAULT_INTERVAL,
            batch: Self::DEFAULT_BATCH,
        }
    }
}

/// Moves jobs paused with `budget_exceeded` back to `queued` when the windows allow.
#[derive(Debug)]
pub struct BudgetResumer {
    conn: Box<dyn Connection>,
    clock: Arc<dyn Clock>,
    config: ResumerConfig,
}

impl BudgetResumer {
    /// A resumer on its own connection.
    pub fn new(conn: Box<dyn Connection>, clock: Arc<dyn Clock>, config: ResumerConfig) -> Self {
        Self {
            conn,
            clock,
            config,
        }
    }

    /// Its settings.
    pub fn config(&self) -> &ResumerConfig {
        &self.config
    }

    /// Resume the paused jobs whose estimates fit, most urgent first.
    ///
    /// # Errors
    ///
    /// [`super::Error::Storage`] on database failure.
    pub fn run_once(&mut self) -> Result<ResumeReport> {
        store::resume_within_budget(self.conn.as_mut(), self.config.batch, self.clock.now_ms())
    }
}

impl Service for BudgetResumer {
    type Report = ResumeReport;

    fn name(&self) -> &'static str {
        "budget-resumer"
    }

    fn interval(&self) -> Duration {
        self.config.interval
    }

    fn run_once(&mut self) -> Result<ResumeReport> {
        BudgetResumer::run_once(self)
    }

    fn explain(&self, error: &super::Error) -> String {
        self.conn.explain(error)
    }
}

impl ServiceReport for ResumeReport {
    fn made_runnable(&self) -> bool {
        !self.resumed.is_empty()
    }

    fn log(&self) {
        if self.made_runnable() {
            tracing::info!(
                resumed = self.resumed.len(),
                waiting = self.waiting,
                "resumed budget-paused jobs"
            );
        }
    }
}

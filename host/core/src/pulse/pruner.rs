//! The pruner: deletes finished jobs, and their logs, after a retention period, and forgets the
//! nodes no kept job ran on.

use std::sync::Arc;
use std::time::Duration;

use crate::storage::Connection;

use super::service::{Service, ServiceReport};
use super::{Period, Result, nodes, store};
use crate::clock::{Clock, millis};

/// Settings of the [`Pruner`].
#[derive(Debug, Clone)]
pub struct PrunerConfig {
    /// Finished jobs older than this are deleted. Jobs with a cost are kept at least as long as
    /// the longest spend window (30 days), so budgets stay right.
    pub retention: Duration,
    /// How often the node runs it.
    pub interval: Duration,
    /// At most this many jobs deleted per run, so one run never holds the write lock long.
    pub batch: u32,
}

impl PrunerConfig {
    /// Default retention: 7 days.
    pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
    /// Default interval: 1 minute.
    pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);
    /// Default batch: 1000 jobs.
    pub const DEFAULT_BATCH: u32 = 1000;
}

impl Default for PrunerConfig {
    fn default() -> Self {
        Self {
            retention: Self::DEFAULT_RETENTION,
            interval: Self::DEFAULT_INTERVAL,
            batch: Self::DEFAULT_BATCH,
        }
    }
}

/// What one run of the pruner did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// Jobs deleted.
    pub deleted: Vec<String>,
    /// Records of nodes forgotten: last seen before any job still kept ran (the retention, or
    /// the longest spend window when that is longer, as for jobs with a cost).
    pub nodes: usize,
}

/// Deletes finished jobs past the retention.
#[derive(Debug)]
pub struct Pruner {
    conn: Box<dyn Connection>,
    clock: Arc<dyn Clock>,
    config: PrunerConfig,
}

impl Pruner {
    /// A pruner on its own connection.
    pub fn new(conn: Box<dyn Connection>, clock: Arc<dyn Clock>, config: PrunerConfig) -> Self {
        Self {
            conn,
            clock,
            config,
        }
    }

    /// Its settings.
    pub fn config(&self) -> &PrunerConfig {
        &self.config
    }

    /// Delete one batch of expired jobs.
    ///
    /// # Errors
    ///
    /// [`super::Error::Storage`] on database failure.
    pub fn run_once(&mut self) -> Result<PruneReport> {
        let now = self.clock.now_ms();
        let before = now.saturating_sub(millis(self.config.retention));
        let deleted = store::prune(self.conn.as_mut(), before, self.config.batch, now)?;
        let oldest_kept = before.min(now.saturating_sub(Period::Monthly.window_ms()));
        Ok(PruneReport {
            deleted,
            nodes: nodes::prune(&**self.conn, oldest_kept)?,
        })
    }
}

impl Service for Pruner {
    type Report = PruneReport;

    fn name(&self) -> &'static str {
        "pruner"
    }

    fn interval(&self) -> Duration {
        self.config.interval
    }

    fn run_once(&mut self) -> Result<PruneReport> {
        Pruner::run_once(self)
    }

    fn explain(&self, error: &super::Error) -> String {
        self.conn.explain(error)
    }
}

impl ServiceReport for PruneReport {
    fn log(&self) {
        if !self.deleted.is_empty() || self.nodes > 0 {
            tracing::info!(
                deleted = self.deleted.len(),
                nodes = self.nodes,
                "pruned finished jobs and old node records"
            );
        }
    }
}

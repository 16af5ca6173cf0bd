//! Store upkeep: the housekeeping the backend asks for now and then (SQLite: a checkpoint of
//! the write-ahead log), and its warning when the store needs an operator's attention.

use std::time::Duration;

use super::Result;
use super::service::{Service, ServiceReport};
use crate::storage::Connection;

/// Settings of the [`StoreUpkeep`].
#[derive(Debug, Clone)]
pub struct UpkeepConfig {
    /// How often it runs.
    pub interval: Duration,
}

impl UpkeepConfig {
    /// Default interval: 10 s.
    pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);
}

impl Default for UpkeepConfig {
    fn default() -> Self {
        Self {
            interval: Self::DEFAULT_INTERVAL,
        }
    }
}

/// Runs the backend's upkeep ([`Connection::upkeep`]) on its own connection.
#[derive(Debug)]
pub struct StoreUpkeep {
    conn: Box<dyn Connection>,
    config: UpkeepConfig,
}

/// What one upkeep found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpkeepReport {
    /// The backend's warning for the operator, if the store needs attention.
    pub warning: Option<String>,
}

impl StoreUpkeep {
    /// Upkeep on its own connection.
    pub fn new(conn: Box<dyn Connection>, config: UpkeepConfig) -> Self {
        Self { conn, config }
    }
}

impl Service for StoreUpkeep {
    type Report = UpkeepReport;

    fn name(&self) -> &'static str {
        "store-upkeep"
    }

    fn interval(&self) -> Duration {
        self.config.interval
    }

    fn while_draining(&self) -> bool {
        true
    }

    fn run_once(&mut self) -> Result<UpkeepReport> {
        Ok(UpkeepReport {
            warning: self.conn.upkeep(),
        })
    }
}

impl ServiceReport for UpkeepReport {
    fn log(&self) {
        if let Some(warning) = &self.warning {
            tracing::warn!("{warning}");
        }
    }
}

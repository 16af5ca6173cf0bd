//! The rescuer: returns jobs whose lease expired (their node crashed or hung) to the queue.

use std::sync::Arc;
use std::time::Duration;

use crate::storage::Connection;

use super::Result;
use super::service::{Service, ServiceReport};
use super::store::{self, Rescued};
use crate::clock::Clock;

/// Settings of the [`Rescuer`].
#[derive(Debug, Clone)]
pub struct RescuerConfig {
    /// How often the node runs it. A dead node's jobs wait at most its lease plus this.
    pub interval: Duration,
}

impl RescuerConfig {
    /// Default interval: 1 s.
    pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);
}

impl Default for RescuerConfig {
    fn default() -> Self {
        Self {
            interval: Self::DEFAULT_INTERVAL,
        }
    }
}

/// Requeues running jobs whose lease expired, keeping the attempt counted; fails those that
/// were on their last attempt. A late outcome from the dead attempt is then refused by the
/// lease guard, so no job is completed twice.
#[derive(Debug)]
pub struct Rescuer {
    conn: Box<dyn Connection>,
    clock: Arc<dyn Clock>,
    config: RescuerConfig,
}

impl Rescuer {
    /// A rescuer on its own connection.
    pub fn new(conn: Box<dyn Connection>, clock: Arc<dyn Clock>, config: RescuerConfig) -> Self {
        Self {
            conn,
            clock,
            config,
        }
    }

    /// Its settings.
    pub fn config(&self) -> &RescuerConfig {
        &self.config
    }

    /// Rescue every job whose lease expired before now.
    ///
    /// # Errors
    ///
    /// [`super::Error::Storage`] on database failure.
    pub fn run_once(&mut self) -> Result<Rescued> {
        store::rescue_expired(self.conn.as_mut(), self.clock.now_ms())
    }
}

impl Service for Rescuer {
    type Report = Rescued;

    fn name(&self) -> &'static str {
        "rescuer"
    }

    fn interval(&self) -> Duration {
        self.config.interval
    }

    fn run_once(&mut self) -> Result<Rescued> {
        Rescuer::run_once(self)
    }

    fn explain(&self, error: &super::Error) -> String {
        self.conn.explain(error)
    }
}

impl ServiceReport for Rescued {
    fn made_runnable(&self) -> bool {
        !self.requeued.is_empty() || !self.failed.is_empty()
    }

    fn log(&self) {
        if self.made_runnable() {
            tracing::warn!(requeued = ?self.requeued, failed = ?self.failed, "rescued jobs whose node stopped");
        }
    }
}

//! The services that guard the jobs this node runs: the lease renewer keeps their claims, the
//! interrupter stops the ones cancelled, paused or lost meanwhile.

use std::sync::Arc;
use std::time::Duration;

use super::service::{Service, ServiceReport};
use super::{InFlight, Interruption, Result, store};
use crate::clock::{Clock, millis};
use crate::storage::Connection;

/// Settings of the [`LeaseRenewer`].
#[derive(Debug, Clone)]
pub struct RenewerConfig {
    /// The lease a renewal extends claims to ([`super::WorkerConfig::lease`]); renewed every
    /// third of it, so that two renewals may fail before a claim lapses.
    pub lease: Duration,
}

/// Extends the leases of every claim this node holds (running, committing, or claimed and
/// waiting for a worker) to a lease from now.
#[derive(Debug)]
pub struct LeaseRenewer {
    conn: Box<dyn Connection>,
    in_flight: Arc<InFlight>,
    owner: String,
    clock: Arc<dyn Clock>,
    config: RenewerConfig,
}

/// What one renewal did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenewReport {
    /// Claims this node held.
    pub held: usize,
    /// Leases extended (a claim lost meanwhile is not).
    pub renewed: usize,
}

impl LeaseRenewer {
    /// The renewer of `owner`'s claims in `in_flight`, on its own connection.
    pub fn new(
        conn: Box<dyn Connection>,
        in_flight: Arc<InFlight>,
        owner: impl Into<String>,
        clock: Arc<dyn Clock>,
        config: RenewerConfig,
    ) -> Self {
        Self {
            conn,
            in_flight,
            owner: owner.into(),
            clock,
            config,
        }
    }
}

impl Service for LeaseRenewer {
    type Report = RenewReport;

    fn name(&self) -> &'static str {
        "lease-renewer"
    }

    fn interval(&self) -> Duration {
        self.config.lease / 3
    }

    fn while_draining(&self) -> bool {
        true
    }

    fn run_once(&mut self) -> Result<RenewReport> {
        let held = self.in_flight.renewable();
        let until = self
            .clock
            .now_ms()
            .saturating_add(millis(self.config.lease));
        let renewed = store::renew_leases(&**self.conn, &held, &self.owner, until)?;
        Ok(RenewReport {
            held: held.len(),
            renewed,
        })
    }

    fn explain(&self, error: &super::Error) -> String {
        self.conn.explain(error)
    }
}

impl ServiceReport for RenewReport {
    fn log(&self) {
        if self.renewed < self.held {
            tracing::debug!(
                held = self.held,
                renewed = self.renewed,
                "some claims were not renewed: they were lost meanwhile"
            );
        }
    }
}

/// Settings of the [`Interrupter`].
#[derive(Debug, Clone)]
pub struct InterrupterConfig {
    /// How often it looks: the bound on cancel latency, plus one epoch tick.
    pub interval: Duration,
}

impl InterrupterConfig {
    /// Default interval: 50 ms.
    pub const DEFAULT_INTERVAL: Duration = Duration::from_millis(50);
}

impl Default for InterrupterConfig {
    fn default() -> Self {
        Self {
            interval: Self::DEFAULT_INTERVAL,
        }
    }
}

/// Interrupts the jobs running here that were cancelled or paused, or whose claim was lost
/// (rescued by another node): their sandboxes stop at the next epoch tick.
#[derive(Debug)]
pub struct Interrupter {
    conn: Box<dyn Connection>,
    in_flight: Arc<InFlight>,
    owner: String,
    config: InterrupterConfig,
}

/// What one look of the interrupter did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InterruptReport {
    /// Jobs running here.
    pub running: usize,
    /// Jobs interrupted.
    pub interrupted: usize,
}

impl Interrupter {
    /// The interrupter of `owner`'s jobs in `in_flight`, on its own connection.
    pub fn new(
        conn: Box<dyn Connection>,
        in_flight: Arc<InFlight>,
        owner: impl Into<String>,
        config: InterrupterConfig,
    ) -> Self {
        Self {
            conn,
            in_flight,
            owner: owner.into(),
            config,
        }
    }
}

impl Service for Interrupter {
    type Report = InterruptReport;

    fn name(&self) -> &'static str {
        "interrupter"
    }

    fn interval(&self) -> Duration {
        self.config.interval
    }

    fn while_draining(&self) -> bool {
        true
    }

    fn run_once(&mut self) -> Result<InterruptReport> {
        let held = self.in_flight.held();
        let mut report = InterruptReport {
            running: held.len(),
            interrupted: 0,
        };
        if held.is_empty() {
            return Ok(report);
        }
        for id in store::interrupted(&**self.conn, &held, &self.owner)? {
            tracing::info!(job = %id, "interrupting: the job was cancelled, paused or lost its lease");
            self.in_flight.interrupt(&id, Interruption::Cancelled);
            report.interrupted += 1;
        }
        Ok(report)
    }

    fn explain(&self, error: &super::Error) -> String {
        self.conn.explain(error)
    }
}

impl ServiceReport for InterruptReport {}

//! The maintainer: runs Pulse's services on their intervals until the node stops.
//!
//! A node's services run on three threads:
//! - `qntx-leases`: the [`Interrupter`], [`LeaseRenewer`] and [`NodeHeartbeat`], which guard the
//!   jobs running here. Nothing that may take long runs beside them: a prune batch, a
//!   checkpoint or a watcher reading its feed must not delay an interrupt (its latency is the
//!   interrupter's interval) or a renewal (a claim lapses a lease after the last one).
//! - `qntx-services`: the [`Rescuer`], [`BudgetResumer`], [`Scheduler`], [`Watchers`],
//!   [`Pruner`] and [`StoreUpkeep`], which each do a bounded batch of work per pass.
//! - `qntx-watch`: waits on the store for commits of other connections and wakes idle workers
//!   ([`super::watch`]); it blocks in that wait, so it has a thread of its own.
//!
//! At shutdown ([`Wakeup::stop`]) the services that drain ([`super::Service::while_draining`]:
//! renewal, heartbeat, interrupts, upkeep) keep running until the last job has finished; the
//! others stop.

mod lane;

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub use lane::{Lane, Pass};

use super::heartbeat::{HeartbeatConfig, NodeHeartbeat};
use super::leases::{Interrupter, InterrupterConfig, LeaseRenewer, RenewerConfig};
use super::triggers::{Scheduler, Watchers};
use super::upkeep::{StoreUpkeep, UpkeepConfig};
use super::{
    BudgetResumer, InFlight, Pruner, PrunerConfig, Registry, Rescuer, RescuerConfig, ResumerConfig,
    Wakeup, watch,
};
use crate::clock::{self, Clock};
use crate::storage::{self, Backend, Connection};

/// Settings of a node's services.
#[derive(Debug, Clone)]
pub struct MaintainerConfig {
    /// The node's id: the owner of its leases.
    pub owner: String,
    /// The node's lease ([`super::WorkerConfig::lease`]): leases and the heartbeat are renewed
    /// every third of it.
    pub lease: Duration,
    /// When running jobs are checked for cancellation.
    pub interrupter: InterrupterConfig,
    /// When jobs of dead nodes are rescued.
    pub rescuer: RescuerConfig,
    /// When budget-paused jobs are resumed.
    pub resumer: ResumerConfig,
    /// When finished jobs are deleted.
    pub pruner: PrunerConfig,
    /// When the store's upkeep runs.
    pub upkeep: UpkeepConfig,
    /// Where stored times come from (the workers' clock).
    pub clock: Arc<dyn Clock>,
}

impl MaintainerConfig {
    /// Default settings for node `owner` with `lease`, on the wall clock.
    pub fn new(owner: impl Into<String>, lease: Duration) -> Self {
        Self {
            owner: owner.into(),
            lease,
            interrupter: InterrupterConfig::default(),
            rescuer: RescuerConfig::default(),
            resumer: ResumerConfig::default(),
            pruner: PrunerConfig::default(),
            upkeep: UpkeepConfig::default(),
            clock: clock::system(),
        }
    }
}

/// Owns the services' lanes and threads.
#[derive(Debug)]
pub struct Maintainer {
    lanes: Vec<Lane>,
    watch: Option<Box<dyn Connection>>,
    in_flight: Arc<InFlight>,
    wakeup: Arc<Wakeup>,
    timer: Arc<dyn Clock>,
}

impl Maintainer {
    /// A maintainer with no lanes, stopped by `wakeup` (after `in_flight` is empty for lanes
    /// that drain), timing its services on the wall clock.
    pub fn new(in_flight: Arc<InFlight>, wakeup: Arc<Wakeup>) -> Self {
        Self {
            lanes: Vec::new(),
            watch: None,
            in_flight,
            wakeup,
            timer: clock::system(),
        }
    }

    /// The services of a node, each on a connection of its own from `backend`, in the lanes
    /// the module documentation lists.
    ///
    /// # Errors
    ///
    /// [`storage::Error`] when a connection cannot be opened.
    pub fn for_node(
        backend: &dyn Backend,
        registry: Arc<Registry>,
        in_flight: Arc<InFlight>,
        wakeup: Arc<Wakeup>,
        config: &MaintainerConfig,
    ) -> storage::Result<Self> {
        let (owner, clock) = (config.owner.as_str(), &config.clock);
        let leases = Lane::new("leases")
            .with(Interrupter::new(
                backend.connect()?,
                in_flight.clone(),
                owner,
                config.interrupter.clone(),
            ))
            .with(LeaseRenewer::new(
                backend.connect()?,
                in_flight.clone(),
                owner,
                clock.clone(),
                RenewerConfig {
                    lease: config.lease,
                },
            ))
            .with(NodeHeartbeat::new(
                backend.connect()?,
                owner,
                registry,
                clock.clone(),
                HeartbeatConfig {
                    lease: config.lease,
                },
            ));
        let services = Lane::new("services")
            .with(Rescuer::new(
                backend.connect()?,
                clock.clone(),
                config.rescuer.clone(),
            ))
            .with(BudgetResumer::new(
                backend.connect()?,
                clock.clone(),
                config.resumer.clone(),
            ))
            .with(Scheduler::new(backend.connect()?, clock.clone()))
            .with(Watchers::new(backend.connect()?, clock.clone()))
            .with(Pruner::new(
                backend.connect()?,
                clock.clone(),
                config.pruner.clone(),
            ))
            .with(StoreUpkeep::new(backend.connect()?, config.upkeep.clone()));
        Ok(Self::new(in_flight, wakeup)
            .with_lane(leases)
            .with_lane(services)
            .with_watch(backend.connect()?))
    }

    /// Add a lane, run on a thread of its own.
    #[must_use]
    pub fn with_lane(mut self, lane: Lane) -> Self {
        self.lanes.push(lane);
        self
    }

    /// Time the services on `timer` instead of the wall clock.
    #[must_use]
    pub fn with_timer(mut self, timer: Arc<dyn Clock>) -> Self {
        self.timer = timer;
        self
    }

    /// Wake idle workers when another connection commits, watching on `conn`.
    #[must_use]
    pub fn with_watch(mut self, conn: Box<dyn Connection>) -> Self {
        self.watch = Some(conn);
        self
    }

    /// One pass of every lane now, in the order they were added.
    pub fn run_once(&mut self) -> Vec<Pass> {
        let now = self.timer.now_ms();
        let draining = self.wakeup.is_stopping();
        let passes: Vec<Pass> = self
            .lanes
            .iter_mut()
            .map(|lane| lane.pass(now, draining))
            .collect();
        if passes.iter().any(|pass| pass.made_runnable) {
            self.wakeup.notify();
        }
        passes
    }

    /// Run one pass of every lane on this thread (what it rescues or resumes is runnable when
    /// this returns), then start a thread per lane and the watch.
    ///
    /// # Errors
    ///
    /// The error of a thread that could not be started.
    pub fn start(mut self) -> std::io::Result<Vec<JoinHandle<()>>> {
        self.run_once();
        let mut threads = Vec::new();
        if let Some(mut conn) = self.watch.take() {
            let wakeup = self.wakeup.clone();
            threads.push(
                std::thread::Builder::new()
                    .name("qntx-watch".into())
                    .spawn(move || {
                        if let Err(error) =
                            watch::watch(conn.as_mut(), &wakeup, watch::WATCH_INTERVAL)
                        {
                            tracing::error!(error = %crate::error_chain(&error), "watching the database failed; workers poll");
                        }
                    })?,
            );
        }
        for lane in self.lanes {
            let (timer, wakeup, in_flight) = (
                self.timer.clone(),
                self.wakeup.clone(),
                self.in_flight.clone(),
            );
            threads.push(
                std::thread::Builder::new()
                    .name(format!("qntx-{}", lane.name()))
                    .spawn(move || lane.run(&*timer, &wakeup, &in_flight))?,
            );
        }
        Ok(threads)
    }
}

#[cfg(test)]
mod tests;

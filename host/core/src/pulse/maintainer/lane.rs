//! A lane: services that share one thread, each run when its interval has passed.

use std::time::Duration;

use super::super::service::{Service, ServiceReport};
use crate::clock::{Clock, millis};
use crate::pulse::{InFlight, Wakeup};

/// Longest a lane sleeps between two looks at the shutdown signal.
const MAX_NAP: Duration = Duration::from_millis(50);

/// A [`Service`] with its report type erased, so that a lane holds services of every kind.
trait Driven: Send {
    fn name(&self) -> &'static str;
    fn interval(&self) -> Duration;
    fn while_draining(&self) -> bool;
    /// One pass: its report, or the failure in an operator's words.
    fn pass(&mut self) -> Result<Box<dyn ServiceReport>, String>;
}

impl<S: Service> Driven for S {
    fn name(&self) -> &'static str {
        Service::name(self)
    }

    fn interval(&self) -> Duration {
        Service::interval(self)
    }

    fn while_draining(&self) -> bool {
        Service::while_draining(self)
    }

    fn pass(&mut self) -> Result<Box<dyn ServiceReport>, String> {
        match Service::run_once(self) {
            Ok(report) => Ok(Box::new(report)),
            Err(error) => Err(self.explain(&error)),
        }
    }
}

/// A service in a lane and when it last ran (Unix ms of the lane's clock).
struct Slot {
    service: Box<dyn Driven>,
    last: Option<i64>,
}

impl Slot {
    /// Whether the service is due at `now`: it never ran, its interval has passed, or the
    /// clock went back (a wall clock set back must not stall lease renewal).
    fn due(&self, now: i64) -> bool {
        self.last
            .is_none_or(|last| now < last || now - last >= millis(self.service.interval()))
    }
}

/// What one [`Lane::pass`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pass {
    /// Services that ran and reported, in the lane's order.
    pub ran: Vec<&'static str>,
    /// Services whose pass failed (logged with their name; run again at their next interval).
    pub failed: Vec<&'static str>,
    /// Whether a pass made jobs runnable (the maintainer wakes idle workers).
    pub made_runnable: bool,
    /// When the next service of the lane is due, if any still runs.
    pub next_due: Option<i64>,
}

/// Services run one after the other on one thread, each on its own interval, in the order
/// they were added.
pub struct Lane {
    name: &'static str,
    slots: Vec<Slot>,
}

impl std::fmt::Debug for Lane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let services: Vec<_> = self.slots.iter().map(|s| s.service.name()).collect();
        f.debug_struct("Lane")
            .field("name", &self.name)
            .field("services", &services)
            .finish()
    }
}

impl Lane {
    /// An empty lane; its thread is named `qntx-<name>`.
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            slots: Vec::new(),
        }
    }

    /// The lane's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Add `service`, run after those added before it.
    #[must_use]
    pub fn with(mut self, service: impl Service + 'static) -> Self {
        self.slots.push(Slot {
            service: Box::new(service),
            last: None,
        });
        self
    }

    /// Whether a service of the lane keeps running while the node drains its last jobs.
    fn drains(&self) -> bool {
        self.slots.iter().any(|slot| slot.service.while_draining())
    }

    /// Run every service due at `now` (when `draining`, only those that run while the node
    /// drains), log each report, and each failure with the service's name.
    pub fn pass(&mut self, now: i64, draining: bool) -> Pass {
        let mut pass = Pass::default();
        for slot in &mut self.slots {
            if draining && !slot.service.while_draining() {
                continue;
            }
            if slot.due(now) {
                slot.last = Some(now);
                let name = slot.service.name();
                match slot.service.pass() {
                    Ok(report) => {
                        report.log();
                        pass.made_runnable |= report.made_runnable();
                        pass.ran.push(name);
                    }
                    Err(error) => {
                        tracing::warn!(service = name, %error, "maintenance failed");
                        pass.failed.push(name);
                    }
                }
            }
            let next = slot.last.map_or(now, |last| {
                last.saturating_add(millis(slot.service.interval()))
            });
            pass.next_due = Some(pass.next_due.map_or(next, |due: i64| due.min(next)));
        }
        pass
    }

    /// Run passes until `wakeup` says stop, and then, if a service of the lane runs while the
    /// node drains, until `in_flight` is empty; between passes, sleep until the next service
    /// is due (at most 50 ms, the latency of the stop).
    pub fn run(mut self, clock: &dyn Clock, wakeup: &Wakeup, in_flight: &InFlight) {
        let drains = self.drains();
        loop {
            let stopping = wakeup.is_stopping();
            if stopping && (!drains || in_flight.is_empty()) {
                break;
            }
            let now = clock.now_ms();
            let pass = self.pass(now, stopping);
            if pass.made_runnable {
                wakeup.notify();
            }
            let wait = pass.next_due.map_or(MAX_NAP, |due| {
                let left = due.saturating_sub(clock.now_ms());
                Duration::from_millis(u64::try_from(left).unwrap_or(0))
            });
            std::thread::sleep(wait.min(MAX_NAP));
        }
    }
}

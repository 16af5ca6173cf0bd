//! What every Pulse service is: a pass the [`super::maintainer`] runs every interval, whose
//! report says what it did.
//!
//! A service owns its connection and settings. Tests call [`Service::run_once`] (or the
//! service's inherent `run_once`, which is the same pass) and read the report; a node hands
//! its services to the maintainer, which runs each on its interval, logs each report and each
//! failure with the service's name, and wakes idle workers when a pass made jobs runnable.

use std::fmt;
use std::time::Duration;

use super::Result;

/// What one pass of a service did: counts, logged with structured fields.
pub trait ServiceReport: fmt::Debug + Send {
    /// Whether the pass made jobs runnable, so that idle workers look at once.
    fn made_runnable(&self) -> bool {
        false
    }

    /// Log what the pass did, with its counts as fields; nothing when it did nothing worth
    /// an operator's attention.
    fn log(&self) {}
}

/// A periodic piece of Pulse's housekeeping.
pub trait Service: Send {
    /// What the pass reports.
    type Report: ServiceReport + 'static;

    /// The service's name in logs: `rescuer`, `lease-renewer`, ...
    fn name(&self) -> &'static str;

    /// How often the maintainer runs it.
    fn interval(&self) -> Duration;

    /// Whether it keeps running after the node began to stop, until the last job finished
    /// (lease renewal and the interrupt poll must; rescuing and firing triggers must not).
    fn while_draining(&self) -> bool {
        false
    }

    /// One pass.
    ///
    /// # Errors
    ///
    /// [`super::Error`] when the store fails; the maintainer logs it and runs the service
    /// again at its next interval.
    fn run_once(&mut self) -> Result<Self::Report>;

    /// `error`, which [`Service::run_once`] returned, in words an operator can act on (the
    /// store it concerns and what the operating system said).
    fn explain(&self, error: &super::Error) -> String {
        crate::error_chain(error)
    }
}

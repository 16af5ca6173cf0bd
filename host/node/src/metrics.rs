//! The node's Prometheus metrics: the process-wide recorder every `metrics` call in Pulse and
//! the runtime reports to, and the text a front end serves at `/metrics`.
//!
//! Events are counted where they happen ([`crate::pulse::telemetry`],
//! [`crate::runtime::SANDBOX_TRAPS`]); the queued gauge is not an event, so [`Metrics::render`]
//! reads it from the store each time. No label holds a job id: labels are handler names
//! (bounded by registrations), outcomes and trap kinds.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let conn: Box<dyn qntx_core::storage::Connection> = unimplemented!();
//! let metrics = qntx_node::metrics::Metrics::install()?;
//! let text = metrics.render(conn.store())?;
//! # Ok(()) }
//! ```

use std::collections::BTreeSet;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use ::metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{BuildError, PrometheusBuilder, PrometheusHandle};

use crate::pulse::{self, store, telemetry};
use crate::runtime::SANDBOX_TRAPS;
use crate::storage::Store;

/// Histogram buckets of job durations and queue waits, in seconds: 1 ms to 4 h.
pub const BUCKETS: [f64; 20] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    300.0, 900.0, 1800.0, 3600.0, 14400.0,
];

/// How often histogram samples are folded into their buckets between renders.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Errors installing the recorder or rendering the metrics.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Another `metrics` recorder is installed in this process.
    #[error("installing the Prometheus metrics recorder")]
    Install(#[source] BuildError),
    /// The queued jobs could not be counted.
    #[error("counting queued jobs for the metrics")]
    Queued(#[source] pulse::Error),
}

/// The installed recorder: renders what Pulse and the runtime reported, in Prometheus text
/// format.
#[derive(Debug)]
pub struct Metrics {
    handle: PrometheusHandle,
    /// Handlers whose queued gauge was ever set: set to 0 when none of their jobs is queued.
    queued: Mutex<BTreeSet<String>>,
}

static INSTALLED: OnceLock<Metrics> = OnceLock::new();
static INSTALLING: Mutex<()> = Mutex::new(());

impl Metrics {
    /// Install the Prometheus recorder for this process, with the help texts of every metric,
    /// [`BUCKETS`] for its histograms, and a thread folding histogram samples every 5 s.
    /// Called again, returns the recorder already installed.
    ///
    /// # Errors
    ///
    /// [`Error::Install`] when another recorder was installed first.
    pub fn install() -> Result<&'static Self, Error> {
        let _installing = INSTALLING.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(installed) = INSTALLED.get() {
            return Ok(installed);
        }
        let recorder = PrometheusBuilder::new()
            .set_buckets(&BUCKETS)
            .map_err(Error::Install)?
            .build_recorder();
        let handle = recorder.handle();
        ::metrics::set_global_recorder(recorder)
            .map_err(|error| Error::Install(BuildError::from(error)))?;
        describe();
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new()
            .name("qntx-metrics-upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP_INTERVAL);
                    upkeep.run_upkeep();
                }
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, "no metrics upkeep thread: histogram samples are folded only when rendered");
        }
        Ok(INSTALLED.get_or_init(|| Self {
            handle,
            queued: Mutex::new(BTreeSet::new()),
        }))
    }

    /// Every metric in Prometheus text format, the queued gauge counted from `store` now.
    ///
    /// # Errors
    ///
    /// [`Error::Queued`] when the store fails.
    pub fn render(&self, store: &dyn Store) -> Result<String, Error> {
        let counts = store::queued_unserved(store, &[]).map_err(Error::Queued)?;
        let mut seen = self.queued.lock().unwrap_or_else(PoisonError::into_inner);
        for handler in seen.iter() {
            if !counts.iter().any(|(queued, _)| queued == handler) {
                ::metrics::gauge!(telemetry::JOBS_QUEUED, "handler" => handler.clone()).set(0.0);
            }
        }
        for (handler, count) in counts {
            // Exact for any count below 2^53.
            ::metrics::gauge!(telemetry::JOBS_QUEUED, "handler" => handler.clone())
                .set(count as f64);
            seen.insert(handler);
        }
        self.handle.run_upkeep();
        Ok(self.handle.render())
    }
}

/// The help text and unit of every metric.
fn describe() {
    describe_counter!(
        telemetry::JOBS_ENQUEUED,
        Unit::Count,
        "Jobs enqueued, by handler (CLI, API, batches, child jobs, schedules, watchers)."
    );
    describe_counter!(
        telemetry::JOBS_FINISHED,
        Unit::Count,
        "Job attempts this node ran that ended, by handler and outcome (completed, retried, \
         failed, released, cancelled, paused, discarded)."
    );
    describe_histogram!(
        telemetry::JOB_DURATION,
        Unit::Seconds,
        "How long job attempts ran, by handler."
    );
    describe_histogram!(
        telemetry::JOB_QUEUE_WAIT,
        Unit::Seconds,
        "From when a job could run (its run_at) to its claim, by handler."
    );
    describe_gauge!(
        telemetry::JOBS_QUEUED,
        Unit::Count,
        "Jobs queued now (retries waiting for their time included), by handler."
    );
    describe_counter!(
        SANDBOX_TRAPS,
        Unit::Count,
        "Job attempts whose guest trapped or hit a sandbox limit, by kind."
    );
    describe_gauge!(
        telemetry::BUDGET_SPEND,
        "Cost reported by job attempts, summed as they commit (only rises)."
    );
}

//! The watcher service: turns new attestations into jobs.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::store;
use crate::ats::feed::Feed;
use crate::clock::Clock;
use crate::pulse::Result;
use crate::pulse::service::{Service, ServiceReport};
use crate::storage::Connection;

/// Attestations read per watcher per [`Watchers::run_once`] at most.
const BATCH: u32 = 500;

/// Counts of what [`Watchers::run_once`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatcherReport {
    /// Attestations examined, over all watchers.
    pub examined: usize,
    /// Jobs enqueued.
    pub fired: usize,
    /// Watchers that reached their rate limit, leaving matches for a later run.
    pub deferred: usize,
}

/// A token bucket: `rate` tokens a second, holding at most one second's worth.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: i64,
}

/// Runs every watcher over the attestations written since its cursor; a node's
/// [`crate::pulse::Maintainer`] runs it every [`Watchers::INTERVAL`].
#[derive(Debug)]
pub struct Watchers {
    conn: Box<dyn Connection>,
    clock: Arc<dyn Clock>,
    buckets: HashMap<String, Bucket>,
}

impl Watchers {
    /// How often the node runs it: the delay between an attestation and the jobs it fires.
    pub const INTERVAL: Duration = Duration::from_millis(100);

    /// The watcher service on its own connection.
    pub fn new(conn: Box<dyn Connection>, clock: Arc<dyn Clock>) -> Self {
        Self {
            conn,
            clock,
            buckets: HashMap::new(),
        }
    }

    /// Examine new attestations for every watcher and enqueue the jobs they fire, within each
    /// watcher's rate. A watcher's cursor stops before the first match it may not fire yet.
    ///
    /// # Errors
    ///
    /// [`crate::pulse::Error`] when the database fails.
    pub fn run_once(&mut self) -> Result<WatcherReport> {
        let now = self.clock.now_ms();
        let conn = self.conn.as_mut();
        let mut report = WatcherReport::default();
        for watcher in store::list_watchers(conn.store())? {
            let rows = Feed::after(watcher.cursor_seq)
                .with_batch(BATCH)
                .poll_with_seq(conn.store())?;
            if rows.is_empty() {
                continue;
            }
            let bucket = self.buckets.entry(watcher.id.clone()).or_insert(Bucket {
                tokens: watcher.max_fires_per_second.max(1.0),
                at: now,
            });
            let capacity = watcher.max_fires_per_second.max(1.0);
            bucket.tokens = (bucket.tokens
                + (now - bucket.at).max(0) as f64 / 1000.0 * watcher.max_fires_per_second)
                .min(capacity);
            bucket.at = now;

            let mut fire = Vec::new();
            let mut cursor = watcher.cursor_seq;
            for (seq, attestation) in &rows {
                report.examined += 1;
                if watcher.fires_on(attestation) {
                    if bucket.tokens < 1.0 {
                        report.deferred += 1;
                        break;
                    }
                    bucket.tokens -= 1.0;
                    fire.push(attestation);
                }
                cursor = *seq;
            }
            if cursor == watcher.cursor_seq {
                continue;
            }
            if store::fire_watcher(conn, &watcher, &fire, cursor, now)? {
                report.fired += fire.len();
                if !fire.is_empty() {
                    tracing::info!(watcher = %watcher.id, jobs = fire.len(), "watcher fired");
                }
            }
        }
        Ok(report)
    }
}

impl Service for Watchers {
    type Report = WatcherReport;

    fn name(&self) -> &'static str {
        "watchers"
    }

    fn interval(&self) -> Duration {
        Self::INTERVAL
    }

    fn run_once(&mut self) -> Result<WatcherReport> {
        Watchers::run_once(self)
    }

    fn explain(&self, error: &crate::pulse::Error) -> String {
        self.conn.explain(error)
    }
}

impl ServiceReport for WatcherReport {
    fn made_runnable(&self) -> bool {
        self.fired > 0
    }
}

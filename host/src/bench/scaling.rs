//! Scaling: claim latency as the queue grows, and the node's memory per job in flight.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;

use super::dispatch::NOOP;
use super::stats::{Summary, resident_kib};
use crate::clock::now_ms;
use crate::node::{Node, NodeConfig};
use crate::pulse::{HandlerLimits, NewJob, store};
use crate::sqlite::SqliteBackend;
use crate::storage::{Backend, Connection};

/// Claim latency at one queue depth.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ClaimLatency {
    /// `sqlite` or `postgresql`.
    pub database: String,
    /// Queued jobs when the claims start.
    pub depth: usize,
    /// Finished jobs in the history beside them.
    pub finished: usize,
    /// Seconds to enqueue them (batches of 50,000).
    pub fill_seconds: f64,
    /// One claim of one job in its own transaction, microseconds.
    pub micros: Summary,
}

/// Jobs enqueued (or claimed) per transaction while filling.
const FILL_BATCH: usize = 50_000;

/// [`claims_on`] a fresh SQLite database, with no history.
///
/// # Errors
///
/// As [`claims_on`].
pub fn claims(depth: usize, claims: usize) -> anyhow::Result<ClaimLatency> {
    let dir = tempfile::tempdir().context("creating a scratch data directory")?;
    let backend = SqliteBackend::open_in(dir.path())?;
    claims_on("sqlite", &backend, depth, 0, claims)
}

/// Fill the empty store of `backend` with `finished` failed jobs and then `depth` queued ones,
/// then time `claims` claims of one job each.
///
/// # Errors
///
/// When the store fails or a claim finds no job.
pub fn claims_on(
    database: &str,
    backend: &dyn Backend,
    depth: usize,
    finished: usize,
    claims: usize,
) -> anyhow::Result<ClaimLatency> {
    let mut conn = backend.connect()?;
    let handlers = [NOOP.to_owned()];
    let limits = HandlerLimits::new();
    let claim = |conn: &mut dyn Connection, limit: usize, lease_until: i64, now: i64| {
        store::claim(
            conn,
            &store::ClaimParams {
                handlers: &handlers,
                owner: "bench",
                lease_until,
                limit: u32::try_from(limit).unwrap_or(u32::MAX),
                limits: &limits,
                room: None,
                now,
            },
        )
    };
    let filled = Instant::now();
    // History: jobs of one attempt, claimed under leases that have already expired, then
    // failed by the rescuer, as jobs of a node that died are.
    fill(conn.as_mut(), finished, 1)?;
    let mut left = finished;
    while left > 0 {
        let now = now_ms();
        left -= claim(conn.as_mut(), left.min(FILL_BATCH), now - 1, now)?
            .jobs
            .len();
    }
    store::rescue_expired(conn.as_mut(), now_ms())?;
    fill(conn.as_mut(), depth, 3)?;
    let fill_seconds = filled.elapsed().as_secs_f64();
    let mut samples = Vec::with_capacity(claims);
    for _ in 0..claims.min(depth) {
        let now = now_ms();
        let started = Instant::now();
        let claimed = claim(conn.as_mut(), 1, now + 60_000, now)?;
        samples.push(started.elapsed().as_secs_f64() * 1e6);
        if claimed.jobs.len() != 1 {
            bail!("a claim at depth {depth} found no job");
        }
    }
    Ok(ClaimLatency {
        database: database.to_owned(),
        depth,
        finished,
        fill_seconds,
        micros: Summary::of(samples),
    })
}

/// Enqueue `jobs` no-op jobs of `attempts` attempts, in batches.
fn fill(conn: &mut dyn Connection, jobs: usize, attempts: u32) -> anyhow::Result<()> {
    let now = now_ms();
    let mut left = jobs;
    while left > 0 {
        let chunk: Vec<NewJob> = (0..left.min(FILL_BATCH))
            .map(|_| NewJob {
                max_attempts: attempts,
                ..NewJob::new(NOOP, json!({}))
            })
            .collect();
        store::enqueue_batch(conn, &chunk, now)?;
        left -= chunk.len();
    }
    Ok(())
}

/// The node's resident memory idle and with jobs in flight.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Memory {
    /// Jobs in flight at once (one per worker, each sleeping in its own instance).
    pub in_flight: usize,
    /// Resident memory of the process with the node started and idle, KiB.
    pub idle_kib: u64,
    /// Resident memory with the jobs in flight, KiB.
    pub busy_kib: u64,
    /// (busy − idle) / in flight, KiB.
    pub per_job_kib: f64,
}

/// Start a node with `in_flight` workers, warm every worker with a no-op job, then run as many
/// sleeping jobs at once and read the process's resident memory.
pub fn memory(plugins: &Path, in_flight: usize) -> anyhow::Result<Memory> {
    let dir = tempfile::tempdir().context("creating a scratch data directory")?;
    let mut config = NodeConfig::new(dir.path().to_owned(), vec![plugins.to_owned()]);
    config.workers = in_flight;
    config.runtime.max_instances = (in_flight as u32 + 8).max(128);
    let node = Node::start(config)?;
    let mut conn = SqliteBackend::open_in(dir.path())?.connect()?;
    let warm: Vec<NewJob> = (0..in_flight * 4)
        .map(|_| NewJob::new(NOOP, json!({})))
        .collect();
    store::enqueue_batch(conn.as_mut(), &warm, now_ms())?;
    node.notify();
    node.wait_until_idle()?;
    let idle_kib = resident_kib().context("reading resident memory needs Linux /proc")?;
    let sleep_ms = 1500;
    let sleepers: Vec<NewJob> = (0..in_flight)
        .map(|_| NewJob::new("noop/sleep", json!({ "ms": sleep_ms })))
        .collect();
    let started = Instant::now();
    store::enqueue_batch(conn.as_mut(), &sleepers, now_ms())?;
    node.notify();
    // Wait until every sleeper runs, then read while they still sleep.
    loop {
        let activity = store::activity(&**conn, &["noop/sleep".to_owned()], now_ms())?;
        if activity.runnable == 0 && activity.running as usize == in_flight {
            break;
        }
        if started.elapsed() > Duration::from_secs(30) {
            bail!("the sleeping jobs did not all start");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(sleep_ms / 3));
    let busy_kib = resident_kib().context("reading resident memory")?;
    node.wait_until_idle()?;
    node.shutdown(Duration::from_secs(5));
    Ok(Memory {
        in_flight,
        idle_kib,
        busy_kib,
        per_job_kib: busy_kib.saturating_sub(idle_kib) as f64 / in_flight as f64,
    })
}

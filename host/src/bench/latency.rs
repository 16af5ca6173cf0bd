//! Latency at low load: one no-op job at a time, from enqueue to completed, on an idle node.
//! Either the enqueuer wakes the node's workers (it runs in the node's process), or it does not
//! (another process, such as `qntx job enqueue`) and the node must notice the job itself.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;

use super::dispatch::NOOP;
use super::stats::Summary;
use crate::clock::now_ms;
use crate::node::{Node, NodeConfig};
use crate::pulse::{JobStatus, NewJob, store};
use crate::sqlite::SqliteBackend;
use crate::storage::{Backend, Connection};

/// Enqueue → completed, in milliseconds.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Latency {
    /// How the node learnt of the job.
    pub wake: String,
    /// Per job, milliseconds.
    pub millis: Summary,
}

/// Time `jobs` jobs each way, one at a time with a pause between them.
pub fn measure(plugins: &Path, jobs: usize) -> anyhow::Result<Vec<Latency>> {
    let dir = tempfile::tempdir().context("creating a scratch data directory")?;
    let config = NodeConfig::new(dir.path().to_owned(), vec![plugins.to_owned()]);
    let node = Node::start(config)?;
    let mut conn = SqliteBackend::open_in(dir.path())?.connect()?;
    let mut rows = Vec::new();
    for (wake, notify) in [
        ("woken by the enqueuer (same process)", true),
        ("enqueued by another process", false),
    ] {
        let mut samples = Vec::with_capacity(jobs);
        for _ in 0..jobs {
            // Idle: the workers have gone back to waiting.
            std::thread::sleep(Duration::from_millis(5));
            let started = Instant::now();
            let id = store::enqueue(&**conn, &NewJob::new(NOOP, json!({})), now_ms())?.id;
            if notify {
                node.notify();
            }
            wait_completed(conn.as_mut(), &id)?;
            samples.push(started.elapsed().as_secs_f64() * 1e3);
        }
        rows.push(Latency {
            wake: wake.into(),
            millis: Summary::of(samples),
        });
    }
    node.shutdown(Duration::from_secs(5));
    Ok(rows)
}

/// Wait for the job to complete, looking at it only when the database changed.
fn wait_completed(conn: &mut dyn Connection, id: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut changed = true;
    loop {
        if changed {
            match store::get(&**conn, id)?.status {
                JobStatus::Completed => return Ok(()),
                JobStatus::Queued | JobStatus::Running => {}
                other => bail!("the no-op job ended {other}"),
            }
        }
        if Instant::now() > deadline {
            bail!("the no-op job did not complete within 30 s");
        }
        std::thread::sleep(Duration::from_micros(50));
        changed = conn.wait_for_change(Duration::ZERO)?;
    }
}

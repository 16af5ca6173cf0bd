//! Many nodes on one database: durable throughput of sandboxed no-op jobs run by several node
//! processes, and enqueue → completed latency when the job comes from another process.
//!
//! The caller says how to start a node process ([`Launch`]) and how to make a fresh store
//! ([`Database`]), so the same runs measure SQLite and PostgreSQL side by side.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;

use super::dispatch::NOOP;
use super::stats::Summary;
use crate::clock::now_ms;
use crate::pulse::{JobStatus, NewJob, nodes, store};
use crate::storage::{Backend, Connection};

/// How long the nodes may take to start serving, and a run to finish.
const PATIENCE: Duration = Duration::from_secs(300);

/// A kind of store and how to make a fresh one.
pub struct Database<'a> {
    /// `sqlite` or `postgresql`, for the tables.
    pub kind: &'static str,
    /// A fresh, empty store: its backend, and what node processes are told to open (a URL or a
    /// data directory's database path).
    pub fresh: &'a dyn Fn() -> anyhow::Result<(Arc<dyn Backend>, String)>,
}

/// The command that runs one node process on `database` with `workers` workers, serving the
/// plugins in `plugins`, until SIGTERM (or until its stdin closes, so that no node outlives a
/// benchmark that died).
pub type Launch<'a> = &'a dyn Fn(&str, &Path, usize) -> Command;

/// Jobs per second of a cluster.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ClusterThroughput {
    /// `sqlite` or `postgresql`.
    pub database: String,
    /// Node processes.
    pub nodes: usize,
    /// Workers of each node.
    pub workers: usize,
    /// Jobs run.
    pub jobs: usize,
    /// Enqueue → last completed, seconds.
    pub seconds: f64,
    /// Jobs per second, all nodes together.
    pub jobs_per_second: f64,
}

/// Enqueue → completed across processes.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ClusterLatency {
    /// `sqlite` or `postgresql`.
    pub database: String,
    /// Per job, milliseconds.
    pub millis: Summary,
}

/// Run `jobs` no-op jobs, enqueued in one batch, through `nodes` node processes of `workers`
/// workers each, on a fresh store.
///
/// # Errors
///
/// When a node does not start, or a job does not complete.
pub fn throughput(
    database: &Database<'_>,
    launch: Launch<'_>,
    plugins: &Path,
    nodes: usize,
    workers: usize,
    jobs: usize,
) -> anyhow::Result<ClusterThroughput> {
    let (backend, target) = (database.fresh)()?;
    let mut conn = backend.connect()?;
    let cluster = Cluster::start(conn.as_mut(), launch, &target, plugins, nodes, workers)?;
    let batch: Vec<NewJob> = (0..jobs).map(|_| NewJob::new(NOOP, json!({}))).collect();
    let started = Instant::now();
    store::enqueue_batch(conn.as_mut(), &batch, now_ms())?;
    wait_idle(conn.as_mut())?;
    let seconds = started.elapsed().as_secs_f64();
    drop(cluster);
    let completed = store::counts(&**conn)?.of_status(JobStatus::Completed) as usize;
    if completed != jobs {
        bail!("only {completed} of {jobs} no-op jobs completed");
    }
    Ok(ClusterThroughput {
        database: database.kind.into(),
        nodes,
        workers,
        jobs,
        seconds,
        jobs_per_second: jobs as f64 / seconds,
    })
}

/// Time `jobs` jobs one at a time, each enqueued here and run by a node process, from enqueue
/// to completed as this process sees it.
///
/// # Errors
///
/// When the node does not start, or a job does not complete.
pub fn latency(
    database: &Database<'_>,
    launch: Launch<'_>,
    plugins: &Path,
    jobs: usize,
) -> anyhow::Result<ClusterLatency> {
    let (backend, target) = (database.fresh)()?;
    let mut conn = backend.connect()?;
    let cluster = Cluster::start(conn.as_mut(), launch, &target, plugins, 1, 2)?;
    let mut samples = Vec::with_capacity(jobs);
    for _ in 0..jobs {
        // Idle: the workers have gone back to waiting.
        std::thread::sleep(Duration::from_millis(5));
        let started = Instant::now();
        let id = store::enqueue(&**conn, &NewJob::new(NOOP, json!({})), now_ms())?.id;
        wait_completed(conn.as_mut(), &id)?;
        samples.push(started.elapsed().as_secs_f64() * 1e3);
    }
    drop(cluster);
    Ok(ClusterLatency {
        database: database.kind.into(),
        millis: Summary::of(samples),
    })
}

/// Node processes, stopped when dropped: SIGTERM, then SIGKILL if they linger.
struct Cluster {
    nodes: Vec<Child>,
}

impl Cluster {
    /// Start `nodes` processes and wait until each serves the no-op handler.
    fn start(
        conn: &mut dyn Connection,
        launch: Launch<'_>,
        target: &str,
        plugins: &Path,
        nodes: usize,
        workers: usize,
    ) -> anyhow::Result<Self> {
        let mut cluster = Self { nodes: Vec::new() };
        for _ in 0..nodes {
            let child = launch(target, plugins, workers)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .context("starting a node process")?;
            cluster.nodes.push(child);
        }
        let deadline = Instant::now() + PATIENCE;
        while nodes::serving(&**conn, NOOP, now_ms())?.len() < nodes {
            for node in &mut cluster.nodes {
                if let Some(status) = node.try_wait()? {
                    bail!("a node process exited before serving: {status}");
                }
            }
            if Instant::now() > deadline {
                bail!("the node processes did not all serve {NOOP} within {PATIENCE:?}");
            }
            conn.wait_for_change(Duration::from_millis(20))?;
        }
        Ok(cluster)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            let _ = Command::new("kill")
                .args(["-TERM", &node.id().to_string()])
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for node in &mut self.nodes {
            while node.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = node.kill();
            let _ = node.wait();
        }
    }
}

/// Wait until no job of the no-op handler is runnable or running.
fn wait_idle(conn: &mut dyn Connection) -> anyhow::Result<()> {
    let deadline = Instant::now() + PATIENCE;
    let handlers = [NOOP.to_owned()];
    loop {
        let activity = store::activity(&**conn, &handlers, now_ms())?;
        if activity.runnable == 0 && activity.running == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the jobs did not finish within {PATIENCE:?}: {activity:?}");
        }
        conn.wait_for_change(Duration::from_millis(20))?;
    }
}

/// Wait for the job to complete, looking at it only when the store changed.
fn wait_completed(conn: &mut dyn Connection, id: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match store::get(&**conn, id)?.status {
            JobStatus::Completed => return Ok(()),
            JobStatus::Queued | JobStatus::Running => {}
            other => bail!("the no-op job ended {other}"),
        }
        if Instant::now() > deadline {
            bail!("the no-op job did not complete within 30 s");
        }
        conn.wait_for_change(Duration::from_millis(100))?;
    }
}

//! Durable throughput: no-op jobs enqueued in one batch, run by a node's workers, each in a
//! fresh sandbox, each outcome committed; the same number of fresh sandboxes run in a bare
//! loop on as many threads, with no queue, so that the queue's cost shows as a ratio; and the
//! queue alone, its workers running a native no-op handler instead of a sandbox.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::json;

use super::dispatch::{Bench, NOOP};
use crate::clock::now_ms;
use crate::node::{Node, NodeConfig};
use crate::pulse::{
    AttemptIo, Execution, JobHandler, JobStatus, NewJob, Progress, Registered, Registry,
    RunningJob, Worker, WorkerConfig, store,
};
use crate::sqlite::SqliteBackend;
use crate::storage::{Backend, Pool};

/// Jobs per second one way, with some number of workers (or threads).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Throughput {
    /// Worker threads.
    pub workers: usize,
    /// Jobs run.
    pub jobs: usize,
    /// Enqueue → last completed (queue) or first → last sandbox (bare), seconds.
    pub seconds: f64,
    /// Jobs per second.
    pub jobs_per_second: f64,
}

/// Run `jobs` no-op jobs through a node with `workers` workers, on a fresh database.
pub fn queue(plugins: &Path, jobs: usize, workers: usize) -> anyhow::Result<Throughput> {
    let dir = tempfile::tempdir().context("creating a scratch data directory")?;
    let mut config = NodeConfig::new(dir.path().to_owned(), vec![plugins.to_owned()]);
    config.workers = workers;
    let node = Node::start(config)?;
    let mut conn = SqliteBackend::open_in(dir.path())?.connect()?;
    let batch: Vec<NewJob> = (0..jobs).map(|_| NewJob::new(NOOP, json!({}))).collect();
    let started = Instant::now();
    store::enqueue_batch(conn.as_mut(), &batch, now_ms())?;
    node.notify();
    node.wait_until_idle()?;
    let seconds = started.elapsed().as_secs_f64();
    node.shutdown(std::time::Duration::from_secs(5));
    let completed = store::counts(&**conn)?.of_status(JobStatus::Completed) as usize;
    if completed != jobs {
        bail!("only {completed} of {jobs} no-op jobs completed");
    }
    Ok(Throughput {
        workers,
        jobs,
        seconds,
        jobs_per_second: jobs as f64 / seconds,
    })
}

/// Run `jobs` fresh sandboxes of the no-op handler on `threads` threads, with no queue.
pub fn bare(wasm: &Path, jobs: usize, threads: usize) -> anyhow::Result<Throughput> {
    let bench = Bench::load(wasm)?;
    let handler = bench
        .registry
        .get(NOOP)
        .context("noop/noop is registered")?;
    let running: Vec<_> = (0..threads)
        .map(|_| bench.running_job())
        .collect::<anyhow::Result<_>>()?;
    let per_thread = jobs.div_ceil(threads);
    let started = Instant::now();
    let failures: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = running
            .iter()
            .map(|running| {
                let handler = &handler;
                scope.spawn(move || {
                    (0..per_thread)
                        .filter(|_| handler.target.execute(running).outcome.is_err())
                        .count()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(1)).sum()
    });
    let seconds = started.elapsed().as_secs_f64();
    if failures > 0 {
        bail!("{failures} no-op sandbox runs failed");
    }
    let ran = per_thread * threads;
    Ok(Throughput {
        workers: threads,
        jobs: ran,
        seconds,
        jobs_per_second: ran as f64 / seconds,
    })
}

/// Run `jobs` no-op jobs through `workers` Pulse workers, each on its own connection, as a
/// node's are, whose handler is a native function: what the queue costs without a sandbox.
pub fn queue_native(jobs: usize, workers: usize) -> anyhow::Result<Throughput> {
    let dir = tempfile::tempdir().context("creating a scratch data directory")?;
    let backend = Arc::new(SqliteBackend::open_in(dir.path())?);
    let mut conn = backend.connect()?;
    let registry = Arc::new(Registry::new());
    registry.register(Registered {
        handler: NOOP.into(),
        plugin: "native".into(),
        version: "0".into(),
        description: "Returns null, natively".into(),
        target: Arc::new(NativeNoop),
    });
    let attempts = AttemptIo::pooled(&Pool::new(backend.clone(), workers * 2));
    let (in_flight, wakeup) = (Arc::default(), Arc::default());
    let batch: Vec<NewJob> = (0..jobs).map(|_| NewJob::new(NOOP, json!({}))).collect();
    let started = Instant::now();
    store::enqueue_batch(conn.as_mut(), &batch, now_ms())?;
    let conns = (0..workers)
        .map(|_| backend.connect())
        .collect::<Result<Vec<_>, _>>()?;
    let completed = std::thread::scope(|scope| {
        let handles: Vec<_> = conns
            .into_iter()
            .map(|conn| {
                let worker = Worker::new(
                    conn,
                    attempts.clone(),
                    registry.clone(),
                    Arc::clone(&in_flight),
                    Arc::clone(&wakeup),
                    WorkerConfig::new("bench"),
                );
                scope.spawn(move || -> anyhow::Result<usize> {
                    let mut completed = 0;
                    loop {
                        let report = worker.run_once()?;
                        if report.claimed == 0 {
                            return Ok(completed);
                        }
                        completed += report.completed;
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap_or_else(|_| bail!("a worker panicked")))
            .sum::<anyhow::Result<usize>>()
    })?;
    let seconds = started.elapsed().as_secs_f64();
    if completed != jobs {
        bail!("only {completed} of {jobs} no-op jobs completed");
    }
    Ok(Throughput {
        workers,
        jobs,
        seconds,
        jobs_per_second: jobs as f64 / seconds,
    })
}

/// The handler of [`queue_native`]: returns `null` at once.
struct NativeNoop;

impl JobHandler for NativeNoop {
    fn execute(&self, _job: &RunningJob) -> Execution {
        Execution {
            outcome: Ok(serde_json::Value::Null),
            progress: Progress::default(),
            cost: 0.0,
            plugin_version: "0".into(),
            attestations: Vec::new(),
            children: Vec::new(),
            logs: Vec::new(),
        }
    }
}

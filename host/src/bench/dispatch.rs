//! Dispatch: what it costs to run one no-op job, without a queue. A fresh sandbox per job (the
//! runtime's path), against the floor of calling an instance that already exists, and a native
//! Rust function call. The gRPC round trip of the original architecture is measured by
//! `qntx-bench`, which passes it in as a [`Baseline`].

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use serde_json::json;
use wasmtime::UpdateDeadline;

use super::stats::{Summary, time_calls};
use crate::clock::now_ms;
use crate::plugins::{self, LoadedPlugin};
use crate::pulse::{AttemptIo, HandlerLimits, Interrupt, NewJob, Registry, RunningJob, store};
use crate::runtime::{JobCtx, Runtime, RuntimeConfig, types};
use crate::sqlite::SqliteBackend;
use crate::storage::Pool;

/// The handler every throughput and dispatch figure runs.
pub const NOOP: &str = "noop/noop";
/// The handler that writes `payload.kib` KiB of heap: a guest whose memory must be recycled.
const TOUCH: &str = "noop/touch";
/// What the `touch` row of the dispatch table writes: more than a no-op guest's few pages,
/// within the memory the pooling allocator keeps resident.
pub const TOUCH_KIB: u64 = 512;

/// One way of running a no-op job, timed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Dispatch {
    /// Which way.
    pub way: Way,
    /// What was called.
    pub what: String,
    /// Per call, in microseconds.
    pub micros: Summary,
}

/// The ways of running a job that the dispatch benchmark compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Way {
    /// A fresh sandbox per job: the runtime's path.
    Fresh,
    /// A call into an instance that already exists: the floor.
    Reused,
    /// A native Rust function call.
    Native,
    /// The caller's baseline: the original architecture's gRPC round trip.
    Baseline,
    /// A fresh sandbox whose guest writes [`TOUCH_KIB`] KiB of heap.
    FreshTouching,
}

/// Another way to run a no-op job, measured by the caller: returns per-call times in µs.
pub type Baseline<'a> = &'a mut dyn FnMut(usize) -> anyhow::Result<Summary>;

/// A runtime with the noop plugin loaded and registered, and a claimed job to run through it.
pub(crate) struct Bench {
    pub(crate) runtime: Arc<Runtime>,
    pub(crate) plugin: LoadedPlugin,
    pub(crate) registry: Registry,
    /// Where the jobs to run are claimed, and what they read and write while they run.
    store: Arc<SqliteBackend>,
    attempts: Pool,
}

impl Bench {
    /// Load the plugin at `wasm` into a runtime with the node's default settings.
    pub(crate) fn load(wasm: &Path) -> anyhow::Result<Self> {
        let runtime = Arc::new(Runtime::new(RuntimeConfig::default())?);
        let store = Arc::new(SqliteBackend::temporary()?);
        let attempts = Pool::new(store.clone(), 1);
        let plugin = plugins::load(&runtime, wasm, &attempts)
            .map_err(|e| anyhow::anyhow!("{}", crate::error_chain(&e)))?;
        let registry = Registry::new();
        plugin.register(&runtime, &registry);
        Ok(Self {
            runtime,
            plugin,
            registry,
            store,
            attempts,
        })
    }

    /// A running attempt of a no-op job, claimed in a database of its own.
    pub(crate) fn running_job(&self) -> anyhow::Result<RunningJob> {
        self.running(NOOP, json!({}))
    }

    /// A running attempt of a job for `handler`, claimed in the bench's database.
    fn running(&self, handler: &str, payload: serde_json::Value) -> anyhow::Result<RunningJob> {
        let mut conn = self.store.connection()?;
        let now = now_ms();
        store::enqueue(&conn, &NewJob::new(handler, payload), now)?;
        let job = store::claim(
            &mut conn,
            &store::ClaimParams {
                handlers: &[handler.to_owned()],
                owner: "bench",
                lease_until: now + 3_600_000,
                limit: 1,
                limits: &HandlerLimits::new(),
                room: None,
                now,
            },
        )?
        .jobs
        .pop()
        .context("the job just enqueued is claimed")?;
        Ok(RunningJob {
            job,
            lease_owner: "bench".into(),
            deadline_ms: now + 3_600_000,
            timeout: std::time::Duration::from_secs(3600),
            interrupt: Arc::new(Interrupt::default()),
            io: AttemptIo::pooled(&self.attempts),
            tree: crate::pulse::TreeLimits::default(),
        })
    }
}

/// Time `calls` no-op jobs each way, then `calls` jobs of a guest that writes [`TOUCH_KIB`].
pub fn measure(
    wasm: &Path,
    calls: usize,
    baseline: Option<(&str, Baseline<'_>)>,
) -> anyhow::Result<Vec<Dispatch>> {
    let bench = Bench::load(wasm)?;
    let running = bench.running_job()?;
    let mut rows = vec![Dispatch {
        way: Way::Fresh,
        what: "fresh sandbox per job (runtime path)".into(),
        micros: fresh_sandboxes(&bench, &running, calls)?,
    }];
    rows.push(Dispatch {
        way: Way::Reused,
        what: "call into a reused instance (floor)".into(),
        micros: reused_instance(&bench, &running, calls)?,
    });

    let payload = running.job.payload.to_string();
    rows.push(Dispatch {
        way: Way::Native,
        what: "native Rust function call".into(),
        micros: time_calls(calls.div_ceil(100).max(10), 10_000, || {
            black_box(native_noop(black_box(&payload)));
        }),
    });

    if let Some((what, baseline)) = baseline {
        rows.push(Dispatch {
            way: Way::Baseline,
            what: what.to_owned(),
            micros: baseline(calls)?,
        });
    }
    rows.push(Dispatch {
        way: Way::FreshTouching,
        what: format!("fresh sandbox, guest writes {TOUCH_KIB} KiB of heap"),
        micros: fresh_sandboxes(
            &bench,
            &bench.running(TOUCH, json!({ "kib": TOUCH_KIB }))?,
            calls,
        )?,
    });
    Ok(rows)
}

/// Run `running` `calls` times through the runtime's path, each in a fresh sandbox.
fn fresh_sandboxes(bench: &Bench, running: &RunningJob, calls: usize) -> anyhow::Result<Summary> {
    let handler = bench
        .registry
        .get(&running.job.handler)
        .with_context(|| format!("{} is registered", running.job.handler))?;
    let mut failed = None;
    let summary = time_calls(calls, 1, || {
        if let Err(failure) = handler.target.execute(running).outcome {
            failed = Some(failure);
        }
    });
    match failed {
        Some(failure) => anyhow::bail!("the job failed: {}", failure.message),
        None => Ok(summary),
    }
}

/// The native equivalent of the guest's `noop`: take the job, return `null`.
#[inline(never)]
fn native_noop(payload: &str) -> Option<String> {
    black_box(payload);
    None
}

/// Instantiate once, then call `execute-job` on the same instance `calls` times.
fn reused_instance(bench: &Bench, running: &RunningJob, calls: usize) -> anyhow::Result<Summary> {
    let runtime = &bench.runtime;
    let limits = &bench.plugin.policy.limits;
    let ctx = JobCtx::for_job(
        crate::runtime::Identity::plugin(&bench.plugin.name, &bench.plugin.version),
        limits.clone(),
        &bench.plugin.policy.grants,
        running,
    )
    .map_err(anyhow::Error::msg)?;
    let mut store = wasmtime::Store::new(runtime.engine(), ctx);
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Continue(1)));
    let plugin = crate::runtime::block_on(bench.plugin.pre().instantiate_async(&mut store))
        .map_err(anyhow::Error::msg)??;
    let job = &running.job;
    let wit_job = types::Job {
        id: job.id.clone(),
        handler: "noop".into(),
        payload: job.payload.to_string(),
        attempt: job.attempt,
        max_attempts: job.max_attempts,
        deadline_ms: u64::try_from(running.deadline_ms).unwrap_or_default(),
        parent_id: None,
        source: job.source.clone(),
    };
    let mut failed = None;
    let summary = time_calls(
        calls.div_ceil(100).max(10),
        100,
        || match crate::runtime::block_on(plugin.call_execute_job(&mut store, &wit_job)) {
            Ok(Ok(Ok(_))) => {}
            Ok(Ok(Err(error))) => failed = Some(format!("{error:?}")),
            Ok(Err(error)) => failed = Some(format!("{error:#}")),
            Err(error) => failed = Some(error),
        },
    );
    if let Some(error) = failed {
        anyhow::bail!("calling the reused instance failed: {error}");
    }
    Ok(summary)
}

//! `qntx bench pulse`: end-to-end throughput of no-op jobs (enqueue in one batch, claim, fresh
//! sandbox, complete) with each worker count, and claim latency at several queue depths. A
//! measurement, not a test: it prints a table and writes the figures as JSON.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Serialize;
use serde_json::json;

use super::{Global, Outcome};
use crate::bench;
use crate::clock::now_ms;
use crate::node::{Node, NodeConfig};
use crate::pulse::store;
use crate::pulse::{JobStatus, NewJob};
use crate::sqlite;

/// Measure Pulse; each measurement runs on a fresh database in a temporary directory
#[derive(Debug, clap::Args)]
pub(super) struct BenchPulseArgs {
    /// No-op jobs per throughput run
    #[arg(long, default_value_t = 2000, value_name = "N")]
    jobs: usize,

    /// Worker counts to measure, comma-separated
    #[arg(
        long,
        default_value = "1,2",
        value_delimiter = ',',
        value_name = "N,..."
    )]
    workers: Vec<usize>,

    /// Queue depths at which to time claims, comma-separated
    #[arg(
        long,
        default_value = "1000,1000000",
        value_delimiter = ',',
        value_name = "N,..."
    )]
    depths: Vec<usize>,

    /// Claims timed at each depth
    #[arg(long, default_value_t = 200, value_name = "N")]
    claims: usize,

    /// The no-op handler the jobs go to; a plugin in the plugin directories must announce it
    #[arg(long, default_value = "text/echo", value_name = "HANDLER")]
    handler: String,

    /// Where to write the figures as JSON
    #[arg(long, default_value = "qntx-bench-pulse.json", value_name = "PATH")]
    out: PathBuf,
}

#[derive(Debug, Serialize)]
struct Throughput {
    workers: usize,
    jobs: usize,
    enqueue_ms: f64,
    run_seconds: f64,
    jobs_per_second: f64,
}

pub(super) fn run(global: &Global, args: BenchPulseArgs) -> anyhow::Result<Outcome> {
    let plugin_dirs = global.plugin_dirs()?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "throughput: {} no-op jobs of '{}', enqueued in one transaction",
        args.jobs, args.handler
    )?;
    writeln!(
        out,
        "{:>7} {:>12} {:>10} {:>10}",
        "workers", "enqueue ms", "run s", "jobs/s"
    )?;
    let mut throughput = Vec::new();
    for &workers in &args.workers {
        let row = measure_throughput(&plugin_dirs, &args.handler, args.jobs, workers)?;
        writeln!(
            out,
            "{:>7} {:>12.1} {:>10.3} {:>10.0}",
            row.workers, row.enqueue_ms, row.run_seconds, row.jobs_per_second
        )?;
        throughput.push(row);
    }
    writeln!(
        out,
        "\nclaim latency: one job per claim, in its own transaction"
    )?;
    writeln!(
        out,
        "{:>9} {:>7} {:>8} {:>9} {:>9} {:>9}",
        "depth", "claims", "fill s", "p50 µs", "p99 µs", "max µs"
    )?;
    let mut latency = Vec::new();
    for &depth in &args.depths {
        let row = bench::claim_latency(depth, args.claims)?;
        writeln!(
            out,
            "{:>9} {:>7} {:>8.1} {:>9.0} {:>9.0} {:>9.0}",
            row.depth,
            row.micros.samples,
            row.fill_seconds,
            row.micros.p50,
            row.micros.p99,
            row.micros.max
        )?;
        latency.push(json!({
            "depth": row.depth,
            "claims": row.micros.samples,
            "fill_seconds": row.fill_seconds,
            "p50_us": row.micros.p50,
            "p99_us": row.micros.p99,
            "max_us": row.micros.max,
        }));
    }
    let figures =
        json!({ "handler": args.handler, "throughput": throughput, "claim_latency": latency });
    std::fs::write(&args.out, serde_json::to_string_pretty(&figures)?)
        .with_context(|| format!("writing '{}'", args.out.display()))?;
    eprintln!("qntx: figures written to '{}'", args.out.display());
    Ok(Outcome::Ok)
}

fn measure_throughput(
    plugin_dirs: &[PathBuf],
    handler: &str,
    jobs: usize,
    workers: usize,
) -> anyhow::Result<Throughput> {
    let dir = tempfile::tempdir().context("creating a scratch data directory")?;
    let mut config = NodeConfig::new(dir.path().to_owned(), plugin_dirs.to_vec());
    config.workers = workers.max(1);
    let node = Node::start(config).context("starting the node")?;
    if node.registry().get(handler).is_none() {
        bail!(
            "no plugin in the plugin directories announces '{handler}'; \
             hint: qntx plugin build plugins/text"
        );
    }
    let mut conn = sqlite::SqliteBackend::open_in(dir.path())?.connection()?;
    let batch: Vec<NewJob> = (0..jobs)
        .map(|i| NewJob::new(handler, json!({ "i": i })))
        .collect();
    let started = Instant::now();
    store::enqueue_batch(&mut conn, &batch, now_ms())?;
    let enqueued = started.elapsed();
    node.notify();
    node.wait_until_idle()?;
    let ran = started.elapsed();
    let completed = store::counts(&conn)?.of_status(JobStatus::Completed) as usize;
    node.shutdown(Duration::from_secs(5));
    if completed != jobs {
        bail!("only {completed} of {jobs} jobs completed; see qntx job list in the scratch run");
    }
    Ok(Throughput {
        workers,
        jobs,
        enqueue_ms: enqueued.as_secs_f64() * 1000.0,
        run_seconds: ran.as_secs_f64(),
        jobs_per_second: jobs as f64 / ran.as_secs_f64(),
    })
}

//! The benchmark suite (issue 8): dispatch, durable throughput, latency, cold start and scaling,
//! measured side by side in one run. `cargo bench -p qntx-bench` runs it on an optimised build
//! and adds the gRPC round trip of the original architecture; the end-to-end tests run it once
//! with tiny [`Sizes`] so that it cannot rot. Like `cli/`, this is an edge of the crate: it
//! reports errors with `anyhow`.

mod cluster;
mod dispatch;
mod guests;
mod latency;
mod scaling;
mod startup;
mod stats;
mod throughput;

use std::fmt::Write as _;
use std::path::PathBuf;

pub use cluster::{ClusterLatency, ClusterThroughput, Database, Launch};
pub use dispatch::{Baseline, Dispatch, NOOP, TOUCH_KIB, Way};
pub use guests::{Guests, build as build_guests};
pub use latency::Latency;
pub use scaling::{ClaimLatency, Memory, claims as claim_latency, claims_on};
pub use startup::ColdStart;
pub use stats::{Summary, resident_kib, time_calls};
pub use throughput::Throughput;

/// How much to measure. A size of zero (or no worker counts, no depths) skips that benchmark.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Sizes {
    /// Calls timed per dispatch row.
    pub dispatch_calls: usize,
    /// No-op jobs per throughput run.
    pub jobs: usize,
    /// Worker counts for throughput.
    pub workers: Vec<usize>,
    /// Jobs timed for latency, each way.
    pub latency_jobs: usize,
    /// Plugins loaded for cold start.
    pub plugins: usize,
    /// Queue depths at which claims are timed.
    pub depths: Vec<usize>,
    /// Claims timed at each depth.
    pub claims: usize,
    /// Jobs in flight for the memory figure.
    pub in_flight: usize,
    /// Finished jobs in the history of the last claim-latency row (at the smallest depth).
    pub history: usize,
    /// Node process counts for the cluster runs.
    pub nodes: Vec<usize>,
    /// No-op jobs per cluster run.
    pub cluster_jobs: usize,
    /// Jobs timed for latency across processes.
    pub cluster_latency_jobs: usize,
}

impl Sizes {
    /// The sizes the issue asks for.
    pub fn full() -> Self {
        Self {
            dispatch_calls: 20_000,
            jobs: 20_000,
            workers: vec![1, 2],
            latency_jobs: 200,
            plugins: 10,
            depths: vec![1_000, 100_000, 1_000_000],
            claims: 500,
            in_flight: 32,
            history: 1_000_000,
            nodes: vec![1, 2, 4],
            cluster_jobs: 20_000,
            cluster_latency_jobs: 200,
        }
    }

    /// Keep only the benchmarks named in `names` (`dispatch`, `throughput`, `latency`,
    /// `cold-start`, `claims`, `memory`, `cluster`).
    ///
    /// # Errors
    ///
    /// A name that is not one of those.
    pub fn only(mut self, names: &[&str]) -> anyhow::Result<Self> {
        const NAMES: [&str; 7] = [
            "dispatch",
            "throughput",
            "latency",
            "cold-start",
            "claims",
            "memory",
            "cluster",
        ];
        if let Some(unknown) = names.iter().find(|name| !NAMES.contains(name)) {
            anyhow::bail!(
                "no benchmark named '{unknown}'; the benchmarks are {}",
                NAMES.join(", ")
            );
        }
        let keep = |name: &str| names.contains(&name);
        if !keep("dispatch") {
            self.dispatch_calls = 0;
        }
        if !keep("throughput") {
            self.workers.clear();
        }
        if !keep("latency") {
            self.latency_jobs = 0;
        }
        if !keep("cold-start") {
            self.plugins = 0;
        }
        if !keep("claims") {
            self.depths.clear();
        }
        if !keep("memory") {
            self.in_flight = 0;
        }
        if !keep("cluster") {
            self.nodes.clear();
            self.cluster_latency_jobs = 0;
        }
        Ok(self)
    }

    /// Each benchmark once, as small as it goes: for the smoke test.
    pub fn tiny() -> Self {
        Self {
            dispatch_calls: 20,
            jobs: 20,
            workers: vec![1, 2],
            latency_jobs: 3,
            plugins: 2,
            depths: vec![10, 100],
            claims: 5,
            in_flight: 2,
            history: 10,
            nodes: vec![1, 2],
            cluster_jobs: 20,
            cluster_latency_jobs: 3,
        }
    }
}

/// Where the guests are and what to measure.
#[derive(Debug, Clone)]
pub struct Options {
    /// The repository root (guest sources).
    pub root: PathBuf,
    /// Where guests are built (kept between runs).
    pub target_dir: PathBuf,
    /// How much.
    pub sizes: Sizes,
}

/// Every figure of one run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// The machine and build.
    pub machine: Machine,
    /// The sizes measured.
    pub sizes: Sizes,
    /// One no-op job, each way.
    pub dispatch: Vec<Dispatch>,
    /// Through the queue, by worker count.
    pub queue: Vec<Throughput>,
    /// Bare fresh sandboxes, by thread count.
    pub bare: Vec<Throughput>,
    /// Through the queue with a native no-op handler (no sandbox), by worker count.
    pub queue_native: Vec<Throughput>,
    /// Enqueue → completed on an idle node.
    pub latency: Vec<Latency>,
    /// Node ready time.
    pub cold_start: Vec<ColdStart>,
    /// Claim latency by queue depth.
    pub claims: Vec<ClaimLatency>,
    /// Memory per in-flight job.
    pub memory: Option<Memory>,
    /// Node processes on one database, by database and node count.
    pub cluster: Vec<ClusterThroughput>,
    /// Enqueue → completed across processes, by database.
    pub cluster_latency: Vec<ClusterLatency>,
}

/// The databases the claim and cluster benchmarks measure, and how to start a node process.
pub struct Cluster<'a> {
    /// The command that runs one node process.
    pub launch: Launch<'a>,
    /// Each kind of store, side by side (SQLite first).
    pub databases: Vec<Database<'a>>,
}

/// Where the figures come from.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Machine {
    /// Hardware threads available.
    pub cpus: usize,
    /// CPU model, from `/proc/cpuinfo` when there is one.
    pub cpu: String,
    /// `release` or `debug` (of the qntx crate).
    pub profile: String,
}

impl Machine {
    fn here() -> Self {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find_map(|l| l.strip_prefix("model name"))
                    .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
            })
            .unwrap_or_else(|| std::env::consts::ARCH.into());
        Self {
            cpus: std::thread::available_parallelism().map_or(1, usize::from),
            cpu,
            profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
            .into(),
        }
    }
}

/// Build the guests and run every benchmark. `baseline` adds a dispatch row measured by the
/// caller (the gRPC round trip); `cluster` the runs of node processes on each database (and
/// claims on each); without it, claims are measured on SQLite alone.
///
/// # Errors
///
/// When a guest does not build or a benchmark fails (a job that does not complete, say).
pub fn run(
    options: &Options,
    baseline: Option<(&str, Baseline<'_>)>,
    cluster: Option<&Cluster<'_>>,
    progress: &mut dyn FnMut(&str),
) -> anyhow::Result<Report> {
    let sizes = &options.sizes;
    progress("building guests");
    let guests = guests::build(&options.root, &options.target_dir, sizes.plugins)?;
    let scratch = tempfile::tempdir()?;
    let plugins = guests::plugin_dir(scratch.path(), std::slice::from_ref(&guests.noop))?;
    let mut dispatch = Vec::new();
    if sizes.dispatch_calls > 0 {
        progress("dispatch");
        dispatch = dispatch::measure(&guests.noop, sizes.dispatch_calls, baseline)?;
    }
    let mut queue = Vec::new();
    let mut bare = Vec::new();
    let mut queue_native = Vec::new();
    for &workers in &sizes.workers {
        progress(&format!("throughput, {workers} worker(s)"));
        queue.push(throughput::queue(&plugins, sizes.jobs, workers)?);
        bare.push(throughput::bare(&guests.noop, sizes.jobs, workers)?);
        queue_native.push(throughput::queue_native(sizes.jobs, workers)?);
    }
    let mut latency = Vec::new();
    if sizes.latency_jobs > 0 {
        progress("latency");
        latency = latency::measure(&plugins, sizes.latency_jobs)?;
    }
    let mut cold_start = Vec::new();
    if sizes.plugins > 0 {
        progress("cold start");
        cold_start = startup::measure(&guests.copies)?;
    }
    let claims = match cluster {
        Some(cluster) => claims_on_each(cluster, sizes, progress)?,
        None => sizes
            .depths
            .iter()
            .map(|&depth| {
                progress(&format!("claims at depth {depth}"));
                scaling::claims(depth, sizes.claims)
            })
            .collect::<anyhow::Result<_>>()?,
    };
    let (mut nodes, mut cluster_latency) = (Vec::new(), Vec::new());
    if let Some(cluster) = cluster {
        for database in &cluster.databases {
            for &count in &sizes.nodes {
                progress(&format!("{} with {count} node process(es)", database.kind));
                nodes.push(cluster::throughput(
                    database,
                    cluster.launch,
                    &plugins,
                    count,
                    2,
                    sizes.cluster_jobs,
                )?);
            }
            if sizes.cluster_latency_jobs > 0 {
                progress(&format!("{}: latency across processes", database.kind));
                cluster_latency.push(cluster::latency(
                    database,
                    cluster.launch,
                    &plugins,
                    sizes.cluster_latency_jobs,
                )?);
            }
        }
    }
    let mut memory = None;
    if sizes.in_flight > 0 {
        progress("memory");
        memory = Some(scaling::memory(&plugins, sizes.in_flight)?);
    }
    Ok(Report {
        machine: Machine::here(),
        sizes: sizes.clone(),
        dispatch,
        queue,
        bare,
        queue_native,
        latency,
        cold_start,
        claims,
        memory,
        cluster: nodes,
        cluster_latency,
    })
}

/// Claim latency at each depth on each database, and at the smallest depth with
/// `sizes.history` finished jobs beside the queue.
fn claims_on_each(
    cluster: &Cluster<'_>,
    sizes: &Sizes,
    progress: &mut dyn FnMut(&str),
) -> anyhow::Result<Vec<ClaimLatency>> {
    let mut rows = Vec::new();
    for database in &cluster.databases {
        let mut runs: Vec<(usize, usize)> = sizes.depths.iter().map(|&d| (d, 0)).collect();
        if let Some(&smallest) = sizes.depths.iter().min()
            && sizes.history > 0
        {
            runs.push((smallest, sizes.history));
        }
        for (depth, finished) in runs {
            progress(&format!(
                "{}: claims at depth {depth}, {finished} finished",
                database.kind
            ));
            let (backend, _) = (database.fresh)()?;
            rows.push(scaling::claims_on(
                database.kind,
                backend.as_ref(),
                depth,
                finished,
                sizes.claims,
            )?);
        }
    }
    Ok(rows)
}

impl Report {
    /// The figures as text tables, with the ratios the targets are stated in.
    pub fn table(&self) -> String {
        let mut t = String::new();
        let m = &self.machine;
        let _ = writeln!(t, "machine: {} × {} ({} build)", m.cpus, m.cpu, m.profile);
        if !self.dispatch.is_empty() {
            self.dispatch_table(&mut t);
        }
        if !self.queue.is_empty() {
            self.throughput_table(&mut t);
        }
        if !self.latency.is_empty() {
            self.latency_table(&mut t);
        }
        if !self.cold_start.is_empty() {
            self.cold_start_table(&mut t);
        }
        if !self.claims.is_empty() {
            self.claims_table(&mut t);
        }
        if !self.cluster.is_empty() || !self.cluster_latency.is_empty() {
            self.cluster_table(&mut t);
        }
        if let Some(mem) = &self.memory {
            let _ = writeln!(
                t,
                "\n   memory: {} KiB idle, {} KiB with {} jobs in flight: {:.0} KiB per in-flight job",
                mem.idle_kib, mem.busy_kib, mem.in_flight, mem.per_job_kib
            );
        }
        t
    }

    fn dispatch_table(&self, t: &mut String) {
        let _ = writeln!(
            t,
            "\n1. dispatch of one no-op job ({} calls)",
            self.sizes.dispatch_calls
        );
        let _ = writeln!(t, "{:<46} {:>10} {:>10}", "", "p50 µs", "p99 µs");
        let print = |t: &mut String, row: &Dispatch| {
            let _ = writeln!(
                t,
                "{:<46} {:>10.2} {:>10.2}",
                row.what, row.micros.p50, row.micros.p99
            );
        };
        let (touching, rows): (Vec<_>, Vec<_>) = self
            .dispatch
            .iter()
            .partition(|row| row.way == Way::FreshTouching);
        for row in rows {
            print(t, row);
        }
        let row = |way| self.dispatch.iter().find(|row| row.way == way);
        if let (Some(fresh), Some(grpc)) = (row(Way::Fresh), row(Way::Baseline)) {
            let _ = writeln!(
                t,
                "{:<46} {:>10.1}×",
                "gRPC round trip / fresh sandbox",
                grpc.micros.p50 / fresh.micros.p50
            );
        }
        for row in touching {
            print(t, row);
        }
    }

    fn throughput_table(&self, t: &mut String) {
        let _ = writeln!(
            t,
            "\n2. durable throughput ({} no-op jobs, one batch)",
            self.sizes.jobs
        );
        let _ = writeln!(
            t,
            "{:>7} {:>12} {:>12} {:>14} {:>20}",
            "workers", "queue job/s", "bare job/s", "queue / bare", "queue alone job/s"
        );
        for ((queue, bare), native) in self.queue.iter().zip(&self.bare).zip(&self.queue_native) {
            let _ = writeln!(
                t,
                "{:>7} {:>12.0} {:>12.0} {:>14.2} {:>20.0}",
                queue.workers,
                queue.jobs_per_second,
                bare.jobs_per_second,
                queue.jobs_per_second / bare.jobs_per_second,
                native.jobs_per_second
            );
        }
        let _ = writeln!(
            t,
            "(queue alone: the same workers running a native no-op handler, no sandbox)"
        );
    }

    fn latency_table(&self, t: &mut String) {
        let _ = writeln!(t, "\n3. latency, enqueue → completed, idle node");
        let _ = writeln!(
            t,
            "{:<40} {:>8} {:>8} {:>8}",
            "", "p50 ms", "p99 ms", "jobs"
        );
        for row in &self.latency {
            let _ = writeln!(
                t,
                "{:<40} {:>8.2} {:>8.2} {:>8}",
                row.wake, row.millis.p50, row.millis.p99, row.millis.samples
            );
        }
    }

    fn cold_start_table(&self, t: &mut String) {
        let _ = writeln!(t, "\n4. cold start: node ready");
        let _ = writeln!(
            t,
            "{:<8} {:>8} {:>9} {:>7} {:>9}",
            "start", "plugins", "compiled", "cached", "ready ms"
        );
        for row in &self.cold_start {
            let _ = writeln!(
                t,
                "{:<8} {:>8} {:>9} {:>7} {:>9.1}",
                row.start, row.plugins, row.compiled, row.cached, row.ready_ms
            );
        }
    }

    fn claims_table(&self, t: &mut String) {
        let _ = writeln!(t, "\n5. scaling: claim of one job by queue depth");
        let _ = writeln!(
            t,
            "{:<11} {:>9} {:>9} {:>8} {:>9} {:>9}",
            "database", "depth", "finished", "fill s", "p50 µs", "p99 µs"
        );
        for row in &self.claims {
            let _ = writeln!(
                t,
                "{:<11} {:>9} {:>9} {:>8.1} {:>9.1} {:>9.1}",
                row.database,
                row.depth,
                row.finished,
                row.fill_seconds,
                row.micros.p50,
                row.micros.p99
            );
        }
        let mut databases: Vec<&str> = self.claims.iter().map(|r| r.database.as_str()).collect();
        databases.dedup();
        for database in databases {
            let p50s = self
                .claims
                .iter()
                .filter(|r| r.database == database)
                .map(|r| r.micros.p50);
            let (low, high) = p50s.fold((f64::MAX, 0.0_f64), |(lo, hi), p| (lo.min(p), hi.max(p)));
            let _ = writeln!(
                t,
                "{database:<11} slowest / fastest p50: {:.2}×",
                high / low
            );
        }
    }

    fn cluster_table(&self, t: &mut String) {
        let _ = writeln!(
            t,
            "\n6. many nodes on one database ({} no-op jobs, one batch, 2 workers per node)",
            self.sizes.cluster_jobs
        );
        let _ = writeln!(
            t,
            "{:<11} {:>6} {:>10} {:>10}",
            "database", "nodes", "job/s", "vs 1 node"
        );
        for row in &self.cluster {
            let one = self
                .cluster
                .iter()
                .find(|r| r.database == row.database && r.nodes == 1)
                .map_or(f64::NAN, |r| row.jobs_per_second / r.jobs_per_second);
            let _ = writeln!(
                t,
                "{:<11} {:>6} {:>10.0} {:>9.2}×",
                row.database, row.nodes, row.jobs_per_second, one
            );
        }
        for row in &self.cluster_latency {
            let _ = writeln!(
                t,
                "{:<11} enqueued by another process → completed: p50 {:.2} ms, p99 {:.2} ms ({} jobs)",
                row.database, row.millis.p50, row.millis.p99, row.millis.samples
            );
        }
    }
}

//! `qntx bench ats`: attestation write throughput and query latency on this machine.
//!
//! A subcommand rather than a `cargo bench` target: it runs in the binary the tests already
//! build (the dev profile, with every dependency, SQLite included, optimised), so measuring
//! does not cost a release build of wasmtime, and a smoke test can run it with tiny sizes.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::json;

use super::Outcome;
use crate::ats::{Limits, NewAttestation, Query, store};
use crate::clock::now_ms;
use crate::sqlite::{self, SqliteBackend};
use crate::storage::{self, Store};

#[derive(Debug, clap::Args)]
pub(super) struct AtsArgs {
    /// Attestations in the store
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    count: u64,
    /// How many of them are written one transaction each
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    single: u64,
    /// Attestations per transaction for the rest
    #[arg(long, default_value_t = 1_000, value_name = "N")]
    batch: u64,
    /// Runs of each query shape
    #[arg(long, default_value_t = 1_000, value_name = "N")]
    queries: usize,
    /// Directory for the scratch database [default: a new one in the system's temp dir,
    /// removed afterwards]
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Give claims random times within the past year instead of times that grow with
    /// insertion (a store that grew over a year, each claim up to an hour late): the worst case
    /// for the time-ordered indexes
    #[arg(long)]
    shuffled_times: bool,
    /// Print the results as one JSON object
    #[arg(long)]
    json: bool,
}

/// Throughput of one way of writing.
#[derive(Debug, Serialize)]
struct Writes {
    count: u64,
    per_second: f64,
    micros_each: f64,
    /// CPU time of the writing thread per attestation: wall time without waiting for a core.
    cpu_micros_each: f64,
}

/// Latency of one query shape, in wall-clock and in CPU time of the querying thread. On a
/// shared machine the wall-clock figures include waiting for a core; the CPU figures do not.
#[derive(Debug, Serialize)]
struct Latency {
    shape: &'static str,
    runs: usize,
    mean_rows: f64,
    median_us: f64,
    p99_us: f64,
    cpu_median_us: f64,
    cpu_p99_us: f64,
}

pub(super) fn run(args: AtsArgs) -> anyhow::Result<Outcome> {
    let scratch = match &args.dir {
        Some(dir) => Scratch::keep(dir.clone()),
        None => Scratch::temporary()?,
    };
    let opening = || format!("opening a scratch database in '{}'", scratch.path.display());
    let backend = SqliteBackend::open_in(&scratch.path).with_context(opening)?;
    let mut conn = backend.connection().with_context(opening)?;
    let mut data = Data::new(args.count, args.shuffled_times);
    let started = Instant::now();

    let load = load_average();
    let single = args.single.min(args.count);
    let timer = Timer::start();
    for _ in 0..single {
        let tx = storage::Connection::transaction(&mut conn)?;
        data.write(tx.store())?;
        tx.commit()?;
    }
    let single = writes(single, timer);

    let batched = args.count - single.count;
    let timer = Timer::start();
    let mut left = batched;
    while left > 0 {
        let tx = storage::Connection::transaction(&mut conn)?;
        for _ in 0..args.batch.max(1).min(left) {
            data.write(tx.store())?;
            left -= 1;
        }
        tx.commit()?;
    }
    let batched = writes(batched, timer);
    conn.optimize()?;

    let shapes = data.shapes();
    let mut latencies = Vec::new();
    for (shape, make) in &shapes {
        latencies.push(measure(&conn, shape, args.queries, || make(&mut data.rng))?);
    }
    let db_bytes = std::fs::metadata(scratch.path.join(sqlite::FILE_NAME))
        .map(|m| m.len())
        .unwrap_or_default();

    let mut out = std::io::stdout().lock();
    if args.json {
        let report = json!({
            "count": args.count,
            "batch": args.batch,
            "writes": { "single": single, "batched": batched },
            "queries": latencies,
            "db_bytes": db_bytes,
            "seconds": started.elapsed().as_secs_f64(),
            "sqlite": sqlite::version(),
            "load_average": load,
        });
        writeln!(out, "{report}")?;
    } else {
        writeln!(
            out,
            "{} attestations, SQLite {}, database {:.0} MiB, {:.0} s in all, \
             load average {} at the start",
            args.count,
            sqlite::version(),
            db_bytes as f64 / f64::from(1 << 20),
            started.elapsed().as_secs_f64(),
            load.as_deref().unwrap_or("unknown"),
        )?;
        let batch = format!("batched ({} per transaction)", args.batch);
        table(&mut out, &single, &batch, &batched, &latencies)?;
    }
    Ok(Outcome::Ok)
}

fn table(
    out: &mut impl Write,
    single: &Writes,
    batch: &str,
    batched: &Writes,
    latencies: &[Latency],
) -> anyhow::Result<()> {
    writeln!(
        out,
        "\n{:<30} {:>9} {:>11} {:>9} {:>9}",
        "writes", "count", "per second", "µs each", "cpu µs"
    )?;
    for (name, w) in [("single (1 per transaction)", single), (batch, batched)] {
        writeln!(
            out,
            "{name:<30} {:>9} {:>11.0} {:>9.1} {:>9.1}",
            w.count, w.per_second, w.micros_each, w.cpu_micros_each
        )?;
    }
    writeln!(
        out,
        "\n{:<30} {:>6} {:>6} {:>10} {:>10} {:>10} {:>10}",
        "query", "runs", "rows", "median µs", "p99 µs", "cpu median", "cpu p99"
    )?;
    for l in latencies {
        writeln!(
            out,
            "{:<30} {:>6} {:>6.1} {:>10.1} {:>10.1} {:>10.1} {:>10.1}",
            l.shape, l.runs, l.mean_rows, l.median_us, l.p99_us, l.cpu_median_us, l.cpu_p99_us
        )?;
    }
    Ok(())
}

fn writes(count: u64, timer: Timer) -> Writes {
    let (wall, cpu) = timer.stop();
    let seconds = wall.as_secs_f64().max(1e-9);
    let each = |d: Duration| {
        if count == 0 {
            0.0
        } else {
            d.as_secs_f64() * 1e6 / count as f64
        }
    };
    Writes {
        count,
        per_second: count as f64 / seconds,
        micros_each: each(wall),
        cpu_micros_each: each(cpu),
    }
}

/// Wall-clock and thread CPU time since it started.
struct Timer {
    wall: Instant,
    cpu: Duration,
}

impl Timer {
    fn start() -> Self {
        Self {
            cpu: thread_cpu(),
            wall: Instant::now(),
        }
    }

    fn stop(self) -> (Duration, Duration) {
        let wall = self.wall.elapsed();
        (wall, thread_cpu().saturating_sub(self.cpu))
    }
}

/// CPU time the calling thread has used.
#[cfg(unix)]
fn thread_cpu() -> Duration {
    let time = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(time.tv_sec).unwrap_or_default(),
        u32::try_from(time.tv_nsec).unwrap_or_default(),
    )
}

/// CPU time the calling thread has used (not measured on this platform).
#[cfg(not(unix))]
fn thread_cpu() -> Duration {
    Duration::ZERO
}

/// The 1, 5 and 15 minute load averages, where the system tells them.
fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(
        text.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    )
}

fn measure(
    conn: &dyn Store,
    shape: &'static str,
    runs: usize,
    mut make: impl FnMut() -> Query,
) -> anyhow::Result<Latency> {
    // Warm the caches the way a running node has them warm.
    for _ in 0..runs.min(20) {
        store::query(conn, &make())?;
    }
    let mut walls = Vec::with_capacity(runs);
    let mut cpus = Vec::with_capacity(runs);
    let mut rows = 0;
    for _ in 0..runs {
        let query = make();
        let timer = Timer::start();
        let page = store::query(conn, &query)?;
        let (wall, cpu) = timer.stop();
        walls.push(wall.as_secs_f64() * 1e6);
        cpus.push(cpu.as_secs_f64() * 1e6);
        rows += page.attestations.len();
    }
    Ok(Latency {
        shape,
        runs,
        mean_rows: rows as f64 / runs.max(1) as f64,
        median_us: percentile(&mut walls, 0.5),
        p99_us: percentile(&mut walls, 0.99),
        cpu_median_us: percentile(&mut cpus, 0.5),
        cpu_p99_us: percentile(&mut cpus, 0.99),
    })
}

/// The `q` quantile (nearest rank) of `values`.
fn percentile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values
        .get(((values.len() as f64 * q).ceil() as usize).saturating_sub(1))
        .copied()
        .unwrap_or_default()
}

const PREDICATES: u64 = 50;
const CONTEXTS: u64 = 200;
const ACTORS: u64 = 1_000;
const LANGUAGES: [&str; 8] = ["Rust", "Go", "Python", "C", "Java", "OCaml", "Zig", "Lisp"];
const YEAR_MS: i64 = 365 * 86_400_000;
const HOUR_MS: i64 = 3_600_000;

type Shape = (&'static str, Box<dyn Fn(&mut SmallRng) -> Query>);

/// The synthetic claims, from a fixed seed.
struct Data {
    rng: SmallRng,
    subjects: u64,
    count: u64,
    shuffled_times: bool,
    now: i64,
    written: u64,
}

impl Data {
    fn new(count: u64, shuffled_times: bool) -> Self {
        Self {
            rng: SmallRng::seed_from_u64(7),
            subjects: (count / 10).max(1),
            count: count.max(1),
            shuffled_times,
            now: now_ms(),
            written: 0,
        }
    }

    fn write(&mut self, conn: &dyn Store) -> anyhow::Result<()> {
        let rng = &mut self.rng;
        let timestamp = if self.shuffled_times {
            self.now - rng.random_range(0..YEAR_MS)
        } else {
            let step = YEAR_MS / i64::try_from(self.count).unwrap_or(i64::MAX);
            let grown = step.saturating_mul(i64::try_from(self.written).unwrap_or(i64::MAX));
            self.now - YEAR_MS + grown - rng.random_range(0..HOUR_MS)
        };
        let mut attestation = NewAttestation {
            subjects: vec![format!("S{}", rng.random_range(0..self.subjects))],
            predicates: vec![format!("p{}", rng.random_range(0..PREDICATES))],
            contexts: vec![format!("c{}", rng.random_range(0..CONTEXTS))],
            actors: vec![format!("actor{}", rng.random_range(0..ACTORS))],
            timestamp: Some(timestamp),
            source: format!("bench-{}", rng.random_range(0..5)),
            attributes: json!({
                "language": LANGUAGES[rng.random_range(0..LANGUAGES.len())],
                "n": self.written,
            }),
        }
        .validate(&Limits::default(), self.now)?;
        store::insert(conn, &mut attestation)?;
        self.written += 1;
        Ok(())
    }

    fn shapes(&self) -> Vec<Shape> {
        let subjects = self.subjects;
        let now = self.now;
        let p = |rng: &mut SmallRng| format!("p{}", rng.random_range(0..PREDICATES));
        let c = |rng: &mut SmallRng| format!("c{}", rng.random_range(0..CONTEXTS));
        vec![
            (
                "one subject",
                Box::new(move |rng: &mut SmallRng| Query {
                    subjects: vec![format!("S{}", rng.random_range(0..subjects))],
                    ..Query::default()
                }),
            ),
            (
                "predicate + context",
                Box::new(move |rng: &mut SmallRng| Query {
                    predicates: vec![p(rng)],
                    contexts: vec![c(rng)],
                    ..Query::default()
                }),
            ),
            (
                "one predicate",
                Box::new(move |rng: &mut SmallRng| Query {
                    predicates: vec![p(rng)],
                    ..Query::default()
                }),
            ),
            (
                "2 predicates + 2 contexts",
                Box::new(move |rng: &mut SmallRng| Query {
                    predicates: vec![p(rng), p(rng)],
                    contexts: vec![c(rng), c(rng)],
                    ..Query::default()
                }),
            ),
            (
                "subject + predicate",
                Box::new(move |rng: &mut SmallRng| Query {
                    subjects: vec![format!("S{}", rng.random_range(0..subjects))],
                    predicates: vec![p(rng)],
                    ..Query::default()
                }),
            ),
            (
                "actor, last 30 days",
                Box::new(move |rng: &mut SmallRng| Query {
                    actors: vec![format!("actor{}", rng.random_range(0..ACTORS))],
                    since: Some(now - 30 * 86_400_000),
                    ..Query::default()
                }),
            ),
            (
                "predicate + attribute",
                Box::new(move |rng: &mut SmallRng| Query {
                    predicates: vec![p(rng)],
                    attributes: vec![(
                        "language".into(),
                        json!(LANGUAGES[rng.random_range(0..LANGUAGES.len())]),
                    )],
                    ..Query::default()
                }),
            ),
            (
                "newest 100, no filter",
                Box::new(|_: &mut SmallRng| Query::default()),
            ),
        ]
    }
}

/// The scratch database's directory; a temporary one is removed on drop.
struct Scratch {
    path: PathBuf,
    remove: bool,
}

impl Scratch {
    fn keep(path: PathBuf) -> Self {
        Self {
            path,
            remove: false,
        }
    }

    fn temporary() -> anyhow::Result<Self> {
        let path =
            std::env::temp_dir().join(format!("qntx-bench-{}-{}", std::process::id(), now_ms()));
        std::fs::create_dir_all(&path).with_context(|| format!("creating '{}'", path.display()))?;
        Ok(Self { path, remove: true })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.remove {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

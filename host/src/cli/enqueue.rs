//! `qntx job enqueue`: one job from flags, or many from JSON lines in one transaction.

use std::collections::BTreeSet;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::Value;

use super::{Global, Outcome, output};
use crate::clock::now_ms;
use crate::handlers::{self, EnqueueError};
use crate::plugins;
use crate::pulse::request::{self, JobRequest};
use crate::pulse::{DEFAULT_MAX_ATTEMPTS, NewJob, bounds, store};
use crate::storage::{Connection, Store};

#[derive(Debug, clap::Args)]
pub(super) struct EnqueueArgs {
    /// Full handler name: <plugin>/<handler>, or handler/<name> for a user handler (with
    /// --batch, the handler of lines that name none)
    #[arg(value_name = "HANDLER", required_unless_present = "batch")]
    handler: Option<String>,

    /// The job's input, as JSON; `-` reads it from stdin
    #[arg(
        long,
        default_value = "{}",
        value_name = "JSON",
        conflicts_with = "payload_file"
    )]
    payload: String,

    /// Read the job's input (JSON, at most 16 MiB) from this file
    #[arg(long, value_name = "FILE")]
    payload_file: Option<PathBuf>,

    /// Enqueue one job per line of FILE (`-`: stdin) in one transaction, all or none, and print
    /// their ids in order. A line is a JSON object with any of: handler, payload, priority,
    /// max_attempts, timeout ("10s"), delay ("1m"), run_at (RFC 3339), source, unique,
    /// cost_estimate; what a line leaves out comes from the flags. Blank lines are skipped
    #[arg(long, value_name = "FILE", conflicts_with_all = ["wait", "payload_file"])]
    batch: Option<PathBuf>,

    /// Higher runs first (-1000 to 1000)
    #[arg(
        long,
        default_value_t = 0,
        allow_negative_numbers = true,
        value_name = "N",
        help_heading = "Scheduling"
    )]
    priority: i32,

    /// Attempts before the job fails for good (1 to 1000)
    #[arg(long, default_value_t = DEFAULT_MAX_ATTEMPTS, value_name = "N", help_heading = "Scheduling")]
    max_attempts: u32,

    /// Wall-clock limit of each attempt, at most 7d [default: the node's]
    #[arg(long, value_name = "DURATION", value_parser = output::parse_duration, help_heading = "Scheduling")]
    timeout: Option<Duration>,

    /// Run no earlier than this long from now
    #[arg(long, value_name = "DURATION", value_parser = output::parse_duration, help_heading = "Scheduling", conflicts_with = "run_at")]
    delay: Option<Duration>,

    /// Run no earlier than this time (RFC 3339, e.g. 2030-01-01T09:00:00Z; at most 9999-12-31)
    #[arg(long, value_name = "TIME", value_parser = parse_time, help_heading = "Scheduling")]
    run_at: Option<i64>,

    /// Where the job comes from; with the handler, the key of --unique
    #[arg(long, default_value = "cli", value_name = "TEXT")]
    source: String,

    /// Enqueue nothing if an active job has the same handler and source; print its id
    #[arg(long)]
    unique: bool,

    /// Expected cost, checked against budgets
    #[arg(
        long,
        default_value_t = 0.0,
        value_name = "AMOUNT",
        allow_negative_numbers = true
    )]
    cost_estimate: f64,

    /// Enqueue even if no known plugin announces the handler
    #[arg(long)]
    allow_unregistered: bool,

    /// Wait for the job to finish, showing its progress, and print its result (a node must be
    /// running); exits 1 unless it completed
    #[arg(long)]
    wait: bool,
}

pub(super) fn run(
    global: &Global,
    conn: &mut dyn Connection,
    args: EnqueueArgs,
    out: &mut impl Write,
) -> anyhow::Result<Outcome> {
    let now = now_ms();
    if let Some(batch) = &args.batch {
        return enqueue_batch(global, conn, &args, batch, now, out);
    }
    let payload = match &args.payload_file {
        Some(file) => read_payload(
            std::fs::File::open(file)
                .with_context(|| format!("opening --payload-file '{}'", file.display()))?,
            &format!("--payload-file '{}'", file.display()),
        )?,
        None if args.payload == "-" => {
            read_payload(std::io::stdin().lock(), "--payload - (stdin)")?
        }
        None => parse_payload(&args.payload, "--payload")?,
    };
    let handler = args
        .handler
        .clone()
        .expect("clap requires HANDLER without --batch");
    if !args.allow_unregistered {
        check_registered(global, conn.store(), &handler)?;
    }
    let job = NewJob {
        handler,
        payload,
        ..defaults(&args, now)?
    };
    let enqueued = store::enqueue(conn.store(), &job, now)?;
    if enqueued.existing {
        eprintln!("qntx: an active job with this handler and source exists; not enqueued");
    }
    writeln!(out, "{}", enqueued.id)?;
    if !args.wait {
        return Ok(Outcome::Ok);
    }
    out.flush()?;
    super::wait::wait(conn, &enqueued.id, out)
}

/// The job the flags describe, without handler and payload.
fn defaults(args: &EnqueueArgs, now: i64) -> anyhow::Result<NewJob> {
    let run_at = match (args.run_at, args.delay) {
        (Some(at), _) => Some(at),
        (None, Some(delay)) => Some(delay_from(now, delay, "--delay")?),
        (None, None) => None,
    };
    let timeout_ms = args
        .timeout
        .map(|t| bounds::timeout_ms(t).map_err(|e| anyhow::anyhow!("--timeout: {e}")))
        .transpose()?;
    Ok(NewJob {
        source: args.source.clone(),
        priority: args.priority,
        max_attempts: args.max_attempts,
        run_at,
        timeout_ms,
        cost_estimate: args.cost_estimate,
        unique: args.unique,
        ..NewJob::new(String::new(), Value::Null)
    })
}

fn delay_from(now: i64, delay: Duration, what: &str) -> anyhow::Result<i64> {
    request::delay_from(now, delay).map_err(|e| anyhow::anyhow!("{what}: {e}"))
}

/// Read a payload of at most [`bounds::MAX_PAYLOAD_BYTES`] and parse it.
fn read_payload(input: impl Read, what: &str) -> anyhow::Result<Value> {
    let limit = bounds::MAX_PAYLOAD_BYTES;
    let mut text = String::new();
    input
        .take(u64::try_from(limit).unwrap_or(u64::MAX) + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("reading {what}"))?;
    if text.len() > limit {
        bail!(
            "{what}: the payload is more than {limit} bytes (16 MiB), the limit of a job's payload"
        );
    }
    parse_payload(&text, what)
}

fn parse_payload(text: &str, what: &str) -> anyhow::Result<Value> {
    bounds::check_payload_bytes(text.len()).map_err(|e| anyhow::anyhow!("{what}: {e}"))?;
    serde_json::from_str(text).map_err(|error| {
        let shown: String = text.chars().take(80).collect();
        anyhow::anyhow!("{what} is not valid JSON: {error} (in '{shown}')")
    })
}

/// `--batch`: parse and check every line first (an error names its line), then enqueue all in
/// one transaction.
fn enqueue_batch(
    global: &Global,
    conn: &mut dyn Connection,
    args: &EnqueueArgs,
    file: &Path,
    now: i64,
    out: &mut impl Write,
) -> anyhow::Result<Outcome> {
    let input: Box<dyn BufRead> = if file == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(file)
                .with_context(|| format!("opening --batch '{}'", file.display()))?,
        ))
    };
    // What a line leaves out: the flags, and HANDLER when given.
    let base = NewJob {
        handler: args.handler.clone().unwrap_or_default(),
        payload: parse_payload(&args.payload, "--payload")?,
        ..defaults(args, now)?
    };
    let mut jobs = Vec::new();
    for (index, line) in input.lines().enumerate() {
        let number = index + 1;
        let line = line.with_context(|| format!("reading --batch line {number}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let job = batch_job(&line, &base, now).with_context(|| format!("--batch line {number}"))?;
        jobs.push(job);
    }
    if !args.allow_unregistered {
        let handlers: BTreeSet<&str> = jobs.iter().map(|job| job.handler.as_str()).collect();
        for handler in handlers {
            check_registered(global, conn.store(), handler)?;
        }
    }
    let enqueued = store::enqueue_batch(conn, &jobs, now)?;
    let mut out = std::io::BufWriter::new(out);
    for job in &enqueued {
        writeln!(out, "{}", job.id)?;
    }
    out.flush()?;
    let existing = enqueued.iter().filter(|job| job.existing).count();
    if existing > 0 {
        eprintln!(
            "qntx: {existing} line(s) matched an active job with the same handler and source; their ids are the existing jobs'"
        );
    }
    Ok(Outcome::Ok)
}

fn batch_job(text: &str, base: &NewJob, now: i64) -> anyhow::Result<NewJob> {
    let line: JobRequest = serde_json::from_str(text).context("not a JSON object of job fields")?;
    let job = line
        .into_job(base, now)
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    if text.len() > bounds::MAX_PAYLOAD_BYTES {
        bounds::check_payload_bytes(job.payload.to_string().len())?;
    }
    Ok(job)
}

pub(super) use crate::pulse::request::parse_time;

/// Refuse a handler that no node registered and no plugin in the plugin directories announces
/// ([`handlers::check_enqueue`]).
pub(super) fn check_registered(
    global: &Global,
    store: &dyn Store,
    handler: &str,
) -> anyhow::Result<()> {
    handlers::check_enqueue(store, handler, &PluginDirs(global)).map_err(|error| {
        match error {
            // Unwrapped, so that a database fault still reads as one (see `Global::with_store`).
            EnqueueError::Records(error) => error.into(),
            EnqueueError::Source(error) => error,
            error => error.into(),
        }
    })
}

/// The command's plugin directories; files no node has loaded are loaded by a checking
/// runtime that shares the node's compile cache.
struct PluginDirs<'a>(&'a Global);

impl handlers::PluginSource for PluginDirs<'_> {
    fn dirs(&self) -> anyhow::Result<Vec<PathBuf>> {
        self.0.plugin_dirs()
    }

    fn load(&self, files: &[PathBuf]) -> anyhow::Result<plugins::Catalog> {
        Ok(plugins::load_all(
            &super::plugin::checking_runtime(Some(self.0))?,
            files,
            &super::plugin::scratch_store()?,
        ))
    }
}

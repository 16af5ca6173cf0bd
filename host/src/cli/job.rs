//! `qntx job`: enqueue, inspect, follow and steer jobs.

use std::io::Write;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Subcommand;

use super::{Global, Outcome, output};
use crate::clock::now_ms;
use crate::pulse::{DEFAULT_MAX_ATTEMPTS, Job, JobStatus, NewJob, PauseReason, store};
use crate::{db, plugins};

#[derive(Debug, Subcommand)]
pub(super) enum JobCommand {
    /// Enqueue a job for a handler and print its id
    ///
    /// The handler must be registered by a node sharing this database, or announced by a plugin
    /// in the plugin directories; --allow-unregistered enqueues for a plugin not loaded yet.
    Enqueue(EnqueueArgs),
    /// Show one job (an id prefix is enough)
    Show {
        /// Job id, or a unique prefix of it
        #[arg(value_name = "ID")]
        id: String,
        /// Print the job as JSON
        #[arg(long)]
        json: bool,
    },
    /// List jobs, newest first, with their source (cli, job:ID, schedule:ID, watcher:ID)
    List {
        /// Only jobs in this status (queued, running, paused, completed, failed, cancelled)
        #[arg(long, value_name = "STATUS")]
        status: Option<JobStatus>,
        /// Only jobs for this handler
        #[arg(long, value_name = "HANDLER")]
        handler: Option<String>,
        /// At most this many
        #[arg(long, default_value_t = 50, value_name = "N")]
        limit: u32,
        /// One JSON object per line
        #[arg(long)]
        json: bool,
    },
    /// Print a job's log: lines from Pulse, the runtime and the guest
    Logs {
        /// Job id, or a unique prefix of it
        #[arg(value_name = "ID")]
        id: String,
        /// Keep printing new lines until the job finishes
        #[arg(long, short)]
        follow: bool,
        /// One JSON object per line
        #[arg(long)]
        json: bool,
    },
    /// Cancel a job and its unfinished child jobs; a running guest is interrupted
    Cancel {
        /// Job id, or a unique prefix of it
        #[arg(value_name = "ID")]
        id: String,
    },
    /// Pause a queued or running job; a running attempt is interrupted and not counted
    Pause {
        /// Job id, or a unique prefix of it
        #[arg(value_name = "ID")]
        id: String,
    },
    /// Put a paused job back in the queue
    Resume {
        /// Job id, or a unique prefix of it
        #[arg(value_name = "ID")]
        id: String,
    },
    /// Put a failed job back in the queue with more attempts
    Retry {
        /// Job id, or a unique prefix of it
        #[arg(value_name = "ID")]
        id: String,
        /// Attempts it gets
        #[arg(long, default_value_t = 1, value_name = "N")]
        attempts: u32,
    },
}

#[derive(Debug, clap::Args)]
pub(super) struct EnqueueArgs {
    /// Full handler name: <plugin>/<handler>, or handler/<name> for a user handler
    #[arg(value_name = "HANDLER")]
    handler: String,

    /// The job's input, as JSON
    #[arg(long, default_value = "{}", value_name = "JSON")]
    payload: String,

    /// Higher runs first (-1000 to 1000)
    #[arg(
        long,
        default_value_t = 0,
        allow_negative_numbers = true,
        value_name = "N",
        help_heading = "Scheduling"
    )]
    priority: i32,

    /// Attempts before the job fails for good
    #[arg(long, default_value_t = DEFAULT_MAX_ATTEMPTS, value_name = "N", help_heading = "Scheduling")]
    max_attempts: u32,

    /// Wall-clock limit of each attempt [default: the node's]
    #[arg(long, value_name = "DURATION", value_parser = output::parse_duration, help_heading = "Scheduling")]
    timeout: Option<Duration>,

    /// Run no earlier than this long from now
    #[arg(long, value_name = "DURATION", value_parser = output::parse_duration, help_heading = "Scheduling", conflicts_with = "run_at")]
    delay: Option<Duration>,

    /// Run no earlier than this time (RFC 3339, e.g. 2030-01-01T09:00:00Z)
    #[arg(long, value_name = "TIME", value_parser = parse_time, help_heading = "Scheduling")]
    run_at: Option<i64>,

    /// Where the job comes from; with the handler, the key of --unique
    #[arg(long, default_value = "cli", value_name = "TEXT")]
    source: String,

    /// Enqueue nothing if an active job has the same handler and source; print its id
    #[arg(long)]
    unique: bool,

    /// Expected cost, checked against budgets
    #[arg(long, default_value_t = 0.0, value_name = "AMOUNT")]
    cost_estimate: f64,

    /// Enqueue even if no known plugin announces the handler
    #[arg(long)]
    allow_unregistered: bool,

    /// Wait for the job to finish, showing its progress, and print its result (a node must be
    /// running); exits 1 unless it completed
    #[arg(long)]
    wait: bool,
}

pub(super) fn run(global: &Global, command: JobCommand) -> anyhow::Result<Outcome> {
    let data_dir = global.data_dir()?;
    let conn = db::open_in(&data_dir)
        .with_context(|| format!("opening the database in '{}'", data_dir.display()))?;
    let mut out = std::io::stdout().lock();
    match command {
        JobCommand::Enqueue(args) => enqueue(global, &conn, args, &mut out),
        JobCommand::Show { id, json } => {
            let id = store::resolve_id(&conn, &id)?;
            let job = store::get(&conn, &id)?;
            if json {
                output::json_line(&mut out, &job)?;
            } else {
                output::job_details(&mut out, &job)?;
            }
            Ok(Outcome::Ok)
        }
        JobCommand::List {
            status,
            handler,
            limit,
            json,
        } => {
            let jobs = store::list(&conn, status, handler.as_deref(), limit)?;
            for job in &jobs {
                if json {
                    output::json_line(&mut out, job)?;
                } else {
                    writeln!(
                        out,
                        "{}  {:<9}  {:<24}  {}/{}  {}  {}",
                        job.id,
                        job.status.as_str(),
                        job.handler,
                        job.attempt,
                        job.max_attempts,
                        output::time(job.created_at),
                        job.source
                    )?;
                }
            }
            Ok(if jobs.is_empty() {
                Outcome::No
            } else {
                Outcome::Ok
            })
        }
        JobCommand::Logs { id, follow, json } => {
            let id = store::resolve_id(&conn, &id)?;
            logs(&conn, &id, follow, json, &mut out)
        }
        JobCommand::Cancel { id } => {
            let id = store::resolve_id(&conn, &id)?;
            let cancelled = store::cancel(&conn, &id, now_ms())?;
            if cancelled.len() > 1 {
                eprintln!(
                    "qntx: cancelled {id} and {} child job(s)",
                    cancelled.len() - 1
                );
            }
            Ok(Outcome::Ok)
        }
        JobCommand::Pause { id } => {
            let id = store::resolve_id(&conn, &id)?;
            store::pause(&conn, &id, PauseReason::User, now_ms())?;
            Ok(Outcome::Ok)
        }
        JobCommand::Resume { id } => {
            let id = store::resolve_id(&conn, &id)?;
            store::resume(&conn, &id, now_ms())?;
            Ok(Outcome::Ok)
        }
        JobCommand::Retry { id, attempts } => {
            let id = store::resolve_id(&conn, &id)?;
            store::retry_failed(&conn, &id, attempts, now_ms())?;
            Ok(Outcome::Ok)
        }
    }
}

/// Print a job's log lines; with `follow`, keep polling until the job is final.
fn logs(
    conn: &rusqlite::Connection,
    id: &str,
    follow: bool,
    json: bool,
    out: &mut impl Write,
) -> anyhow::Result<Outcome> {
    let mut after = 0;
    loop {
        // Read the status first: lines written before it turned final are then all printed.
        let finished = store::get(conn, id)?.status.is_final();
        for (number, line) in store::logs(conn, id, after)? {
            after = number;
            if json {
                output::json_line(out, &line)?;
            } else {
                writeln!(
                    out,
                    "{}  {:<5}  {:<7}  #{}  {}",
                    output::time(line.time),
                    line.level.as_str(),
                    line.stage,
                    line.attempt,
                    line.message
                )?;
            }
        }
        out.flush()?;
        if !follow || finished {
            return Ok(Outcome::Ok);
        }
        std::thread::sleep(FOLLOW_POLL);
    }
}

/// How often `--wait` and `--follow` look at the database.
const FOLLOW_POLL: Duration = Duration::from_millis(100);

/// Wait for a job to finish, drawing its progress on stderr; print it; exit 1 unless completed.
fn wait(conn: &rusqlite::Connection, id: &str, out: &mut impl Write) -> anyhow::Result<Outcome> {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {elapsed_precise} [{bar:30}] {pos}/{len} {msg}",
        )
        .expect("the template is valid")
        .progress_chars("=> "),
    );
    let job = loop {
        let job = store::get(conn, id)?;
        if job.status.is_final() {
            break job;
        }
        show_progress(&bar, &job);
        bar.tick();
        std::thread::sleep(FOLLOW_POLL);
    };
    bar.finish_and_clear();
    output::job_details(out, &job)?;
    Ok(if job.status == JobStatus::Completed {
        Outcome::Ok
    } else {
        Outcome::No
    })
}

fn show_progress(bar: &indicatif::ProgressBar, job: &Job) {
    bar.set_length(job.progress.total.max(1));
    bar.set_position(job.progress.current);
    let mut message = match job.pause_reason {
        Some(reason) => format!("{} ({})", job.status, reason.as_str()),
        None => format!(
            "{}, attempt {}/{}",
            job.status, job.attempt, job.max_attempts
        ),
    };
    if job.cost_actual > 0.0 {
        message.push_str(&format!(", cost {}", job.cost_actual));
    }
    bar.set_message(message);
}

fn parse_time(text: &str) -> Result<i64, String> {
    let time = humantime::parse_rfc3339_weak(text)
        .map_err(|e| format!("'{text}' is not a time like 2030-01-01T09:00:00Z: {e}"))?;
    let ms = time
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| format!("'{text}' is before 1970"))?
        .as_millis();
    i64::try_from(ms).map_err(|_| format!("'{text}' is too far away"))
}

fn enqueue(
    global: &Global,
    conn: &rusqlite::Connection,
    args: EnqueueArgs,
    out: &mut impl Write,
) -> anyhow::Result<Outcome> {
    let payload: serde_json::Value = serde_json::from_str(&args.payload).map_err(|error| {
        anyhow::anyhow!(
            "--payload is not valid JSON: {error} (in '{}')",
            args.payload
        )
    })?;
    if !args.allow_unregistered {
        check_registered(global, conn, &args.handler)?;
    }
    let now = now_ms();
    let job = NewJob {
        id: None,
        handler: args.handler,
        payload,
        source: args.source,
        priority: args.priority,
        max_attempts: args.max_attempts,
        run_at: args.run_at.or_else(|| {
            args.delay
                .map(|delay| now.saturating_add(crate::clock::millis(delay)))
        }),
        timeout_ms: args
            .timeout
            .map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
        cost_estimate: args.cost_estimate,
        parent_job_id: None,
        unique: args.unique,
        root_job_id: None,
        depth: 0,
    };
    let enqueued = store::enqueue(conn, &job, now)?;
    if enqueued.existing {
        eprintln!("qntx: an active job with this handler and source exists; not enqueued");
    }
    writeln!(out, "{}", enqueued.id)?;
    if !args.wait {
        return Ok(Outcome::Ok);
    }
    out.flush()?;
    wait(conn, &enqueued.id, out)
}

/// Refuse a handler that no node registered and no plugin in the plugin directories announces.
fn check_registered(
    global: &Global,
    conn: &rusqlite::Connection,
    handler: &str,
) -> anyhow::Result<()> {
    if super::handler::check_enqueue(conn, handler)? {
        return Ok(());
    }
    if store::registered_handler(conn, handler)?.is_some() {
        return Ok(());
    }
    let mut known = store::registered_handler_names(conn)?;
    let files = plugins::discover(&global.plugin_dirs()?)?;
    if !files.is_empty() {
        let catalog = plugins::load_all(
            &super::plugin::checking_runtime(Some(global))?,
            &files,
            &super::plugin::scratch_store()?,
        );
        for plugin in catalog.plugins {
            for (name, _) in &plugin.handlers {
                known.push(plugin.handler_name(name));
            }
        }
    }
    if known.iter().any(|name| name == handler) {
        return Ok(());
    }
    known.sort();
    known.dedup();
    let listing = if known.is_empty() {
        "no handlers are known yet".to_owned()
    } else {
        format!("known handlers: {}", known.join(", "))
    };
    bail!(
        "no plugin announces handler '{handler}'; {listing}\n\
         hint: build the plugin into the plugin directory (qntx plugin build), or pass \
         --allow-unregistered to enqueue for a plugin that is not loaded yet"
    )
}

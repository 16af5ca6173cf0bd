//! `qntx job`: enqueue, inspect, follow and steer jobs.

use std::io::Write;

use clap::Subcommand;

use super::{Global, Outcome, output};
use crate::clock::now_ms;
use crate::pulse::{Job, PauseReason, nodes, store};
use crate::storage::Connection;
use crate::storage::Store;

#[derive(Debug, Subcommand)]
pub(super) enum JobCommand {
    /// Enqueue a job (or, with --batch, many) for a handler and print its id
    ///
    /// The handler must be registered by a node sharing this database, or announced by a plugin
    /// in the plugin directories; --allow-unregistered enqueues for a plugin not loaded yet.
    /// A payload is at most 16 MiB of JSON; --payload-file FILE or --payload - (stdin) pass one
    /// too large for the command line.
    Enqueue(super::enqueue::EnqueueArgs),
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
    ///
    /// Filters combine: every one given must hold. A page holds --limit jobs; when more
    /// match, the command prints `--after CURSOR` on stderr, and the same command with it
    /// prints the next page. Exits 1 when no job matches.
    List(super::job_list::ListArgs),
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
        /// Attempts it gets (1 to 1000)
        #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
        attempts: u32,
    },
}

pub(super) fn run(global: &Global, command: JobCommand) -> anyhow::Result<Outcome> {
    global.with_store(|conn| run_on(global, conn, command, &mut std::io::stdout().lock()))
}

fn run_on(
    global: &Global,
    conn: &mut dyn Connection,
    command: JobCommand,
    out: &mut impl Write,
) -> anyhow::Result<Outcome> {
    match command {
        JobCommand::Enqueue(args) => super::enqueue::run(global, conn, args, out),
        JobCommand::Show { id, json } => {
            let id = store::resolve_id(conn, &id)?;
            let job = store::get(conn, &id)?;
            let serving = nodes::serving(conn, &job.handler, now_ms())?;
            if json {
                output::json_line(
                    out,
                    &ShownJob {
                        job: &job,
                        serving_nodes: &serving,
                    },
                )?;
            } else {
                output::job_details(out, &job)?;
                show_nodes(conn, &job, &serving, out)?;
            }
            Ok(Outcome::Ok)
        }
        JobCommand::List(args) => super::job_list::run(conn, args, out),
        JobCommand::Logs { id, follow, json } => {
            let id = store::resolve_id(conn, &id)?;
            logs(conn, &id, follow, json, out)
        }
        JobCommand::Cancel { id } => {
            let id = store::resolve_id(conn, &id)?;
            let cancelled = store::cancel(conn, &id, now_ms())?;
            if cancelled.len() > 1 {
                eprintln!(
                    "qntx: cancelled {id} and {} child job(s)",
                    cancelled.len() - 1
                );
            }
            Ok(Outcome::Ok)
        }
        JobCommand::Pause { id } => {
            let id = store::resolve_id(conn, &id)?;
            store::pause(conn, &id, PauseReason::User, now_ms())?;
            Ok(Outcome::Ok)
        }
        JobCommand::Resume { id } => {
            let id = store::resolve_id(conn, &id)?;
            store::resume(conn, &id, now_ms())?;
            Ok(Outcome::Ok)
        }
        JobCommand::Retry { id, attempts } => {
            let id = store::resolve_id(conn, &id)?;
            store::retry_failed(conn, &id, attempts, now_ms())?;
            Ok(Outcome::Ok)
        }
    }
}

/// `job show --json`: the job, and the live nodes that serve its handler.
#[derive(serde::Serialize)]
struct ShownJob<'a> {
    #[serde(flatten)]
    job: &'a Job,
    serving_nodes: &'a [String],
}

/// Where each attempt ran, and, for a job that waits, whether any live node serves it.
fn show_nodes(
    conn: &dyn Store,
    job: &Job,
    serving: &[String],
    out: &mut impl Write,
) -> anyhow::Result<()> {
    for (index, attempt) in job.nodes.iter().enumerate() {
        let key = if index == 0 { "ran on" } else { "" };
        let place = match nodes::get(conn, &attempt.node)? {
            Some(node) => format!("{} (host {}, pid {})", node.id, node.host, node.pid),
            None => attempt.node.clone(),
        };
        writeln!(out, "{key:<10} attempt {} on {place}", attempt.attempt)?;
    }
    if !job.status.is_final() && serving.is_empty() {
        writeln!(
            out,
            "{:<10} no running node serves '{}'; the job waits until a node that loads it starts",
            "waiting", job.handler
        )?;
    }
    Ok(())
}

/// Print a job's log lines; with `follow`, keep polling until the job is final.
fn logs(
    conn: &dyn Store,
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
        std::thread::sleep(super::wait::POLL);
    }
}

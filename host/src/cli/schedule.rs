//! `qntx schedule`: list, add, pause, resume, run now and remove schedules; list watchers.

use std::io::Write;
use std::time::Duration;

use clap::Subcommand;

use super::{Global, Outcome, output};
use crate::clock::now_ms;
use crate::pulse::triggers::{ScheduleSpec, store};
use crate::storage::Store;

#[derive(Debug, Subcommand)]
pub(super) enum ScheduleCommand {
    /// List schedules (plugins' and users')
    List {
        /// One JSON object per line
        #[arg(long)]
        json: bool,
    },
    /// Add a schedule that enqueues a job for HANDLER at an interval
    Add {
        /// Full handler name: <plugin>/<handler> or handler/<name>
        #[arg(value_name = "HANDLER")]
        handler: String,
        /// Interval between jobs, at least 1s
        #[arg(long, value_name = "DURATION", value_parser = output::parse_duration)]
        every: Duration,
        /// The payload of each job, as JSON
        #[arg(long, default_value = "{}", value_name = "JSON")]
        payload: String,
        /// Add it paused
        #[arg(long)]
        paused: bool,
    },
    /// Stop a schedule from firing
    Pause {
        /// Schedule id (see `qntx schedule list`)
        #[arg(value_name = "ID")]
        id: String,
    },
    /// Let a paused schedule fire again, one interval from now
    Resume {
        /// Schedule id
        #[arg(value_name = "ID")]
        id: String,
    },
    /// Enqueue a schedule's job now, unless one is still active
    RunNow {
        /// Schedule id
        #[arg(value_name = "ID")]
        id: String,
    },
    /// Delete a schedule a user added
    Remove {
        /// Schedule id
        #[arg(value_name = "ID")]
        id: String,
    },
    /// List the watchers plugins announced
    Watchers {
        /// One JSON object per line
        #[arg(long)]
        json: bool,
    },
}

pub(super) fn run(global: &Global, command: ScheduleCommand) -> anyhow::Result<Outcome> {
    global.with_store(|conn| run_on(conn.store(), command))
}

fn run_on(conn: &dyn Store, command: ScheduleCommand) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    let now = now_ms();
    match command {
        ScheduleCommand::List { json } => {
            let schedules = store::list_schedules(conn)?;
            for schedule in &schedules {
                if json {
                    output::json_line(&mut out, schedule)?;
                } else {
                    writeln!(
                        out,
                        "{:<32} {:<24} every {:<8} {:<7} next {}",
                        schedule.id,
                        schedule.handler,
                        humantime::format_duration(Duration::from_millis(
                            schedule.interval_ms.unsigned_abs()
                        ))
                        .to_string(),
                        if schedule.enabled { "active" } else { "paused" },
                        output::time(schedule.next_run_at)
                    )?;
                }
            }
            Ok(if schedules.is_empty() {
                Outcome::No
            } else {
                Outcome::Ok
            })
        }
        ScheduleCommand::Add {
            handler,
            every,
            payload,
            paused,
        } => {
            let payload = serde_json::from_str(&payload).map_err(|error| {
                anyhow::anyhow!("--payload is not valid JSON: {error} (in '{payload}')")
            })?;
            let spec = ScheduleSpec {
                handler,
                interval_ms: i64::try_from(every.as_millis()).unwrap_or(i64::MAX),
                enabled: !paused,
                payload,
            };
            let schedule = store::add_schedule(conn, &spec, now)?;
            writeln!(out, "{}", schedule.id)?;
            Ok(Outcome::Ok)
        }
        ScheduleCommand::Pause { id } => {
            store::set_enabled(conn, &id, false, now)?;
            Ok(Outcome::Ok)
        }
        ScheduleCommand::Resume { id } => {
            store::set_enabled(conn, &id, true, now)?;
            Ok(Outcome::Ok)
        }
        ScheduleCommand::RunNow { id } => {
            let enqueued = store::run_now(conn, &id, now)?;
            if enqueued.existing {
                eprintln!("qntx: the schedule's previous job is still active; not enqueued");
            }
            writeln!(out, "{}", enqueued.id)?;
            Ok(Outcome::Ok)
        }
        ScheduleCommand::Remove { id } => {
            store::remove_schedule(conn, &id)?;
            Ok(Outcome::Ok)
        }
        ScheduleCommand::Watchers { json } => {
            let watchers = store::list_watchers(conn)?;
            for watcher in &watchers {
                if json {
                    output::json_line(&mut out, watcher)?;
                } else {
                    writeln!(
                        out,
                        "{:<32} {:<24} {}/s  filter {}",
                        watcher.id,
                        watcher.handler,
                        watcher.max_fires_per_second,
                        serde_json::to_string(&watcher.filter)?
                    )?;
                }
            }
            Ok(if watchers.is_empty() {
                Outcome::No
            } else {
                Outcome::Ok
            })
        }
    }
}

//! `qntx job list`: a page of jobs matching filters, newest first, and the cursor of the next.

use std::io::Write;

use anyhow::{Context, anyhow};

use super::{Outcome, output};
use crate::ats::when::{self, Edge};
use crate::clock::now_ms;
use crate::pulse::{JobFilter, JobStatus, SourceMatch, store};
use crate::storage::Store;

#[derive(Debug, clap::Args)]
pub(super) struct ListArgs {
    /// Only jobs in this status (queued, running, paused, completed, failed, cancelled);
    /// repeat it or separate with commas for any of several
    #[arg(long, value_name = "STATUS", value_delimiter = ',')]
    status: Vec<JobStatus>,
    /// Only jobs for this handler
    #[arg(long, value_name = "HANDLER")]
    handler: Option<String>,
    /// Only jobs from this source (cli, job:ID, schedule:ID, watcher:ID); a trailing * matches
    /// by prefix: job:* lists every child job
    #[arg(long, value_name = "SOURCE")]
    source: Option<SourceMatch>,
    /// Only jobs created at or after TIME: a duration ago (1h, 2 days), 'today', YYYY-MM-DD or
    /// RFC 3339 (2024-05-01T12:00:00Z)
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Only jobs created at or before TIME (as --since)
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// Continue after the page that printed this cursor on stderr
    #[arg(long, value_name = "CURSOR")]
    after: Option<String>,
    /// At most this many (1 to 1000)
    #[arg(long, default_value_t = 50, value_name = "N")]
    limit: u32,
    /// One JSON object per line
    #[arg(long)]
    json: bool,
}

/// Print one page; when more jobs match, the cursor of the next page goes to stderr.
pub(super) fn run(
    store: &dyn Store,
    args: ListArgs,
    out: &mut impl Write,
) -> anyhow::Result<Outcome> {
    let now = now_ms();
    let filter = JobFilter {
        statuses: args.status,
        handler: args.handler,
        source: args.source,
        since: time("since", args.since.as_deref(), now, Edge::Start)?,
        until: time("until", args.until.as_deref(), now, Edge::End)?,
        cursor: args.after,
        limit: Some(args.limit),
    };
    let page = store::list(store, &filter).context("listing jobs")?;
    for job in &page.jobs {
        if args.json {
            output::json_line(out, job)?;
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
    out.flush()?;
    if let Some(cursor) = &page.next_cursor {
        eprintln!("qntx: more jobs match; the next page: --after {cursor}");
    }
    Ok(if page.jobs.is_empty() {
        Outcome::No
    } else {
        Outcome::Ok
    })
}

/// `--since` / `--until`: a bare duration (`1h`) is that long ago; otherwise any time the
/// query grammar reads (`2 days ago`, `today`, a date, RFC 3339).
fn time(flag: &str, text: Option<&str>, now: i64, edge: Edge) -> anyhow::Result<Option<i64>> {
    let Some(text) = text else {
        return Ok(None);
    };
    let text = text.trim();
    let is_duration =
        !text.to_lowercase().ends_with("ago") && humantime::parse_duration(text).is_ok();
    let spelled = if is_duration {
        format!("{text} ago")
    } else {
        text.to_owned()
    };
    when::parse(&spelled, now, edge)
        .map(Some)
        .map_err(|e| anyhow!("--{flag}: {e}"))
}

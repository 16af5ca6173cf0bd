//! Shared formatting and parsing for CLI output and arguments.

use std::io::Write;
use std::time::{Duration, UNIX_EPOCH};

use crate::pulse::Job;

/// Parse `30s`, `5m`, `1h30m`, `250ms`.
pub(super) fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text)
        .map_err(|e| format!("'{text}' is not a duration like 30s, 5m or 250ms: {e}"))
}

/// A Unix-millisecond time as RFC 3339 UTC.
pub(super) fn time(ms: i64) -> String {
    let time = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or_default());
    humantime::format_rfc3339_millis(time).to_string()
}

/// Write one JSON value per line.
pub(super) fn json_line(out: &mut impl Write, value: &impl serde::Serialize) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}

/// A job as `key  value` lines.
pub(super) fn job_details(out: &mut impl Write, job: &Job) -> anyhow::Result<()> {
    let mut row = |key: &str, value: String| writeln!(out, "{key:<10} {value}");
    row("job", job.id.clone())?;
    row("handler", job.handler.clone())?;
    let status = match job.pause_reason {
        Some(reason) => format!("{} ({})", job.status, reason.as_str()),
        None => job.status.to_string(),
    };
    row(
        "status",
        format!("{status}, attempt {}/{}", job.attempt, job.max_attempts),
    )?;
    row("source", job.source.clone())?;
    if let Some(parent) = &job.parent_job_id {
        row("parent", parent.clone())?;
    }
    row("priority", job.priority.to_string())?;
    row("payload", compact(&job.payload))?;
    if job.progress.total > 0 || job.progress.current > 0 {
        row(
            "progress",
            format!("{}/{}", job.progress.current, job.progress.total),
        )?;
    }
    if job.cost_estimate > 0.0 || job.cost_actual > 0.0 {
        row(
            "cost",
            format!("{} (estimate {})", job.cost_actual, job.cost_estimate),
        )?;
    }
    if let Some(result) = &job.result {
        row("result", compact(result))?;
    }
    if let Some(error) = &job.error {
        row("error", error.clone())?;
    }
    if !job.plugin_version.is_empty() {
        row("version", job.plugin_version.clone())?;
    }
    row("created", time(job.created_at))?;
    if job.status == crate::pulse::JobStatus::Queued && job.run_at > job.created_at {
        row("run at", time(job.run_at))?;
    }
    if let Some(started) = job.started_at {
        row("started", time(started))?;
    }
    if let Some(completed) = job.completed_at {
        row("finished", time(completed))?;
    }
    Ok(())
}

/// JSON on one line, cut to 200 characters.
pub(super) fn compact(value: &serde_json::Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 200 {
        format!("{}…", text.chars().take(200).collect::<String>())
    } else {
        text
    }
}

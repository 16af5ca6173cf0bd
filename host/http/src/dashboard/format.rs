//! How pages show times, durations and statuses.

use std::time::{Duration, UNIX_EPOCH};

use maud::{Markup, html};
use qntx_core::pulse::{Job, JobStatus};

/// A Unix-millisecond time as `2026-12-02 11:44:39 UTC`.
pub(super) fn time(ms: i64) -> String {
    let stamp =
        humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64));
    stamp.to_string().replacen('T', " ", 1).replace('Z', " UTC")
}

/// An optional time, or a dash.
pub(super) fn maybe_time(ms: Option<i64>) -> String {
    ms.map_or_else(|| "–".to_owned(), time)
}

/// Milliseconds as `1.2 s`, `340 ms`, `3 min 5 s`.
pub(super) fn duration(ms: i64) -> String {
    match ms {
        ms if ms < 1_000 => format!("{ms} ms"),
        ms if ms < 60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        ms => format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

/// A status as a coloured badge.
pub(super) fn status(status: JobStatus) -> Markup {
    html! { span class={ "status " (status.as_str()) } data-status=(status.as_str()) { (status.as_str()) } }
}

/// A job's progress as a bar and its text (`3 / 10`).
pub(super) fn progress(job: &Job) -> Markup {
    let (current, total) = (job.progress.current, job.progress.total);
    html! {
        progress data-progress max=(total.max(1)) value=(current.min(total.max(1))) {}
        " "
        span data-progress-text { (progress_text(current, total)) }
    }
}

/// `3 / 10 (30%)`, or `3` when the total is unknown.
pub(super) fn progress_text(current: u64, total: u64) -> String {
    match current.saturating_mul(100).checked_div(total) {
        Some(percent) => format!("{current} / {total} ({percent}%)"),
        None => current.to_string(),
    }
}

/// The first characters of a job id, enough to tell jobs apart in a list.
pub(super) fn short_id(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

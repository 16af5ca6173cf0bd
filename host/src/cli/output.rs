//! Shared formatting and parsing for CLI output and arguments.

use std::io::Write;
use std::time::Duration;

use crate::pulse::Job;

/// Parse `30s`, `5m`, `1h30m`, `250ms`.
pub(super) fn parse_duration(text: &str) -> Result<Duration, String> {
    crate::pulse::request::parse_duration(text)
}

/// A Unix-millisecond time as RFC 3339 UTC (`2024-05-01T12:00:00.000Z`). Any stored value
/// formats, none panics: a year outside 0000..=9999 is written with its sign, as ISO 8601's
/// expanded years (`+292278994-08-17T07:12:55.807Z`, `-000001-12-31T00:00:00.000Z`).
pub(super) fn time(ms: i64) -> String {
    const DAY_MS: i128 = 86_400_000;
    let ms = i128::from(ms);
    let (days, of_day) = (ms.div_euclid(DAY_MS), ms.rem_euclid(DAY_MS));
    // Days to a civil date (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
    let z = days + 719_468;
    let (era, day_of_era) = (z.div_euclid(146_097), z.rem_euclid(146_097));
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i128::from(month <= 2);
    let year = match year {
        0..=9999 => format!("{year:04}"),
        ..0 => format!("-{:06}", -year),
        _ => format!("+{year}"),
    };
    format!(
        "{year}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        of_day / 3_600_000,
        of_day / 60_000 % 60,
        of_day / 1000 % 60,
        of_day % 1000
    )
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

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    #[test]
    fn times_format_like_rfc3339_and_never_panic() {
        let mut ms: i64 = 0;
        while ms < 253_402_300_799_999 {
            let expected =
                humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms as u64))
                    .to_string();
            assert_eq!(time(ms), expected, "{ms}");
            ms = ms * 3 + 86_399_999;
        }
        assert_eq!(time(253_402_300_799_999), "9999-12-31T23:59:59.999Z");
        assert_eq!(time(253_402_300_800_000), "+10000-01-01T00:00:00.000Z");
        assert_eq!(time(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(time(-62_167_219_200_001), "-000001-12-31T23:59:59.999Z");
        assert_eq!(time(i64::MAX), "+292278994-08-17T07:12:55.807Z");
        assert_eq!(time(i64::MIN), "-292275055-05-16T16:47:04.192Z");
    }
}

//! Statements on the log lines of jobs.

use super::Result;
use crate::pulse::LogLine;

/// Statements on job logs.
pub trait JobLogs {
    /// Append `lines` to the log of job `job_id`.
    fn job_logs_append(&self, job_id: &str, lines: &[LogLine]) -> Result<()>;

    /// The lines of job `job_id` after the line numbered `after` (0: all), with their numbers.
    fn job_logs_after(&self, job_id: &str, after: i64) -> Result<Vec<(i64, LogLine)>>;

    /// Delete the logs of the jobs `ids`.
    fn job_logs_delete(&self, ids: &[String]) -> Result<()>;
}

//! Listing jobs: which jobs a page holds ([`JobFilter`]), the page ([`JobPage`]) with its
//! opaque cursor, and the counts an overview shows ([`JobCounts`]). The CLI and the HTTP API
//! both list through [`super::store::list`], so they share these rules.
//!
//! Pages are newest first by id (ULIDs sort by creation time). A cursor names the last job of
//! a page; the next page holds the jobs strictly older than it, so paging visits every job
//! that matches exactly once, in order, even while new jobs are enqueued: they sort before the
//! cursor.

use std::str::FromStr;

use super::{Error, Job, JobStatus, Result};

/// Page size when a filter names none.
pub const DEFAULT_PAGE: u32 = 50;
/// The largest page a filter may ask for.
pub const MAX_PAGE: u32 = 1000;
/// Bytes of a handler name or source in a filter (the longest a job may have).
const MAX_SOURCE_BYTES: usize = 1024;

/// Which jobs to list, newest first. Every condition set must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    /// In any of these statuses (empty: any status).
    pub statuses: Vec<JobStatus>,
    /// Of exactly this handler.
    pub handler: Option<String>,
    /// From this source, exactly or by prefix.
    pub source: Option<SourceMatch>,
    /// Created at or after this time, Unix milliseconds.
    pub since: Option<i64>,
    /// Created at or before this time, Unix milliseconds.
    pub until: Option<i64>,
    /// Continue after the page that returned this cursor ([`JobPage::next_cursor`]).
    pub cursor: Option<String>,
    /// Page size, 1 to [`MAX_PAGE`]; `None` means [`DEFAULT_PAGE`].
    pub limit: Option<u32>,
}

/// How a filter matches a job's source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceMatch {
    /// Exactly this source.
    Exact(String),
    /// Any source starting with this (`job:` for child jobs, `schedule:` for scheduled ones).
    Prefix(String),
}

/// One page of jobs, newest first.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct JobPage {
    /// The jobs.
    pub jobs: Vec<Job>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// A filter checked and resolved for the store: what a backend's `job_list` runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobQuery {
    /// In any of these statuses, each once, in life order (empty: any status).
    pub statuses: Vec<JobStatus>,
    /// Of exactly this handler.
    pub handler: Option<String>,
    /// From this source, exactly or by prefix.
    pub source: Option<SourceMatch>,
    /// Created at or after this time, Unix milliseconds.
    pub since: Option<i64>,
    /// Created at or before this time, Unix milliseconds.
    pub until: Option<i64>,
    /// Only jobs whose id sorts strictly before this one.
    pub before_id: Option<String>,
    /// At most this many jobs.
    pub fetch: u32,
}

/// How many jobs one handler has in one status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerCount {
    /// The handler.
    pub handler: String,
    /// The status.
    pub status: JobStatus,
    /// How many of its jobs are in it.
    pub count: u64,
}

/// Stored jobs counted by handler and status, for an overview.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobCounts {
    /// One entry per (handler, status) that has jobs, by handler then status.
    pub by_handler: Vec<HandlerCount>,
}

impl JobFilter {
    /// This filter, also matching jobs in `status`.
    pub fn status(mut self, status: JobStatus) -> Self {
        self.statuses.push(status);
        self
    }

    /// This filter, narrowed to jobs of `handler`.
    pub fn handler(mut self, handler: impl Into<String>) -> Self {
        self.handler = Some(handler.into());
        self
    }

    /// The store's query for this filter, fetching `limit + 1` jobs so that the caller knows
    /// whether another page follows.
    ///
    /// # Errors
    ///
    /// [`Error::BadCursor`] for a cursor no page returned, [`Error::InvalidFilter`] for a
    /// limit of 0 or past [`MAX_PAGE`], a reversed time range, or an empty, control-character
    /// or overlong handler or source.
    pub fn query(&self) -> Result<JobQuery> {
        let limit = self.page_size()?;
        if let (Some(since), Some(until)) = (self.since, self.until)
            && since > until
        {
            return Err(Error::InvalidFilter(format!(
                "the time range is reversed: since {since} is after until {until}"
            )));
        }
        if let Some(handler) = &self.handler {
            bounded("handler", handler)?;
        }
        match &self.source {
            Some(SourceMatch::Exact(source)) => bounded("source", source)?,
            Some(SourceMatch::Prefix(prefix)) => bounded("source prefix", prefix)?,
            None => {}
        }
        let statuses = JobStatus::ALL
            .into_iter()
            .filter(|status| self.statuses.contains(status))
            .collect();
        Ok(JobQuery {
            statuses,
            handler: self.handler.clone(),
            source: self.source.clone(),
            since: self.since,
            until: self.until,
            before_id: self.cursor.as_deref().map(decode_cursor).transpose()?,
            fetch: limit + 1,
        })
    }

    /// The page size this filter asks for.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidFilter`] for 0 or more than [`MAX_PAGE`].
    pub fn page_size(&self) -> Result<u32> {
        match self.limit {
            None => Ok(DEFAULT_PAGE),
            Some(limit @ 1..=MAX_PAGE) => Ok(limit),
            Some(limit) => Err(Error::InvalidFilter(format!(
                "a page of {limit} jobs; pages hold 1 to {MAX_PAGE}"
            ))),
        }
    }
}

impl JobQuery {
    /// A query of every job, `fetch` at most: what the conditions narrow.
    pub fn new(fetch: u32) -> Self {
        Self {
            statuses: Vec::new(),
            handler: None,
            source: None,
            since: None,
            until: None,
            before_id: None,
            fetch,
        }
    }

    /// Whether `job` passes every condition except the page's size: what the backends answer
    /// in SQL, for tests that check them.
    pub fn matches(&self, job: &Job) -> bool {
        (self.statuses.is_empty() || self.statuses.contains(&job.status))
            && self.handler.as_ref().is_none_or(|h| &job.handler == h)
            && self.source.as_ref().is_none_or(|s| s.matches(&job.source))
            && self.since.is_none_or(|since| job.created_at >= since)
            && self.until.is_none_or(|until| job.created_at <= until)
            && self.before_id.as_ref().is_none_or(|id| job.id < *id)
    }
}

impl SourceMatch {
    /// Whether `source` matches.
    pub fn matches(&self, source: &str) -> bool {
        match self {
            Self::Exact(exact) => source == exact,
            Self::Prefix(prefix) => source.starts_with(prefix.as_str()),
        }
    }
}

impl FromStr for SourceMatch {
    type Err = std::convert::Infallible;

    /// `job:*` (a trailing `*`) matches by prefix; anything else exactly.
    fn from_str(text: &str) -> std::result::Result<Self, Self::Err> {
        Ok(match text.strip_suffix('*') {
            Some(prefix) => Self::Prefix(prefix.to_owned()),
            None => Self::Exact(text.to_owned()),
        })
    }
}

impl JobCounts {
    /// Jobs by status, every status listed (0 where none), in life order.
    pub fn by_status(&self) -> Vec<(JobStatus, u64)> {
        JobStatus::ALL
            .into_iter()
            .map(|status| (status, self.of_status(status)))
            .collect()
    }

    /// How many jobs are in `status`, over every handler.
    pub fn of_status(&self, status: JobStatus) -> u64 {
        self.by_handler
            .iter()
            .filter(|entry| entry.status == status)
            .map(|entry| entry.count)
            .sum()
    }

    /// The `n` handlers with the most jobs, most first (ties by name), with their totals.
    pub fn busiest(&self, n: usize) -> Vec<(String, u64)> {
        let mut totals: Vec<(String, u64)> = Vec::new();
        for entry in &self.by_handler {
            match totals
                .iter_mut()
                .find(|(handler, _)| *handler == entry.handler)
            {
                Some((_, total)) => *total += entry.count,
                None => totals.push((entry.handler.clone(), entry.count)),
            }
        }
        totals.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        totals.truncate(n);
        totals
    }
}

/// Parse a list of status names separated by commas (`failed,cancelled`), as the HTTP API and
/// the CLI take them.
///
/// # Errors
///
/// [`Error::InvalidFilter`] naming an unknown status and the known ones.
pub fn parse_statuses(text: &str) -> Result<Vec<JobStatus>> {
    text.split(',')
        .map(|name| JobStatus::from_str(name.trim()).map_err(Error::InvalidFilter))
        .collect()
}

/// The cursor of a page that ends on job `id`: the id's bytes in hex, so that it is safe in a
/// URL and callers do not read meaning into it.
pub fn encode_cursor(id: &str) -> String {
    id.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The job id a cursor from [`encode_cursor`] names.
fn decode_cursor(cursor: &str) -> Result<String> {
    let bad = || Error::BadCursor(cursor.chars().take(64).collect());
    if cursor.is_empty() || !cursor.len().is_multiple_of(2) || cursor.len() > 2 * MAX_SOURCE_BYTES {
        return Err(bad());
    }
    let bytes = (0..cursor.len())
        .step_by(2)
        .map(|at| {
            cursor
                .get(at..at + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(bad)?;
    let id = String::from_utf8(bytes).map_err(|_| bad())?;
    if id.chars().any(char::is_control) {
        return Err(bad());
    }
    Ok(id)
}

fn bounded(what: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::InvalidFilter(format!(
            "an empty {what} in a job filter"
        )));
    }
    if value.len() > MAX_SOURCE_BYTES {
        return Err(Error::InvalidFilter(format!(
            "{what} '{}…' in a job filter is {} bytes; the limit is {MAX_SOURCE_BYTES}",
            value.chars().take(32).collect::<String>(),
            value.len()
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::InvalidFilter(format!(
            "{what} '{}' in a job filter contains a control character",
            value.escape_debug()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(filter: JobFilter) -> String {
        match filter.query() {
            Err(Error::InvalidFilter(message)) => message,
            other => panic!("expected an invalid filter, got {other:?}"),
        }
    }

    #[test]
    fn a_filter_resolves_to_one_more_than_its_page_with_statuses_once_in_order() {
        let query = JobFilter {
            statuses: vec![JobStatus::Failed, JobStatus::Queued, JobStatus::Failed],
            cursor: Some(encode_cursor("01JZ")),
            ..JobFilter::default()
        }
        .query()
        .unwrap();
        assert_eq!(query.statuses, [JobStatus::Queued, JobStatus::Failed]);
        assert_eq!(query.before_id.as_deref(), Some("01JZ"));
        assert_eq!(query.fetch, DEFAULT_PAGE + 1);
        let limit = |limit| JobFilter {
            limit: Some(limit),
            ..JobFilter::default()
        };
        assert_eq!(limit(MAX_PAGE).query().unwrap().fetch, MAX_PAGE + 1);
        assert_eq!(limit(1).query().unwrap().fetch, 2);
    }

    #[test]
    fn every_filter_rule_has_a_clear_error() {
        let f = JobFilter::default;
        assert_eq!(
            invalid(JobFilter {
                limit: Some(0),
                ..f()
            }),
            "a page of 0 jobs; pages hold 1 to 1000"
        );
        assert_eq!(
            invalid(JobFilter {
                limit: Some(1001),
                ..f()
            }),
            "a page of 1001 jobs; pages hold 1 to 1000"
        );
        assert_eq!(
            invalid(JobFilter {
                since: Some(2),
                until: Some(1),
                ..f()
            }),
            "the time range is reversed: since 2 is after until 1"
        );
        assert_eq!(
            invalid(JobFilter {
                handler: Some(String::new()),
                ..f()
            }),
            "an empty handler in a job filter"
        );
        assert_eq!(
            invalid(JobFilter {
                source: Some(SourceMatch::Prefix(String::new())),
                ..f()
            }),
            "an empty source prefix in a job filter"
        );
        assert!(
            invalid(JobFilter {
                source: Some(SourceMatch::Exact("s".repeat(1025))),
                ..f()
            })
            .ends_with("in a job filter is 1025 bytes; the limit is 1024")
        );
        assert_eq!(
            parse_statuses("failed,lost").unwrap_err().to_string(),
            "unknown job status 'lost' (one of: queued, running, paused, completed, failed, \
             cancelled)"
        );
        assert_eq!(
            parse_statuses("failed, cancelled").unwrap(),
            [JobStatus::Failed, JobStatus::Cancelled]
        );
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let id = "01JZ8Q3V6M0000000000000000";
        let cursor = encode_cursor(id);
        assert_eq!(decode_cursor(&cursor).unwrap(), id);
        for bad in ["", "0", "zz", "c3", "0a", "3g41"] {
            let filter = JobFilter {
                cursor: Some(bad.into()),
                ..JobFilter::default()
            };
            assert!(matches!(filter.query(), Err(Error::BadCursor(_))), "{bad}");
        }
    }

    #[test]
    fn a_trailing_star_matches_sources_by_prefix() {
        let prefix: SourceMatch = "job:*".parse().unwrap();
        assert_eq!(prefix, SourceMatch::Prefix("job:".into()));
        assert!(prefix.matches("job:01J") && !prefix.matches("cli"));
        let exact: SourceMatch = "cli".parse().unwrap();
        assert!(exact.matches("cli") && !exact.matches("cli2"));
    }

    #[test]
    fn counts_add_up_by_status_and_by_handler() {
        let count = |handler: &str, status, count| HandlerCount {
            handler: handler.into(),
            status,
            count,
        };
        let counts = JobCounts {
            by_handler: vec![
                count("a", JobStatus::Completed, 5),
                count("a", JobStatus::Failed, 1),
                count("b", JobStatus::Failed, 2),
                count("c", JobStatus::Queued, 6),
            ],
        };
        assert_eq!(
            counts.by_status(),
            [
                (JobStatus::Queued, 6),
                (JobStatus::Running, 0),
                (JobStatus::Paused, 0),
                (JobStatus::Completed, 5),
                (JobStatus::Failed, 3),
                (JobStatus::Cancelled, 0),
            ]
        );
        assert_eq!(
            counts.busiest(2),
            [("a".to_string(), 6), ("c".to_string(), 6)]
        );
    }
}

//! Job events: every insert of a job and every change of its status or progress, in the
//! durable, ordered record (`job_events`) that the store's triggers write atomically with the
//! change, whichever code path made it.
//!
//! Events are read after an [`EventCursor`] in cursor order. A backend guarantees that a
//! reader who has seen cursor `c` never later finds an event below `c`: SQLite numbers events
//! in commit order (one writer at a time); PostgreSQL returns only events of transactions
//! older than every transaction still running, ordered by (transaction, sequence).

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::{Error, JobStatus, Progress};

/// A position in the stream of job events; text form `XID-SEQ` (SQLite: XID is always 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventCursor {
    /// The writing transaction (PostgreSQL's `pg_current_xact_id()`); 0 on SQLite.
    pub xid: i64,
    /// The event's sequence number.
    pub seq: i64,
}

impl EventCursor {
    /// Before every event.
    pub const START: Self = Self { xid: 0, seq: 0 };
}

impl fmt::Display for EventCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.xid, self.seq)
    }
}

impl FromStr for EventCursor {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let bad = || Error::BadCursor(text.to_owned());
        let (xid, seq) = text.split_once('-').ok_or_else(bad)?;
        let number = |part: &str| {
            part.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0 && part.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(bad)
        };
        Ok(Self {
            xid: number(xid)?,
            seq: number(seq)?,
        })
    }
}

impl Serialize for EventCursor {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// One change of a job, as the trigger recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobEvent {
    /// Where it is in the stream.
    pub cursor: EventCursor,
    /// The job.
    pub job_id: String,
    /// The job's handler.
    pub handler: String,
    /// The job's source.
    pub source: String,
    /// The job's status after the change.
    pub status: JobStatus,
    /// The job's progress after the change.
    pub progress: Progress,
    /// When the change was made (the job's `updated_at`), Unix milliseconds.
    pub at: i64,
}

/// Which events to read; every field left `None` matches all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Events of this job only.
    pub job_id: Option<String>,
    /// Events of jobs of this handler only.
    pub handler: Option<String>,
    /// Events that moved a job to (or kept it in) this status only.
    pub status: Option<JobStatus>,
    /// Events of jobs of this source only.
    pub source: Option<String>,
}

impl EventFilter {
    /// Whether `event` passes: what a backend's read applies in SQL, for events already read.
    pub fn matches(&self, event: &JobEvent) -> bool {
        self.job_id.as_ref().is_none_or(|id| *id == event.job_id)
            && self.handler.as_ref().is_none_or(|h| *h == event.handler)
            && self.status.is_none_or(|s| s == event.status)
            && self.source.as_ref().is_none_or(|s| *s == event.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_order_by_transaction_first() {
        let cursor: EventCursor = "12-7".parse().unwrap();
        assert_eq!(cursor, EventCursor { xid: 12, seq: 7 });
        assert_eq!(cursor.to_string(), "12-7");
        assert!(EventCursor { xid: 11, seq: 90 } < cursor);
    }

    #[test]
    fn malformed_cursors_are_refused() {
        for text in [
            "",
            "7",
            "a-1",
            "1-",
            "-1-2",
            "1-+2",
            "1-2-3",
            "99999999999999999999-1",
        ] {
            assert!(
                matches!(text.parse::<EventCursor>(), Err(Error::BadCursor(_))),
                "{text}"
            );
        }
    }
}

//! Job events on SQLite ([`storage::JobEvents`]); the triggers of migration 012 write them.

use rusqlite::params;

use super::OrStorage;
use super::backend::SqliteConnection;
use super::values::sql;
use crate::pulse::Progress;
use crate::pulse::events::{EventCursor, EventFilter, JobEvent};
use crate::storage;

/// A row of `job_events_after`: seq, job, handler, source, status, progress, at.
type EventRow = (i64, String, String, String, String, i64, i64, i64);

impl storage::JobEvents for SqliteConnection {
    fn job_events_after(
        &self,
        after: EventCursor,
        filter: &EventFilter,
        limit: u32,
    ) -> storage::Result<Vec<JobEvent>> {
        let rows: Vec<EventRow> = self
            .sql()
            .prepare_cached(sql!("job_events_after"))
            .and_then(|mut s| {
                s.query_map(
                    params![
                        after.seq,
                        filter.job_id,
                        filter.handler,
                        filter.status.map(|s| s.as_str()),
                        filter.source,
                        limit
                    ],
                    |row| {
                        Ok((
                            row.get(0)?,
                            row.get(1)?,
                            row.get(2)?,
                            row.get(3)?,
                            row.get(4)?,
                            row.get(5)?,
                            row.get(6)?,
                            row.get(7)?,
                        ))
                    },
                )?
                .collect()
            })
            .or_storage()?;
        rows.into_iter()
            .map(
                |(seq, job_id, handler, source, status, current, total, at)| {
                    Ok(JobEvent {
                        cursor: EventCursor { xid: 0, seq },
                        job_id,
                        handler,
                        source,
                        status: status.parse().map_err(storage::Error::Corrupt)?,
                        progress: Progress {
                            current: u64::try_from(current).unwrap_or_default(),
                            total: u64::try_from(total).unwrap_or_default(),
                        },
                        at,
                    })
                },
            )
            .collect()
    }

    fn job_events_head(&self) -> storage::Result<EventCursor> {
        let seq = self
            .sql()
            .prepare_cached(sql!("job_events_head"))
            .and_then(|mut s| s.query_row([], |row| row.get(0)))
            .or_storage()?;
        Ok(EventCursor { xid: 0, seq })
    }
}

//! Job events on PostgreSQL ([`storage::JobEvents`]); the triggers of migration 006 write
//! them, with their transaction's id, which orders them (see the migration).

use super::PostgresConnection;
use super::jobs::values::get;
use crate::pulse::Progress;
use crate::pulse::events::{EventCursor, EventFilter, JobEvent};
use crate::storage;

impl storage::JobEvents for PostgresConnection {
    fn job_events_after(
        &self,
        after: EventCursor,
        filter: &EventFilter,
        limit: u32,
    ) -> storage::Result<Vec<JobEvent>> {
        let status = filter.status.map(|s| s.as_str());
        let rows = self.query(
            include_str!("sql/job_events_after.sql"),
            &[
                &after.xid,
                &after.seq,
                &filter.job_id,
                &filter.handler,
                &status,
                &filter.source,
                &i64::from(limit),
            ],
        )?;
        rows.iter()
            .map(|row| {
                let status: &str = get(row, 5)?;
                let current: i64 = get(row, 6)?;
                let total: i64 = get(row, 7)?;
                Ok(JobEvent {
                    cursor: EventCursor {
                        xid: get(row, 0)?,
                        seq: get(row, 1)?,
                    },
                    job_id: get(row, 2)?,
                    handler: get(row, 3)?,
                    source: get(row, 4)?,
                    status: status.parse().map_err(storage::Error::Corrupt)?,
                    progress: Progress {
                        current: u64::try_from(current).unwrap_or_default(),
                        total: u64::try_from(total).unwrap_or_default(),
                    },
                    at: get(row, 8)?,
                })
            })
            .collect()
    }

    fn job_events_head(&self) -> storage::Result<EventCursor> {
        let row = self.query_opt(include_str!("sql/job_events_head.sql"), &[])?;
        row.map_or(Ok(EventCursor::START), |row| {
            Ok(EventCursor {
                xid: get(&row, 0)?,
                seq: get(&row, 1)?,
            })
        })
    }
}

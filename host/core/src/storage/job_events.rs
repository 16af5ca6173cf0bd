//! Statements on job events, which the store's triggers write (see [`crate::pulse::events`]).

use super::Result;
use crate::pulse::events::{EventCursor, EventFilter, JobEvent};

/// Statements on job events.
pub trait JobEvents {
    /// Up to `limit` events after `after` that match `filter`, in cursor order; only events
    /// no later read can find below them (PostgreSQL: of transactions older than every
    /// running one).
    fn job_events_after(
        &self,
        after: EventCursor,
        filter: &EventFilter,
        limit: u32,
    ) -> Result<Vec<JobEvent>>;

    /// The cursor of the newest event [`JobEvents::job_events_after`] may return now;
    /// [`EventCursor::START`] when there is none.
    fn job_events_head(&self) -> Result<EventCursor>;
}

//! The node's [`AttemptIo`]: a running attempt's progress and logs, its guest's queries and its
//! tree counts, each call on a connection of a [`Pool`], never a worker's, so that a guest's
//! query does not wait for a worker's commit, nor the reverse.

use std::sync::Arc;

use super::store::{self, Lease};
use super::{AttemptIo, AttestationReader, JobTree, ProgressReport, ProgressSink};
use crate::ats;
use crate::storage::Pool;

impl AttemptIo {
    /// Every call of a running attempt on a connection of `pool`.
    pub fn pooled(pool: &Pool) -> Self {
        let pool = Arc::new(pool.clone());
        Self {
            progress: pool.clone(),
            attestations: pool.clone(),
            tree: pool,
        }
    }
}

/// A report's progress and logs in one transaction: a lost lease writes neither, and a failed
/// append cannot leave lines to be written twice by the next report.
impl ProgressSink for Pool {
    fn report(&self, lease: Lease<'_>, report: ProgressReport<'_>) -> super::Result<()> {
        self.with(|conn| {
            let tx = conn.transaction()?;
            store::update_progress(tx.store(), lease, report.progress, report.cost, report.now)?;
            store::append_logs(tx.store(), lease.id, report.logs)?;
            Ok(tx.commit()?)
        })
    }
}

impl AttestationReader for Pool {
    fn query(&self, query: &ats::Query) -> ats::Result<ats::Page> {
        self.with(|conn| ats::store::query(conn.store(), query))
    }

    fn cursor(&self, id: &str) -> ats::Result<ats::Cursor> {
        self.with(|conn| ats::store::cursor(conn.store(), id))
    }
}

impl JobTree for Pool {
    fn descendants(&self, root: &str) -> super::Result<u64> {
        self.with(|conn| store::descendants(conn.store(), root))
    }
}

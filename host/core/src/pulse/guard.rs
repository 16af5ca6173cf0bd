//! What every operation on the store shares: writes all or nothing, lease guards, and the
//! error of a transition whose guard did not match.

use super::{Error, Lease, Result};
use crate::storage::Store;

/// Run `writes` all or nothing (see [`Store::atomically`]).
pub(super) fn atomic<T>(
    store: &dyn Store,
    writes: impl FnOnce(&dyn Store) -> Result<T>,
) -> Result<T> {
    let mut writes = Some(writes);
    let mut outcome = None;
    store.atomically(&mut |tx| {
        let result = writes.take().map(|writes| writes(tx));
        let keep = matches!(result, Some(Ok(_)));
        outcome = result;
        keep
    })?;
    outcome.expect("atomically runs the writes when it begins")
}

/// `Ok` when a guarded statement matched, [`Error::LeaseLost`] when it did not.
pub(crate) fn lease_held(matched: bool, lease: Lease<'_>) -> Result<()> {
    if matched {
        return Ok(());
    }
    Err(Error::LeaseLost {
        id: lease.id.to_owned(),
        attempt: lease.attempt,
    })
}

/// Why a transition of job `id` did not match: its status, or that it does not exist.
pub(super) fn wrong_state(store: &dyn Store, id: &str, action: &'static str) -> Error {
    match store.job_get(id) {
        Ok(Some(job)) => Error::WrongState {
            id: id.to_owned(),
            status: job.status,
            action,
        },
        Ok(None) => Error::NotFound(id.to_owned()),
        Err(error) => error.into(),
    }
}

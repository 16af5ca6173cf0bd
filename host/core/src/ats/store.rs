//! Reading and writing attestations through the storage seam ([`Attestations`]).
//!
//! Functions take any store of attestations (a connection or a transaction's
//! [`crate::storage::Store`]), so a caller can make several writes, attestations and jobs
//! alike, atomic.

use super::{Attestation, Error, Page, Query, Result};
use crate::storage::Attestations;

/// Attempts at a fresh id when a generated one is taken.
const ID_ATTEMPTS: usize = 10;

/// Store a validated attestation; returns its insertion sequence number. When its id is
/// already taken, draws a new one (the stored id is written back into `attestation`).
///
/// # Errors
///
/// [`Error::IdExhausted`] after ten collisions, [`Error::Storage`] when the store fails.
pub fn insert<S: Attestations + ?Sized>(store: &S, attestation: &mut Attestation) -> Result<i64> {
    for _ in 0..ID_ATTEMPTS {
        if let Some(seq) = store.attestation_insert(attestation)? {
            return Ok(seq);
        }
        attestation.id = super::id::generate(
            &attestation.subjects[0],
            &attestation.predicates[0],
            &attestation.contexts[0],
        );
    }
    Err(Error::IdExhausted(attestation.subjects[0].clone()))
}

/// The attestation with this id.
///
/// # Errors
///
/// [`Error::NotFound`] when there is none.
pub fn get<S: Attestations + ?Sized>(store: &S, id: &str) -> Result<Attestation> {
    store
        .attestation_get(id)?
        .ok_or_else(|| Error::NotFound(id.to_owned()))
}

/// Where the attestation `id` sits in query order (see [`Attestations::attestation_cursor`]).
///
/// # Errors
///
/// [`Error::NotFound`] when no attestation has this id; [`Error::Storage`] when the store fails.
pub fn cursor<S: Attestations + ?Sized>(store: &S, id: &str) -> Result<super::Cursor> {
    store
        .attestation_cursor(id)?
        .ok_or_else(|| Error::NotFound(id.to_owned()))
}

/// One page of the attestations that match `query`, newest first: at most its limit, and
/// fewer when the page reaches [`super::MAX_PAGE_BYTES`] (at least one, though).
///
/// # Errors
///
/// [`Error::Storage`] when the store fails.
pub fn query<S: Attestations + ?Sized>(store: &S, query: &Query) -> Result<Page> {
    Ok(store.attestation_query(query)?)
}

/// Every page of `query`'s results, one statement per page, starting at its cursor. For
/// results too large for one page: the CLI prints them as they come.
pub fn pages<'s, S: Attestations + ?Sized>(store: &'s S, query: &Query) -> Pages<'s, S> {
    Pages {
        store,
        query: Some(query.clone()),
    }
}

/// The iterator of [`pages`].
pub struct Pages<'s, S: ?Sized> {
    store: &'s S,
    query: Option<Query>,
}

impl<S: Attestations + ?Sized> Iterator for Pages<'_, S> {
    type Item = Result<Page>;

    fn next(&mut self) -> Option<Self::Item> {
        let query = self.query.as_mut()?;
        match self::query(self.store, query) {
            Ok(page) => {
                match page.next_cursor {
                    Some(cursor) => query.cursor = Some(cursor),
                    None => self.query = None,
                }
                Some(Ok(page))
            }
            Err(error) => {
                self.query = None;
                Some(Err(error))
            }
        }
    }
}

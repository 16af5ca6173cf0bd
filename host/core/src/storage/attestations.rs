//! The attestation statements: storing claims with their index rows, reading them back by id,
//! by query and in commit order (the feed).

use super::Result;
use crate::ats::{Attestation, Cursor, Page, Query};

/// Attestations and the indexes that answer queries on them.
pub trait Attestations {
    /// Store a validated attestation with its index rows (one per dimension value, one per
    /// (predicate, context) pair), all or nothing; returns its insertion sequence, or `None`
    /// when its id is taken (nothing is stored then).
    fn attestation_insert(&self, attestation: &Attestation) -> Result<Option<i64>>;

    /// The attestation with this id.
    fn attestation_get(&self, id: &str) -> Result<Option<Attestation>>;

    /// Where the attestation with this id sits in query order: the cursor of the page after
    /// it.
    fn attestation_cursor(&self, id: &str) -> Result<Option<Cursor>>;

    /// One page of the attestations that match a validated `query`, newest first: at most
    /// its limit, and fewer when the page reaches [`crate::ats::MAX_PAGE_BYTES`] of text (at
    /// least one, though), with the cursor of the next page when there are more.
    fn attestation_query(&self, query: &Query) -> Result<Page>;

    /// Attestations stored after insertion sequence `seq`, oldest first, at most `limit`, each
    /// with its sequence. Sequence order is commit order, so a reader that remembers the last
    /// sequence it saw misses nothing, whichever process wrote.
    fn attestation_after(&self, seq: i64, limit: u32) -> Result<Vec<(i64, Attestation)>>;

    /// How many attestations are stored.
    fn attestation_count(&self) -> Result<u64>;

    /// The insertion sequence of the newest attestation, 0 when there is none.
    fn attestation_head(&self) -> Result<i64>;
}

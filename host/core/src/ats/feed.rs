//! The change feed: every new attestation, in commit order, with a cursor.
//!
//! A [`Feed`] remembers the insertion sequence of the last attestation it returned and asks
//! the store for the ones after it. It reads the database, not an in-process channel, so it
//! sees what other processes sharing the store wrote too. It is the one reader of new
//! attestations: the node's watchers, live handler discovery and `qntx ax --follow` poll it.

use super::{Attestation, Result};
use crate::storage::Attestations;

/// Attestations one [`Feed::poll`] returns at most.
pub const DEFAULT_BATCH: u32 = 500;

/// A position in the stream of new attestations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feed {
    cursor: i64,
    batch: u32,
}

impl Feed {
    /// A feed of attestations stored from now on.
    ///
    /// # Errors
    ///
    /// [`super::Error::Storage`] when the store fails.
    pub fn from_now<S: Attestations + ?Sized>(store: &S) -> Result<Self> {
        Ok(Self::after(store.attestation_head()?))
    }

    /// A feed of attestations stored after insertion sequence `cursor` (0: all of them).
    pub fn after(cursor: i64) -> Self {
        Self {
            cursor,
            batch: DEFAULT_BATCH,
        }
    }

    /// The same feed, returning at most `batch` attestations a poll (at least one).
    pub fn with_batch(self, batch: u32) -> Self {
        Self {
            batch: batch.max(1),
            ..self
        }
    }

    /// The insertion sequence of the last attestation returned; keep it to resume later.
    pub fn cursor(&self) -> i64 {
        self.cursor
    }

    /// The next attestations, oldest first, at most a batch; empty when there is nothing new.
    ///
    /// # Errors
    ///
    /// [`super::Error::Storage`] when the store fails; the cursor stays where it was.
    pub fn poll<S: Attestations + ?Sized>(&mut self, store: &S) -> Result<Vec<Attestation>> {
        Ok(self
            .poll_with_seq(store)?
            .into_iter()
            .map(|(_, attestation)| attestation)
            .collect())
    }

    /// [`Feed::poll`], each attestation with its insertion sequence: for a reader that may
    /// stop part way through a batch and resume after the last one it used.
    ///
    /// # Errors
    ///
    /// As [`Feed::poll`].
    pub fn poll_with_seq<S: Attestations + ?Sized>(
        &mut self,
        store: &S,
    ) -> Result<Vec<(i64, Attestation)>> {
        let rows = store.attestation_after(self.cursor, self.batch)?;
        if let Some((seq, _)) = rows.last() {
            self.cursor = *seq;
        }
        Ok(rows)
    }
}

//! Read-your-own-writes without writing: a page of stored attestations with a running
//! attempt's pending ones laid over it, in memory, exactly as the store would page them had
//! they been stored after everything else.
//!
//! The store orders by timestamp, newest first, then by insertion sequence, last first. A
//! pending attestation has no sequence yet: the `i`th one the attempt wrote pages under
//! [`PENDING_SEQ`]` + i`, above every stored one, so it sorts as the newest written of its
//! timestamp, and a cursor that ends on it stays valid while other writers commit.

use super::MAX_PAGE_BYTES;
use super::{Attestation, Cursor, Page, Query, Result};

/// The sequence number under which the first pending attestation pages (a store numbers its
/// rows from 1 and never comes near it).
pub const PENDING_SEQ: i64 = 1 << 62;

/// The page of `query` over the stored attestations and `pending` (in the order written).
/// `stored` must be the store's answer to the same `query`; `cursor_of` gives the cursor of a
/// stored attestation, asked only when the page ends on one that `stored` gives no cursor for.
///
/// # Errors
///
/// `cursor_of`'s.
pub fn overlay(
    query: &Query,
    stored: Page,
    pending: &[Attestation],
    cursor_of: impl FnOnce(&Attestation) -> Result<Cursor>,
) -> Result<Page> {
    let after_cursor = |seq: i64, attestation: &Attestation| {
        query
            .cursor
            .is_none_or(|cursor| (attestation.timestamp, seq) < (cursor.timestamp, cursor.seq))
    };
    let mut mine: Vec<(i64, &Attestation)> = pending
        .iter()
        .zip(PENDING_SEQ..)
        .map(|(attestation, seq)| (seq, attestation))
        .filter(|(seq, attestation)| query.matches(attestation) && after_cursor(*seq, attestation))
        .collect();
    if mine.is_empty() {
        return Ok(stored);
    }
    mine.sort_by(|(seq_a, a), (seq_b, b)| (b.timestamp, seq_b).cmp(&(a.timestamp, seq_a)));
    let limit = query.effective_limit() as usize;
    let stored_more = stored.next_cursor;
    let stored_len = stored.attestations.len();
    let mut stored = stored.attestations.into_iter().enumerate().peekable();
    let mut mine = mine.into_iter().peekable();
    let mut page = Page::default();
    let mut bytes = 0;
    let mut last = None;
    let mut full = false;
    loop {
        // A pending attestation is newer than every stored one of its timestamp.
        let pending_next = match (mine.peek(), stored.peek()) {
            (None, None) => break,
            (Some((_, p)), Some((_, s))) => p.timestamp >= s.timestamp,
            (Some(_), None) => true,
            (None, Some(_)) => false,
        };
        if page.attestations.len() == limit || bytes >= MAX_PAGE_BYTES {
            full = true;
            break;
        }
        let attestation = if pending_next {
            let (seq, attestation) = mine.next().expect("peeked");
            last = Some(Last::Pending(Cursor {
                timestamp: attestation.timestamp,
                seq,
            }));
            attestation.clone()
        } else {
            let (index, attestation) = stored.next().expect("peeked");
            last = Some(Last::Stored(index));
            attestation
        };
        bytes += stored_bytes(&attestation);
        page.attestations.push(attestation);
    }
    // The store's page ends where it does because it was full: with pending attestations
    // added, this page is full by the time it holds all of the store's.
    if !full && stored_more.is_none() {
        return Ok(page);
    }
    page.next_cursor = Some(match last.expect("a page holds at least one attestation") {
        Last::Pending(cursor) => cursor,
        Last::Stored(index) => match stored_more {
            Some(cursor) if index + 1 == stored_len => cursor,
            _ => cursor_of(
                page.attestations
                    .last()
                    .expect("the last one is on the page"),
            )?,
        },
    });
    Ok(page)
}

/// Where a page ended.
enum Last {
    /// On a pending attestation, at this cursor.
    Pending(Cursor),
    /// On the stored attestation at this index of the store's page.
    Stored(usize),
}

/// Bytes an attestation counts for towards [`MAX_PAGE_BYTES`], as the store counts them: its
/// stored text columns (id, the dimensions' JSON arrays, source, attributes' JSON).
fn stored_bytes(attestation: &Attestation) -> usize {
    let json = |values: &[String]| serde_json::to_string(values).map_or(0, |text| text.len());
    attestation.id.len()
        + json(&attestation.subjects)
        + json(&attestation.predicates)
        + json(&attestation.contexts)
        + json(&attestation.actors)
        + attestation.source.len()
        + serde_json::to_string(&attestation.attributes).map_or(0, |text| text.len())
}

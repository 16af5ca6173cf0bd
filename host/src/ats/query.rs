//! Queries: which attestations to read, and the cursor that pages through them.

use serde_json::Value;

use super::{Attestation, Dimension, Error, Result};

/// Page size when a query names none.
pub const DEFAULT_LIMIT: u32 = 100;
/// The largest page a query may ask for.
pub const MAX_LIMIT: u32 = 1000;

/// Which attestations to read: OR within a dimension, AND across dimensions, values compared
/// case-insensitively; newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// Any of these subjects (none: any subject).
    pub subjects: Vec<String>,
    /// Any of these predicates.
    pub predicates: Vec<String>,
    /// Any of these contexts.
    pub contexts: Vec<String>,
    /// Any of these actors.
    pub actors: Vec<String>,
    /// Claims made at or after this time, Unix milliseconds.
    pub since: Option<i64>,
    /// Claims made at or before this time, Unix milliseconds.
    pub until: Option<i64>,
    /// Written by exactly this source.
    pub source: Option<String>,
    /// Top-level attributes equal to these JSON values.
    pub attributes: Vec<(String, Value)>,
    /// Page size; 0 means [`DEFAULT_LIMIT`]; capped at [`MAX_LIMIT`].
    pub limit: u32,
    /// Continue after this position (from [`Page::next_cursor`]).
    pub cursor: Option<Cursor>,
}

/// A position in the newest-first order: strictly older than this (timestamp, seq).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// Timestamp of the last attestation returned.
    pub timestamp: i64,
    /// Insertion sequence of the last attestation returned.
    pub seq: i64,
}

impl Cursor {
    /// Parse a cursor produced by [`Cursor::encode`].
    ///
    /// # Errors
    ///
    /// [`Error::BadCursor`] for anything else.
    pub fn decode(text: &str) -> Result<Self> {
        let bad = || Error::BadCursor(text.chars().take(64).collect());
        let (timestamp, seq) = text.split_once('.').ok_or_else(bad)?;
        Ok(Self {
            timestamp: timestamp.parse().map_err(|_| bad())?,
            seq: seq.parse().map_err(|_| bad())?,
        })
    }

    /// Opaque text form.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.timestamp, self.seq)
    }
}

/// One page of results, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    /// The attestations.
    pub attestations: Vec<Attestation>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<Cursor>,
}

impl Query {
    /// The page size this query will use.
    pub fn effective_limit(&self) -> u32 {
        match self.limit {
            0 => DEFAULT_LIMIT,
            n => n.min(MAX_LIMIT),
        }
    }

    /// The value lists by dimension, in the order the planner prefers to drive by.
    pub(super) fn dimensions(&self) -> [(Dimension, &[String]); 4] {
        [
            (Dimension::Subject, &self.subjects),
            (Dimension::Predicate, &self.predicates),
            (Dimension::Context, &self.contexts),
            (Dimension::Actor, &self.actors),
        ]
    }

    /// Whether `attestation` passes every condition except the cursor and limit. The store
    /// answers the same question in SQL; this serves rows not yet stored.
    pub fn matches(&self, attestation: &Attestation) -> bool {
        let dimensions_match = self.dimensions().iter().all(|(dimension, wanted)| {
            wanted.is_empty()
                || attestation.values(*dimension).iter().any(|value| {
                    let value = fold(value);
                    wanted.iter().any(|w| fold(w) == value)
                })
        });
        dimensions_match
            && self
                .since
                .is_none_or(|since| attestation.timestamp >= since)
            && self
                .until
                .is_none_or(|until| attestation.timestamp <= until)
            && self
                .source
                .as_ref()
                .is_none_or(|source| &attestation.source == source)
            && self
                .attributes
                .iter()
                .all(|(key, value)| attestation.attributes.get(key) == Some(value))
    }
}

/// The case-folded form in which dimension values are indexed and compared.
pub fn fold(value: &str) -> String {
    value.to_lowercase()
}

//! Queries: which attestations to read, and the cursor that pages through them.

use serde_json::Value;

use super::{Attestation, Dimension, Error, Result};

/// Page size when a query names none.
pub const DEFAULT_LIMIT: u32 = 100;
/// The largest page a query may ask for.
pub const MAX_LIMIT: u32 = 1000;
/// Bytes of attestation text (values and attributes) after which a page ends early, whatever
/// its limit: a page of 1,000 attestations with 1 MiB of attributes each would be 1 GiB.
pub const MAX_PAGE_BYTES: usize = 4 << 20;
/// Values one dimension of a query may list.
pub const MAX_QUERY_VALUES: usize = 100;
/// Attribute conditions one query may have.
pub const MAX_ATTRIBUTE_CONDITIONS: usize = 16;
/// Bytes of one value, source or attribute key in a query.
const MAX_VALUE_BYTES: usize = 1024;
/// Bytes of the JSON text of one attribute condition's value.
const MAX_CONDITION_BYTES: usize = 64 * 1024;

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
    /// Check that the query is one the store answers: bounded lists, attribute keys it can
    /// address, a time range that is not reversed. The CLI and the guest host call this before
    /// asking the store, so nobody can make the node build an absurd statement.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] naming the rule that was broken.
    pub fn validate(&self) -> Result<()> {
        for (dimension, values) in self.dimensions() {
            let name = dimension.name();
            if values.len() > MAX_QUERY_VALUES {
                return Err(Error::Invalid(format!(
                    "a query lists {} {name}s; the limit is {MAX_QUERY_VALUES}",
                    values.len()
                )));
            }
            for value in values {
                bounded_text(name, value)?;
            }
        }
        if let Some(source) = &self.source {
            bounded_text("source", source)?;
        }
        if let (Some(since), Some(until)) = (self.since, self.until)
            && since > until
        {
            return Err(Error::Invalid(format!(
                "the time range is reversed: since {since} is after until {until}"
            )));
        }
        if self.attributes.len() > MAX_ATTRIBUTE_CONDITIONS {
            return Err(Error::Invalid(format!(
                "a query has {} attribute conditions; the limit is {MAX_ATTRIBUTE_CONDITIONS}",
                self.attributes.len()
            )));
        }
        for (key, value) in &self.attributes {
            bounded_text("attribute key", key)?;
            if let Some(c) = key.chars().find(|c| matches!(c, '"' | '\\')) {
                return Err(Error::Invalid(format!(
                    "attribute key '{}' contains '{c}'; keys of attribute conditions cannot",
                    key.escape_debug()
                )));
            }
            let bytes = value.to_string().len();
            if bytes > MAX_CONDITION_BYTES {
                return Err(Error::Invalid(format!(
                    "the value of attribute '{key}' is {bytes} bytes; the limit is {MAX_CONDITION_BYTES}"
                )));
            }
        }
        Ok(())
    }

    /// The page size this query will use.
    pub fn effective_limit(&self) -> u32 {
        match self.limit {
            0 => DEFAULT_LIMIT,
            n => n.min(MAX_LIMIT),
        }
    }

    /// The value lists by dimension, in the order the planner prefers to drive by.
    pub fn dimensions(&self) -> [(Dimension, &[String]); 4] {
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

fn bounded_text(what: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::Invalid(format!("an empty {what} in a query")));
    }
    if value.len() > MAX_VALUE_BYTES {
        return Err(Error::Invalid(format!(
            "{what} '{}…' in a query is {} bytes; the limit is {MAX_VALUE_BYTES}",
            value.chars().take(32).collect::<String>(),
            value.len()
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::Invalid(format!(
            "{what} '{}' in a query contains a control character",
            value.escape_debug()
        )));
    }
    Ok(())
}

/// The case-folded form in which dimension values are indexed and compared.
pub fn fold(value: &str) -> String {
    value.to_lowercase()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn invalid(query: Query) -> String {
        match query.validate() {
            Err(Error::Invalid(message)) => message,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_plain_query_is_valid() {
        Query::default().validate().unwrap();
        Query {
            subjects: vec!["a".into(); MAX_QUERY_VALUES],
            attributes: vec![("language".into(), json!("Rust")); MAX_ATTRIBUTE_CONDITIONS],
            since: Some(5),
            until: Some(5),
            ..Query::default()
        }
        .validate()
        .unwrap();
    }

    #[test]
    fn every_query_rule_has_a_clear_error() {
        let q = Query::default;
        assert_eq!(
            invalid(Query {
                actors: vec!["a".into(); 101],
                ..q()
            }),
            "a query lists 101 actors; the limit is 100"
        );
        assert_eq!(
            invalid(Query {
                contexts: vec![String::new()],
                ..q()
            }),
            "an empty context in a query"
        );
        assert!(
            invalid(Query {
                predicates: vec!["p".repeat(1025)],
                ..q()
            })
            .ends_with("in a query is 1025 bytes; the limit is 1024")
        );
        assert_eq!(
            invalid(Query {
                subjects: vec!["a\nb".into()],
                ..q()
            }),
            "subject 'a\\nb' in a query contains a control character"
        );
        assert_eq!(
            invalid(Query {
                source: Some(String::new()),
                ..q()
            }),
            "an empty source in a query"
        );
        assert_eq!(
            invalid(Query {
                since: Some(2),
                until: Some(1),
                ..q()
            }),
            "the time range is reversed: since 2 is after until 1"
        );
        assert_eq!(
            invalid(Query {
                attributes: vec![("k".into(), json!(1)); 17],
                ..q()
            }),
            "a query has 17 attribute conditions; the limit is 16"
        );
        for key in ["say \"hi\"", "back\\slash"] {
            assert!(
                invalid(Query {
                    attributes: vec![(key.into(), json!(1))],
                    ..q()
                })
                .ends_with("; keys of attribute conditions cannot"),
                "{key}"
            );
        }
        assert_eq!(
            invalid(Query {
                attributes: vec![(String::new(), json!(1))],
                ..q()
            }),
            "an empty attribute key in a query"
        );
        assert!(
            invalid(Query {
                attributes: vec![("k".into(), json!("x".repeat(70_000)))],
                ..q()
            })
            .starts_with("the value of attribute 'k' is 70002 bytes")
        );
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let cursor = Cursor {
            timestamp: -5,
            seq: 42,
        };
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        for bad in ["", "12", "a.b", "1.2.3"] {
            assert!(
                matches!(Cursor::decode(bad), Err(Error::BadCursor(_))),
                "{bad}"
            );
        }
    }
}

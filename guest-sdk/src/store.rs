//! The attestation store: record claims and read everyone's.
//!
//! Inside a job, what a handler attests becomes visible to others only when the attempt
//! succeeds; a failed attempt leaves nothing behind, so retries never duplicate writes.

use crate::bindings::qntx::plugin::store as wit;
use crate::{Filter, HostError, Value};

/// A stored claim: `subjects` `predicates` `contexts`, said by `actors`.
#[derive(Debug, Clone, PartialEq)]
pub struct Attestation {
    /// Readable unique id, e.g. `AS-ALICE-AUTHOR-GITHUB-7K4M3B9X`.
    pub id: String,
    /// What the claim is about.
    pub subjects: Vec<String>,
    /// What is said of the subjects (`["_"]` when nothing).
    pub predicates: Vec<String>,
    /// In which context (`["_"]` when none).
    pub contexts: Vec<String>,
    /// Who says it.
    pub actors: Vec<String>,
    /// When the claim was made, Unix milliseconds.
    pub timestamp: i64,
    /// What wrote it (`plugin@version` for plugins).
    pub source: String,
    /// A JSON object.
    pub attributes: Value,
    /// When the node stored it, Unix milliseconds.
    pub created_at: i64,
}

impl Attestation {
    fn from_wit(a: wit::Attestation) -> Self {
        Self {
            attributes: serde_json::from_str(&a.attributes).unwrap_or(Value::Null),
            id: a.id,
            subjects: a.subjects,
            predicates: a.predicates,
            contexts: a.contexts,
            actors: a.actors,
            timestamp: a.timestamp,
            source: a.source,
            created_at: a.created_at,
        }
    }
}

/// A claim to record. The node stamps actors with the plugin's own actor (`plugin:NAME`, or
/// `handler:NAME` for a user handler) and source with `name@version`.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    subjects: Vec<String>,
    predicates: Vec<String>,
    contexts: Vec<String>,
    timestamp: Option<i64>,
    attributes: Value,
}

impl Draft {
    /// A claim about `subject`.
    pub fn subject(subject: impl Into<String>) -> Self {
        Self {
            subjects: vec![subject.into()],
            predicates: Vec::new(),
            contexts: Vec::new(),
            timestamp: None,
            attributes: Value::Object(Default::default()),
        }
    }

    /// One more subject.
    pub fn and_subject(mut self, subject: impl Into<String>) -> Self {
        self.subjects.push(subject.into());
        self
    }

    /// Add a predicate.
    pub fn predicate(mut self, predicate: impl Into<String>) -> Self {
        self.predicates.push(predicate.into());
        self
    }

    /// Add a context.
    pub fn context(mut self, context: impl Into<String>) -> Self {
        self.contexts.push(context.into());
        self
    }

    /// When the claim was made (Unix milliseconds, 1970 to 9999); now if not set.
    pub fn at(mut self, timestamp_ms: i64) -> Self {
        self.timestamp = Some(timestamp_ms);
        self
    }

    /// Attributes: a JSON object.
    pub fn attributes(mut self, attributes: Value) -> Self {
        self.attributes = attributes;
        self
    }
}

/// Record a claim; returns it as stored (id, actors and source filled in).
///
/// # Errors
///
/// [`HostError::InvalidArgument`] for a claim that breaks the store's rules,
/// [`HostError::LimitExceeded`] past the job's write limits.
pub fn attest(draft: Draft) -> Result<Attestation, HostError> {
    let draft = wit::AttestationDraft {
        subjects: draft.subjects,
        predicates: draft.predicates,
        contexts: draft.contexts,
        actors: Vec::new(),
        timestamp: draft.timestamp,
        attributes: draft.attributes.to_string(),
    };
    wit::attest(&draft)
        .map(Attestation::from_wit)
        .map_err(HostError::from)
}

/// An attestation query, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    filter: Filter,
    since: Option<i64>,
    until: Option<i64>,
    source: Option<String>,
    attributes: Vec<(String, Value)>,
    limit: u32,
}

impl Query {
    /// Match attestations that pass `filter`.
    pub fn new(filter: Filter) -> Self {
        Self {
            filter,
            ..Self::default()
        }
    }

    /// Only claims made at or after this time (Unix milliseconds).
    pub fn since(mut self, timestamp_ms: i64) -> Self {
        self.since = Some(timestamp_ms);
        self
    }

    /// Only claims made at or before this time (Unix milliseconds).
    pub fn until(mut self, timestamp_ms: i64) -> Self {
        self.until = Some(timestamp_ms);
        self
    }

    /// Only attestations written by this source.
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Only attestations whose top-level attribute `key` equals `value`.
    pub fn attribute(mut self, key: impl Into<String>, value: Value) -> Self {
        self.attributes.push((key.into(), value));
        self
    }

    /// Page size (the node caps it; 0 means its default of 100).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }

    /// Fetch one page, starting after `cursor` (from the previous [`Page`]).
    ///
    /// # Errors
    ///
    /// [`HostError::InvalidArgument`] for a malformed query or cursor.
    pub fn page(&self, cursor: Option<String>) -> Result<Page, HostError> {
        let query = wit::AttestationQuery {
            filter: self.filter.clone().into_wit(),
            since: self.since,
            until: self.until,
            source: self.source.clone(),
            attributes: self
                .attributes
                .iter()
                .map(|(key, value)| wit::AttributeCondition {
                    key: key.clone(),
                    value: value.to_string(),
                })
                .collect(),
            limit: self.limit,
            cursor,
        };
        let page = wit::query(&query).map_err(HostError::from)?;
        Ok(Page {
            attestations: page
                .attestations
                .into_iter()
                .map(Attestation::from_wit)
                .collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// The first page: the newest matches, up to the limit.
    ///
    /// # Errors
    ///
    /// As [`Query::page`].
    pub fn first(&self) -> Result<Vec<Attestation>, HostError> {
        self.page(None).map(|page| page.attestations)
    }
}

/// One page of query results.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Newest first.
    pub attestations: Vec<Attestation>,
    /// Pass to [`Query::page`] for the next page; `None` on the last.
    pub next_cursor: Option<String>,
}

//! `qntx:plugin/store`.

use crate::ats::{self, NewAttestation};
use crate::clock::now_ms;
use crate::pulse::{self, LogLevel};
use crate::runtime::JobCtx;
use crate::runtime::bindings::store::{self, AttestationDraft, AttestationQuery, Page};
use crate::runtime::bindings::types::{AttestationFilter, HostError};

impl store::Host for JobCtx {
    fn attest(
        &mut self,
        draft: AttestationDraft,
    ) -> wasmtime::Result<Result<store::Attestation, HostError>> {
        let own = vec![self.identity.actor.clone()];
        let source = self.identity.source();
        let limit = self.limits.attestations;
        let byte_limit = self.limits.attestation_bytes;
        let Some(scope) = &mut self.scope else {
            return Ok(Err(HostError::Denied(
                "attest is available only while running a job".into(),
            )));
        };
        if scope.attestations.len() >= limit {
            return Ok(Err(HostError::LimitExceeded(format!(
                "a job attempt may write at most {limit} attestations"
            ))));
        }
        let attributes = match parse_json(&draft.attributes, "attributes") {
            Ok(value) => value,
            Err(error) => return Ok(Err(error)),
        };
        let forged = !draft.actors.is_empty() && draft.actors != own;
        let new = NewAttestation {
            subjects: draft.subjects,
            predicates: draft.predicates,
            contexts: draft.contexts,
            actors: own.clone(),
            timestamp: draft.timestamp,
            source,
            attributes,
        };
        let attestation = match new.validate(&ats::Limits::default(), now_ms()) {
            Ok(attestation) => attestation,
            Err(error) => return Ok(Err(HostError::InvalidArgument(error.to_string()))),
        };
        let bytes = attestation.text_bytes();
        if scope.attestation_bytes + bytes > byte_limit {
            return Ok(Err(HostError::LimitExceeded(format!(
                "a job attempt may write at most {} of attestations",
                crate::runtime::limits::mib(byte_limit)
            ))));
        }
        scope.attestation_bytes += bytes;
        scope.attestations.push(attestation.clone());
        if forged {
            self.log(
                LogLevel::Warn,
                "runtime",
                &format!(
                    "attestation {} asked for actors {:?}; stored as {:?}, the plugin's own identity",
                    attestation.id, draft.actors, own
                ),
            );
        }
        Ok(Ok(to_wit(attestation)))
    }

    fn query(&mut self, query: AttestationQuery) -> wasmtime::Result<Result<Page, HostError>> {
        let query = match from_wit(query) {
            Ok(query) => query,
            Err(error) => return Ok(Err(error)),
        };
        let pending = match &mut self.scope {
            Some(scope) => {
                if scope.queries >= self.limits.queries {
                    return Ok(Err(HostError::LimitExceeded(format!(
                        "a job attempt may make at most {} queries",
                        self.limits.queries
                    ))));
                }
                scope.queries += 1;
                scope
                    .attestations
                    .iter()
                    .filter(|a| query.matches(a))
                    .cloned()
                    .collect()
            }
            None => Vec::new(),
        };
        let mut conn = pulse::lock(&self.conn);
        let page = if pending.is_empty() {
            ats::store::query(&*conn, &query)?
        } else {
            // Read your own writes: answer inside a savepoint that holds this attempt's pending
            // attestations, then roll it back. Paging and ordering are exactly the store's.
            let savepoint = conn.savepoint()?;
            for mut attestation in pending {
                ats::store::insert(&*savepoint, &mut attestation)?;
            }
            let page = ats::store::query(&*savepoint, &query)?;
            drop(savepoint);
            page
        };
        Ok(Ok(Page {
            attestations: page.attestations.into_iter().map(to_wit).collect(),
            next_cursor: page.next_cursor.map(|cursor| cursor.encode()),
        }))
    }
}

fn from_wit(query: AttestationQuery) -> Result<ats::Query, HostError> {
    let AttestationFilter {
        subjects,
        predicates,
        contexts,
        actors,
    } = query.filter;
    let mut attributes = Vec::with_capacity(query.attributes.len());
    for condition in query.attributes {
        let value = parse_json(&condition.value, &format!("attribute '{}'", condition.key))?;
        attributes.push((condition.key, value));
    }
    let cursor = query
        .cursor
        .map(|text| ats::Cursor::decode(&text))
        .transpose()
        .map_err(|error| HostError::InvalidArgument(error.to_string()))?;
    let query = ats::Query {
        subjects,
        predicates,
        contexts,
        actors,
        since: query.since,
        until: query.until,
        source: query.source,
        attributes,
        limit: query.limit,
        cursor,
    };
    // Bounded lists and addressable keys: a guest cannot make the host build an absurd
    // statement. Pages are bounded by the store (limit and bytes).
    query
        .validate()
        .map_err(|error| HostError::InvalidArgument(error.to_string()))?;
    Ok(query)
}

fn to_wit(attestation: ats::Attestation) -> store::Attestation {
    store::Attestation {
        id: attestation.id,
        subjects: attestation.subjects,
        predicates: attestation.predicates,
        contexts: attestation.contexts,
        actors: attestation.actors,
        timestamp: attestation.timestamp,
        source: attestation.source,
        attributes: serde_json::Value::Object(attestation.attributes).to_string(),
        created_at: attestation.created_at,
    }
}

/// Parse guest JSON; the empty string means null.
pub(super) fn parse_json(text: &str, what: &str) -> Result<serde_json::Value, HostError> {
    if text.is_empty() {
        return Ok(serde_json::Value::Null);
    }
    serde_json::from_str(text)
        .map_err(|error| HostError::InvalidArgument(format!("{what} is not valid JSON: {error}")))
}

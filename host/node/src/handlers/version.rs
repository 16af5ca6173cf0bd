//! Handler versions as attestations: reading a handler's state and history, recording new
//! versions and removals.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{CONTEXT_REMOVED, CONTEXT_VERSION, Error, PREDICATE, SOURCE};
use crate::ats::{self, Attestation, NewAttestation, Query};
use crate::storage::Store;

/// One version of a handler, as its attestation describes it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HandlerVersion {
    /// The handler's name.
    pub name: String,
    /// sha256 of the component, hex; the key of its bytes.
    pub sha256: String,
    /// Size of the component in bytes.
    pub size: u64,
    /// `rust`, `python`, `js` or `wasm`.
    pub language: String,
    /// The source file it was built from (empty for `wasm`).
    pub source: String,
    /// The WIT world it was built for.
    pub wit_version: String,
    /// What it does.
    pub description: String,
    /// The sha256 that was current when this version was made current by a rollback.
    pub rolled_back_from: Option<String>,
    /// When it was made current, Unix milliseconds.
    pub timestamp: i64,
    /// The attestation.
    pub attestation: String,
}

/// One entry of a handler's history.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A version became current (a create or a rollback).
    Version(HandlerVersion),
    /// The handler was retired.
    Removed {
        /// The handler.
        name: String,
        /// The version that was current.
        sha256: String,
        /// When, Unix milliseconds.
        timestamp: i64,
        /// The attestation.
        attestation: String,
    },
}

impl Event {
    fn from_attestation(attestation: Attestation) -> Result<Option<Self>, Error> {
        let name = attestation.subjects[0].clone();
        let text = |attribute: &'static str| -> Result<String, Error> {
            attestation
                .attributes
                .get(attribute)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| Error::BadAttestation {
                    id: attestation.id.clone(),
                    attribute,
                })
        };
        let sha256 = text("sha256")?;
        if attestation.contexts.iter().any(|c| c == CONTEXT_REMOVED) {
            return Ok(Some(Self::Removed {
                name,
                sha256,
                timestamp: attestation.timestamp,
                attestation: attestation.id,
            }));
        }
        if !attestation.contexts.iter().any(|c| c == CONTEXT_VERSION) {
            return Ok(None);
        }
        let optional = |attribute: &str| {
            attestation
                .attributes
                .get(attribute)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        Ok(Some(Self::Version(HandlerVersion {
            size: attestation
                .attributes
                .get("size")
                .and_then(Value::as_u64)
                .ok_or_else(|| Error::BadAttestation {
                    id: attestation.id.clone(),
                    attribute: "size",
                })?,
            language: text("language")?,
            source: optional("source"),
            wit_version: optional("wit_version"),
            description: optional("description"),
            rolled_back_from: attestation
                .attributes
                .get("rolled_back_from")
                .and_then(Value::as_str)
                .map(str::to_owned),
            timestamp: attestation.timestamp,
            attestation: attestation.id,
            name,
            sha256,
        })))
    }

    /// The sha256 the event is about.
    pub fn sha256(&self) -> &str {
        match self {
            Self::Version(version) => &version.sha256,
            Self::Removed { sha256, .. } => sha256,
        }
    }
}

/// The query for handler attestations: written by the CLI, the handler its own actor.
fn query(name: Option<&str>) -> Query {
    Query {
        subjects: name.map(|n| vec![n.to_owned()]).unwrap_or_default(),
        predicates: vec![PREDICATE.to_owned()],
        source: Some(SOURCE.to_owned()),
        limit: ats::MAX_LIMIT,
        ..Query::default()
    }
}

/// Every handler attestation matching `query`, newest first, that is self-certifying: its
/// actor is `handler:NAME` for its one subject NAME, or (as older nodes wrote it) NAME itself.
fn events(store: &dyn Store, mut query: Query, first_only: bool) -> Result<Vec<Event>, Error> {
    let mut events = Vec::new();
    loop {
        let page = ats::store::query(store, &query)?;
        for attestation in page.attestations {
            let own = match attestation.subjects.as_slice() {
                [name] => {
                    attestation.actors == [ats::actor::handler(name)]
                        || attestation.actors == [name.clone()]
                }
                _ => false,
            };
            if !own {
                continue;
            }
            if let Some(event) = Event::from_attestation(attestation)? {
                events.push(event);
                if first_only {
                    return Ok(events);
                }
            }
        }
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => return Ok(events),
        }
    }
}

/// The history of handler `name`, newest first (empty if it never existed).
///
/// # Errors
///
/// [`Error::Ats`] when the store fails or [`Error::BadAttestation`] for a malformed entry.
pub fn history(store: &dyn Store, name: &str) -> Result<Vec<Event>, Error> {
    events(store, query(Some(name)), false)
}

/// The version of `name` to serve: `Ok(None)` when it was never created or was removed.
///
/// # Errors
///
/// As [`history`].
pub fn current(store: &dyn Store, name: &str) -> Result<Option<HandlerVersion>, Error> {
    Ok(match events(store, query(Some(name)), true)?.pop() {
        Some(Event::Version(version)) => Some(version),
        _ => None,
    })
}

/// The newest event of every handler, by name.
///
/// # Errors
///
/// As [`history`].
pub fn newest_of_all(store: &dyn Store) -> Result<BTreeMap<String, Event>, Error> {
    let mut newest = BTreeMap::new();
    for event in events(store, query(None), false)? {
        let name = match &event {
            Event::Version(version) => version.name.clone(),
            Event::Removed { name, .. } => name.clone(),
        };
        newest.entry(name).or_insert(event);
    }
    Ok(newest)
}

/// A version to record.
#[derive(Debug, Clone)]
pub struct NewVersion<'a> {
    /// The handler.
    pub name: &'a str,
    /// The component's sha256 (already stored).
    pub sha256: &'a str,
    /// Its size.
    pub size: u64,
    /// `rust`, `python`, `js` or `wasm`.
    pub language: &'a str,
    /// The source text (empty for `wasm`).
    pub source: &'a str,
    /// The world its component was built for (`qntx:plugin/plugin@0.1.1`).
    pub wit_version: &'a str,
    /// What it does.
    pub description: &'a str,
    /// For a rollback: the sha256 that was current.
    pub rolled_back_from: Option<&'a str>,
}

/// Record a version as the current one of its handler.
///
/// # Errors
///
/// [`Error::Ats`] when the attestation is invalid (for example, a source over the attribute
/// limit) or the store fails.
pub fn record_version(
    store: &dyn Store,
    version: &NewVersion<'_>,
    now: i64,
) -> Result<Attestation, Error> {
    let mut attributes = json!({
        "sha256": version.sha256,
        "size": version.size,
        "language": version.language,
        "source": version.source,
        "wit_version": version.wit_version,
        "description": version.description,
    });
    if let Some(from) = version.rolled_back_from {
        attributes["rolled_back_from"] = json!(from);
    }
    record(store, version.name, CONTEXT_VERSION, attributes, now)
}

/// Record that handler `name` (whose current version is `sha256`) is retired.
///
/// # Errors
///
/// [`Error::Ats`] when the store fails.
pub fn record_removal(
    store: &dyn Store,
    name: &str,
    sha256: &str,
    now: i64,
) -> Result<Attestation, Error> {
    record(
        store,
        name,
        CONTEXT_REMOVED,
        json!({ "sha256": sha256 }),
        now,
    )
}

fn record(
    store: &dyn Store,
    name: &str,
    context: &str,
    attributes: Value,
    now: i64,
) -> Result<Attestation, Error> {
    let mut attestation = NewAttestation {
        subjects: vec![name.to_owned()],
        predicates: vec![PREDICATE.to_owned()],
        contexts: vec![context.to_owned()],
        actors: vec![ats::actor::handler(name)],
        timestamp: Some(now),
        source: SOURCE.to_owned(),
        attributes,
    }
    .validate(&ats::Limits::default(), now)?;
    ats::store::insert(store, &mut attestation)?;
    Ok(attestation)
}

#[cfg(test)]
mod tests {
    use super::super::store::changed;
    use super::*;
    use crate::ats::feed::Feed;
    use crate::sqlite::{SqliteBackend, SqliteConnection};

    fn version<'a>(name: &'a str, sha256: &'a str) -> NewVersion<'a> {
        NewVersion {
            name,
            sha256,
            size: 3,
            language: "rust",
            source: "fn handle() {}",
            wit_version: crate::runtime::WORLD,
            description: "d",
            rolled_back_from: None,
        }
    }

    fn db() -> (SqliteBackend, SqliteConnection) {
        let backend = SqliteBackend::temporary().unwrap();
        let conn = backend.connection().unwrap();
        (backend, conn)
    }

    #[test]
    fn the_newest_attestation_is_the_state_and_forgeries_are_ignored() {
        let (_backend, conn) = db();
        assert_eq!(current(&conn, "h").unwrap(), None);
        record_version(&conn, &version("h", "aa"), 10).unwrap();
        record_version(&conn, &version("h", "bb"), 20).unwrap();
        assert_eq!(current(&conn, "h").unwrap().unwrap().sha256, "bb");

        // Written by someone else (a plugin's source), or with another actor: not the handler's.
        for (actor, source) in [("h", "h@123"), ("mallory", SOURCE)] {
            let mut forged = NewAttestation {
                subjects: vec!["h".into()],
                predicates: vec![PREDICATE.into()],
                contexts: vec![CONTEXT_VERSION.into()],
                actors: vec![actor.into()],
                timestamp: Some(30),
                source: source.into(),
                attributes: json!({ "sha256": "ee", "size": 1, "language": "wasm" }),
            }
            .validate(&ats::Limits::default(), 30)
            .unwrap();
            ats::store::insert(&conn, &mut forged).unwrap();
        }
        assert_eq!(current(&conn, "h").unwrap().unwrap().sha256, "bb");

        record_removal(&conn, "h", "bb", 40).unwrap();
        assert_eq!(current(&conn, "h").unwrap(), None);
        let history = history(&conn, "h").unwrap();
        let shas: Vec<&str> = history.iter().map(Event::sha256).collect();
        assert_eq!(shas, ["bb", "bb", "aa"]);
        assert!(matches!(history[0], Event::Removed { .. }));

        record_version(
            &conn,
            &NewVersion {
                rolled_back_from: Some("bb"),
                ..version("h", "aa")
            },
            50,
        )
        .unwrap();
        let now = current(&conn, "h").unwrap().unwrap();
        assert_eq!(
            (now.sha256.as_str(), now.rolled_back_from.as_deref()),
            ("aa", Some("bb"))
        );
        record_version(&conn, &version("other", "cc"), 60).unwrap();
        let all = newest_of_all(&conn).unwrap();
        assert_eq!(all.keys().collect::<Vec<_>>(), ["h", "other"]);
    }

    #[test]
    fn the_change_poll_reports_handler_subjects_after_a_position() {
        let (_backend, conn) = db();
        let mut feed = Feed::from_now(&conn).unwrap();
        let start = feed.cursor();
        record_version(&conn, &version("h", "aa"), 10).unwrap();
        let names = changed(&conn, &mut feed).unwrap();
        let last = feed.cursor();
        assert_eq!(names, ["h"]);
        assert!(last > start);
        assert_eq!(
            (changed(&conn, &mut feed).unwrap(), feed.cursor()),
            (Vec::<String>::new(), last)
        );
    }
}

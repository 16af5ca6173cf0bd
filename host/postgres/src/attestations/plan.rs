//! The statement that answers a [`Query`] on PostgreSQL: the same index walks as the SQLite
//! backend's planner, so that the same query gives the same pages with the same cursors.
//!
//! Every plan walks one index newest first and stops at the page's limit:
//! - a query naming subjects walks `attestation_values` for those subjects;
//! - else one naming predicates and contexts walks `attestation_pairs`;
//! - else the first named dimension among predicates, contexts and actors;
//! - else `attestations_by_time` (or `attestations_by_source`, which the server picks for a
//!   source).
//!
//! A walk reads only keys (timestamp, seq), newest first, `LIMIT fetch`: with several values
//! (`ALICE BOB is author`) each value gets its own walk, up to [`MAX_BRANCHES`], and their keys
//! are merged by a `UNION` (which also removes an attestation met by two walks) before the
//! page's rows are joined; past that one walk reads every value's rows (`= ANY`) and sorts
//! them. Either way at most `fetch` keys per walk are read, however large the store.
//! Conditions on the other dimensions are probes of `attestation_values`' primary key.

use tokio_postgres::types::ToSql;

use crate::ats::{Dimension, Query, fold};

/// Most separate index walks one statement merges (as SQLite's planner).
pub(super) const MAX_BRANCHES: usize = 32;

/// Which index a query walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Driver {
    /// `attestation_values` for one dimension.
    Values(Dimension),
    /// `attestation_pairs`, the (predicate, context) index.
    Pairs,
    /// The time (or source) index of `attestations`.
    Time,
}

/// A statement and its arguments.
pub(super) struct Plan {
    pub(super) sql: String,
    args: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Plan {
    /// The arguments, as the client takes them.
    pub(super) fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.args
            .iter()
            .map(|arg| arg.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

/// The index `query` walks: its subjects, else its (predicate, context) pairs, else its first
/// named dimension, else time.
pub(super) fn driver(query: &Query) -> Driver {
    if !query.subjects.is_empty() {
        Driver::Values(Dimension::Subject)
    } else if !query.predicates.is_empty() && !query.contexts.is_empty() {
        Driver::Pairs
    } else if let Some((dimension, _)) = query
        .dimensions()
        .into_iter()
        .find(|(_, values)| !values.is_empty())
    {
        Driver::Values(dimension)
    } else {
        Driver::Time
    }
}

/// The statement that reads up to `fetch` rows of `query`'s results, newest first. Result
/// columns: seq, id, subjects, predicates, contexts, actors, timestamp, source, attributes,
/// created_at.
pub(super) fn plan(query: &Query, fetch: u32) -> Plan {
    let mut args = Args::default();
    let driver = driver(query);
    // Source and attribute conditions read the attestation's row; the others only index rows.
    let reads_row = query.source.is_some() || !query.attributes.is_empty();
    let (from, t, s) = match driver {
        Driver::Values(_) if reads_row => (
            "attestation_values v JOIN attestations a ON a.seq = v.seq",
            "v.timestamp",
            "v.seq",
        ),
        Driver::Values(_) => ("attestation_values v", "v.timestamp", "v.seq"),
        Driver::Pairs if reads_row => (
            "attestation_pairs v JOIN attestations a ON a.seq = v.seq",
            "v.timestamp",
            "v.seq",
        ),
        Driver::Pairs => ("attestation_pairs v", "v.timestamp", "v.seq"),
        Driver::Time => ("attestations a", "a.timestamp", "a.seq"),
    };
    // Each branch is the driver's index condition for some of the wanted values.
    let branches: Vec<String> = match driver {
        Driver::Values(dimension) => {
            let values = query.dimensions()[dimension as usize].1;
            if values.len() > MAX_BRANCHES {
                vec![format!(
                    "v.dimension = {} AND v.value = ANY({})",
                    dimension as i16,
                    args.folded(values)
                )]
            } else {
                values
                    .iter()
                    .map(|value| {
                        format!(
                            "v.dimension = {} AND v.value = {}",
                            dimension as i16,
                            args.text(fold(value))
                        )
                    })
                    .collect()
            }
        }
        Driver::Pairs => {
            let (predicates, contexts) = (&query.predicates, &query.contexts);
            if predicates.len() * contexts.len() > MAX_BRANCHES {
                vec![format!(
                    "v.predicate = ANY({}) AND v.context = ANY({})",
                    args.folded(predicates),
                    args.folded(contexts)
                )]
            } else {
                let mut branches = Vec::new();
                for predicate in predicates {
                    for context in contexts {
                        branches.push(format!(
                            "v.predicate = {} AND v.context = {}",
                            args.text(fold(predicate)),
                            args.text(fold(context))
                        ));
                    }
                }
                branches
            }
        }
        Driver::Time => vec![String::new()],
    };
    // One walk may meet an attestation once per wanted value it has.
    let distinct = branches.len() == 1
        && match driver {
            Driver::Values(dimension) => query.dimensions()[dimension as usize].1.len() > 1,
            Driver::Pairs => query.predicates.len() * query.contexts.len() > 1,
            Driver::Time => false,
        };

    let mut conditions = Vec::new();
    for (dimension, values) in query.dimensions() {
        let covered = match driver {
            Driver::Values(driving) => driving == dimension,
            Driver::Pairs => matches!(dimension, Dimension::Predicate | Dimension::Context),
            Driver::Time => false,
        };
        if values.is_empty() || covered {
            continue;
        }
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM attestation_values x WHERE x.dimension = {} \
             AND x.value = ANY({}) AND x.timestamp = {t} AND x.seq = {s})",
            dimension as i16,
            args.folded(values)
        ));
    }
    if let Some(since) = query.since {
        conditions.push(format!("{t} >= {}", args.int(since)));
    }
    if let Some(until) = query.until {
        conditions.push(format!("{t} <= {}", args.int(until)));
    }
    if let Some(source) = &query.source {
        conditions.push(format!("a.source = {}", args.text(source.clone())));
    }
    for (key, value) in &query.attributes {
        // The stored attributes and the wanted value are both serde_json's text, and `json`
        // (unlike `jsonb`) returns a member's text as written: equal text is what SQLite's
        // comparison of JSON type and value accepts (5 is not 5.0, "5" is not 5).
        conditions.push(format!(
            "(a.attributes::json -> {})::text = {}",
            args.text(key.clone()),
            args.text(value.to_string())
        ));
    }
    if let Some(cursor) = query.cursor {
        conditions.push(format!(
            "({t}, {s}) < ({}, {})",
            args.int(cursor.timestamp),
            args.int(cursor.seq)
        ));
    }

    let limit = args.int(i64::from(fetch));
    let walk = |branch: &String| {
        let mut all: Vec<&str> = Vec::with_capacity(conditions.len() + 1);
        if !branch.is_empty() {
            all.push(branch);
        }
        all.extend(conditions.iter().map(String::as_str));
        let mut sql = format!(
            "SELECT {}{t} AS timestamp, {s} AS seq FROM {from}",
            if distinct { "DISTINCT " } else { "" }
        );
        if !all.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&all.join(" AND "));
        }
        sql.push_str(&format!(" ORDER BY 1 DESC, 2 DESC LIMIT {limit}"));
        sql
    };
    let keys: Vec<String> = branches.iter().map(|b| format!("({})", walk(b))).collect();
    // The page's rows, one primary-key probe per key: `LIMIT 1` keeps the subquery a probe
    // (the server would otherwise consider joining the keys to the whole table).
    let sql = format!(
        "SELECT a.* FROM ({}) k CROSS JOIN LATERAL (\
         SELECT a.seq, a.id, a.subjects, a.predicates, a.contexts, a.actors, a.timestamp, \
         a.source, a.attributes, a.created_at FROM attestations a WHERE a.seq = k.seq LIMIT 1\
         ) a ORDER BY k.timestamp DESC, k.seq DESC LIMIT {limit}",
        keys.join(" UNION ")
    );
    Plan {
        sql,
        args: args.values,
    }
}

/// Numbered statement arguments, so that every branch can share the conditions' arguments.
#[derive(Default)]
struct Args {
    values: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Args {
    fn push(&mut self, value: Box<dyn ToSql + Sync + Send>, cast: &str) -> String {
        self.values.push(value);
        format!("${}::{cast}", self.values.len())
    }

    fn int(&mut self, value: i64) -> String {
        self.push(Box::new(value), "bigint")
    }

    fn text(&mut self, value: String) -> String {
        self.push(Box::new(value), "text")
    }

    fn folded(&mut self, values: &[String]) -> String {
        let folded: Vec<String> = values.iter().map(|value| fold(value)).collect();
        self.push(Box::new(folded), "text[]")
    }
}

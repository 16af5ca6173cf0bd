//! The statement that answers a [`Query`]: which index drives it, and the conditions on top.
//!
//! Every plan walks one index newest first and stops at the page's limit, so a page costs the
//! same on a small store and on a large one as long as the conditions on top are selective:
//! - a query naming subjects walks `attestation_values` for those subjects (subjects are the
//!   most selective dimension in practice);
//! - else one naming predicates and contexts walks `attestation_pairs`, the (predicate, context)
//!   index, so "author of github" never probes the contexts of every "author";
//! - else the first named dimension among predicates, contexts and actors;
//! - else the time index of `attestations`.
//!
//! With several values (`ALICE BOB is author`), each value gets its own index walk and SQLite
//! merges the walks in order (a compound `UNION`, which also removes duplicates), up to
//! [`MAX_BRANCHES`] walks; past that one walk reads every value's rows and sorts them.
//! Conditions on the other dimensions are primary-key probes of `attestation_values`.

use rusqlite::types::Value as SqlValue;

use crate::ats::{Dimension, Query, fold};

/// Most separate index walks one statement merges.
pub(super) const MAX_BRANCHES: usize = 32;

/// Which index a query walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Driver {
    /// `attestation_values` for one dimension.
    Values(Dimension),
    /// `attestation_pairs`, the (predicate, context) index.
    Pairs,
    /// The time index of `attestations`.
    Time,
}

/// A statement and its arguments.
pub(super) struct Plan {
    pub(super) sql: String,
    pub(super) args: Vec<SqlValue>,
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
    let (from, t, s) = match driver {
        Driver::Values(_) => (
            "attestation_values v JOIN attestations a ON a.seq = v.seq",
            "v.timestamp",
            "v.seq",
        ),
        Driver::Pairs => (
            "attestation_pairs v JOIN attestations a ON a.seq = v.seq",
            "v.timestamp",
            "v.seq",
        ),
        Driver::Time => ("attestations a", "a.timestamp", "a.seq"),
    };
    // Each branch is the driver's index condition for some of the wanted values.
    let branches: Vec<String> = match driver {
        Driver::Values(dimension) => {
            let values = query.dimensions()[dimension as usize].1;
            let condition = |args: &mut Args, values: &[String]| {
                format!(
                    "v.dimension = {} AND v.value IN ({})",
                    dimension as i64,
                    args.folded(values)
                )
            };
            if values.len() > MAX_BRANCHES {
                vec![condition(&mut args, values)]
            } else {
                values
                    .iter()
                    .map(|value| condition(&mut args, std::slice::from_ref(value)))
                    .collect()
            }
        }
        Driver::Pairs => {
            let (predicates, contexts) = (&query.predicates, &query.contexts);
            if predicates.len() * contexts.len() > MAX_BRANCHES {
                vec![format!(
                    "v.predicate IN ({}) AND v.context IN ({})",
                    args.folded(predicates),
                    args.folded(contexts)
                )]
            } else {
                let mut branches = Vec::new();
                for predicate in predicates {
                    for context in contexts {
                        branches.push(format!(
                            "v.predicate = {} AND v.context = {}",
                            args.push(SqlValue::Text(fold(predicate))),
                            args.push(SqlValue::Text(fold(context)))
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
             AND x.value IN ({}) AND x.timestamp = a.timestamp AND x.seq = a.seq)",
            dimension as i64,
            args.folded(values)
        ));
    }
    if let Some(since) = query.since {
        conditions.push(format!("{t} >= {}", args.push(SqlValue::Integer(since))));
    }
    if let Some(until) = query.until {
        conditions.push(format!("{t} <= {}", args.push(SqlValue::Integer(until))));
    }
    if let Some(source) = &query.source {
        conditions.push(format!(
            "a.source = {}",
            args.push(SqlValue::Text(source.clone()))
        ));
    }
    for (key, value) in &query.attributes {
        // `Query::validate` refuses keys with `"` or `\`, which would end the quoted path.
        let path = args.push(SqlValue::Text(format!("$.\"{key}\"")));
        let value = args.push(SqlValue::Text(value.to_string()));
        conditions.push(format!(
            "json_type(a.attributes, {path}) IS json_type({value}) \
             AND (a.attributes ->> {path}) IS ({value} ->> '$')"
        ));
    }
    if let Some(cursor) = query.cursor {
        let timestamp = args.push(SqlValue::Integer(cursor.timestamp));
        let seq = args.push(SqlValue::Integer(cursor.seq));
        conditions.push(format!("({t}, {s}) < ({timestamp}, {seq})"));
    }

    let select = |branch: &String| {
        let mut all: Vec<&str> = Vec::with_capacity(conditions.len() + 1);
        if !branch.is_empty() {
            all.push(branch);
        }
        all.extend(conditions.iter().map(String::as_str));
        let mut sql = format!(
            "SELECT {}{s}, a.id, a.subjects, a.predicates, a.contexts, a.actors, {t}, \
             a.source, a.attributes, a.created_at FROM {from}",
            if distinct { "DISTINCT " } else { "" }
        );
        if !all.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&all.join(" AND "));
        }
        sql
    };
    let limit = args.push(SqlValue::Integer(i64::from(fetch)));
    let sql = if branches.len() == 1 {
        format!(
            "{} ORDER BY {t} DESC, {s} DESC LIMIT {limit}",
            select(&branches[0])
        )
    } else {
        // A compound SELECT with ORDER BY runs its branches as coroutines, each in index order,
        // and merges them, so the LIMIT still stops the walks early.
        let union: Vec<String> = branches.iter().map(select).collect();
        format!(
            "{} ORDER BY 7 DESC, 1 DESC LIMIT {limit}",
            union.join(" UNION ")
        )
    };
    Plan {
        sql,
        args: args.values,
    }
}

/// Numbered statement arguments, so that every branch can share the conditions' arguments.
#[derive(Default)]
struct Args {
    values: Vec<SqlValue>,
}

impl Args {
    fn push(&mut self, value: SqlValue) -> String {
        self.values.push(value);
        format!("?{}", self.values.len())
    }

    fn folded(&mut self, values: &[String]) -> String {
        values
            .iter()
            .map(|value| self.push(SqlValue::Text(fold(value))))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

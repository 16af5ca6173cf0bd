//! The attestation statements on PostgreSQL: the rows and their index rows in one statement,
//! queries planned per shape (`plan.rs`: the same walks as SQLite's, so the same pages) and
//! the feed in commit order.
//!
//! # The feed is in commit order
//!
//! A reader of the feed remembers the last sequence it saw and asks for the rows after it
//! ([`Attestations::attestation_after`]). On PostgreSQL a sequence value is drawn when a row is
//! inserted, not when its transaction commits: left alone, a transaction could draw 10, another
//! draw 11 and commit first, and a reader that saw 11 would never look at 10 again. So every
//! transaction that inserts attestations first takes one transaction-level advisory lock,
//! [`FEED`], and only then draws its sequence values. It holds the lock until it commits or
//! rolls back, and the server makes a commit visible before it releases the transaction's
//! locks; so a transaction that draws a value has seen every smaller value committed (or
//! rolled back, leaving a gap the feed skips). Sequence order is commit order.
//!
//! The lock is held from a transaction's first attestation to its commit: attempts' writes
//! land in one transaction at completion, so that is brief. A transaction that also names
//! other keys ([`storage::Store::exclusive`]) names them before its first attestation, so that
//! two transactions never wait for each other's keys. Rows inserted without the lock (`qntx db
//! copy`, which copies explicit sequences into an idle database) are the one exception.

mod plan;

use serde_json::Value;
use tokio_postgres::Row;

use super::PostgresConnection;
use super::error::OrStorage;
use crate::ats::{self, Attestation, Cursor, Dimension, Page, Query, fold};
use crate::storage::{self, Attestations, Store};

macro_rules! sql {
    ($name:literal) => {
        include_str!(concat!("../sql/", $name, ".sql"))
    };
}

/// The key every transaction inserting attestations holds until it ends (see the module's
/// documentation): sequence order is then commit order.
pub(crate) const FEED: &str = "ats:feed";

/// The columns every statement reading attestations returns, in order.
const SEQ: usize = 0;
const ID: usize = 1;
const SUBJECTS: usize = 2;
const TIMESTAMP: usize = 6;
const SOURCE: usize = 7;
const ATTRIBUTES: usize = 8;
const CREATED_AT: usize = 9;

impl Attestations for PostgresConnection {
    fn attestation_insert(&self, attestation: &Attestation) -> storage::Result<Option<i64>> {
        if !self.in_transaction() {
            // The lock is a transaction's: outside one, the insert gets one of its own.
            return self.atomic(|conn| conn.attestation_insert(attestation));
        }
        self.exclusive(FEED)?;
        let seq = insert_rows(self, attestation)?;
        if seq.is_some() {
            self.changed()?;
        }
        Ok(seq)
    }

    fn attestation_get(&self, id: &str) -> storage::Result<Option<Attestation>> {
        self.query_opt(sql!("attestation_get"), &[&id])?
            .map(|row| from_row(&row).map(|(_, attestation, _)| attestation))
            .transpose()
    }

    fn attestation_cursor(&self, id: &str) -> storage::Result<Option<Cursor>> {
        self.query_opt(sql!("attestation_cursor"), &[&id])?
            .map(|row| {
                Ok(Cursor {
                    timestamp: row.try_get(0).or_storage()?,
                    seq: row.try_get(1).or_storage()?,
                })
            })
            .transpose()
    }

    fn attestation_query(&self, query: &Query) -> storage::Result<Page> {
        let limit = query.effective_limit() as usize;
        let plan = plan::plan(query, query.effective_limit() + 1);
        let rows = self.query_planned(&plan.sql, &plan.params())?;
        let mut page = Page::default();
        let mut page_bytes = 0;
        let mut last = None;
        for row in &rows {
            if page.attestations.len() == limit || page_bytes >= ats::MAX_PAGE_BYTES {
                page.next_cursor = last;
                break;
            }
            let (seq, attestation, bytes) = from_row(row)?;
            page_bytes += bytes;
            last = Some(Cursor {
                timestamp: attestation.timestamp,
                seq,
            });
            page.attestations.push(attestation);
        }
        Ok(page)
    }

    fn attestation_after(&self, seq: i64, limit: u32) -> storage::Result<Vec<(i64, Attestation)>> {
        self.query(sql!("attestation_after"), &[&seq, &i64::from(limit)])?
            .iter()
            .map(|row| from_row(row).map(|(seq, attestation, _)| (seq, attestation)))
            .collect()
    }

    fn attestation_count(&self) -> storage::Result<u64> {
        let count: i64 = self
            .query_one(sql!("attestation_count"), &[])?
            .try_get(0)
            .or_storage()?;
        Ok(count.unsigned_abs())
    }

    fn attestation_head(&self) -> storage::Result<i64> {
        self.query_one(sql!("attestation_head"), &[])?
            .try_get(0)
            .or_storage()
    }
}

/// The row and its index rows, in one statement; `None` when the id is taken.
fn insert_rows(
    conn: &PostgresConnection,
    attestation: &Attestation,
) -> storage::Result<Option<i64>> {
    let json = |values: &[String]| serde_json::to_string(values).expect("strings serialize");
    // Folded values may coincide ("Alice", "alice"): one index row each, as SQLite keeps.
    let mut values = std::collections::BTreeSet::new();
    for dimension in [
        Dimension::Subject,
        Dimension::Predicate,
        Dimension::Context,
        Dimension::Actor,
    ] {
        for value in attestation.values(dimension) {
            values.insert((dimension as i16, fold(value)));
        }
    }
    let (dimensions, values): (Vec<i16>, Vec<String>) = values.into_iter().unzip();
    let mut pairs = std::collections::BTreeSet::new();
    for predicate in &attestation.predicates {
        for context in &attestation.contexts {
            pairs.insert((fold(predicate), fold(context)));
        }
    }
    let (predicates, contexts): (Vec<String>, Vec<String>) = pairs.into_iter().unzip();
    let attributes = Value::Object(attestation.attributes.clone()).to_string();
    let row = conn.query_opt(
        sql!("attestation_insert"),
        &[
            &attestation.id,
            &json(&attestation.subjects),
            &json(&attestation.predicates),
            &json(&attestation.contexts),
            &json(&attestation.actors),
            &attestation.timestamp,
            &attestation.source,
            &attributes,
            &attestation.created_at,
            &dimensions,
            &values,
            &predicates,
            &contexts,
        ],
    )?;
    row.map(|row| row.try_get(0).or_storage()).transpose()
}

/// An attestation from the columns every reading statement returns, with its sequence and the
/// bytes of its text (what [`ats::MAX_PAGE_BYTES`] counts: id, values, source, attributes).
fn from_row(row: &Row) -> storage::Result<(i64, Attestation, usize)> {
    let text = |index: usize| -> storage::Result<&str> { row.try_get(index).or_storage() };
    let mut bytes = 0;
    let mut list = |index: usize| -> storage::Result<Vec<String>> {
        let column = text(index)?;
        bytes += column.len();
        match json(column)? {
            Value::Array(values) => values
                .into_iter()
                .map(|value| match value {
                    Value::String(text) => Ok(text),
                    other => Err(corrupt(format!("{other} is not a string"))),
                })
                .collect(),
            other => Err(corrupt(format!("{other} is not an array"))),
        }
    };
    let subjects = list(SUBJECTS)?;
    let predicates = list(SUBJECTS + 1)?;
    let contexts = list(SUBJECTS + 2)?;
    let actors = list(SUBJECTS + 3)?;
    let (id, source, attributes) = (text(ID)?, text(SOURCE)?, text(ATTRIBUTES)?);
    bytes += id.len() + source.len() + attributes.len();
    let attributes = match json(attributes)? {
        Value::Object(map) => map,
        other => return Err(corrupt(format!("{other} is not an object"))),
    };
    Ok((
        row.try_get(SEQ).or_storage()?,
        Attestation {
            id: id.to_owned(),
            subjects,
            predicates,
            contexts,
            actors,
            timestamp: row.try_get(TIMESTAMP).or_storage()?,
            source: source.to_owned(),
            attributes,
            created_at: row.try_get(CREATED_AT).or_storage()?,
        },
        bytes,
    ))
}

/// A JSON column, parsed through `Value`'s `FromStr` (see the SQLite backend for why not a
/// generic `from_str`).
fn json(text: &str) -> storage::Result<Value> {
    text.parse::<Value>()
        .map_err(|e| corrupt(format!("an attestation column is not JSON: {e}")))
}

fn corrupt(message: String) -> storage::Error {
    storage::Error::Corrupt(format!("a stored attestation: {message}"))
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod feed_tests;

//! The only code that reads or writes attestation rows.
//!
//! Functions take a [`Connection`] (a [`rusqlite::Transaction`] derefs to one), so a caller can
//! make several writes, attestations and jobs alike, atomic.
//!
//! Queries are built per shape (`store/plan.rs`): each walks one index newest first, so a
//! page costs about the same on a small store as on a large one.

mod plan;

use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use serde_json::Value;

pub use plan::{Driver, MAX_BRANCHES, driver};

use super::query::fold;
use super::{Attestation, Cursor, Dimension, Error, Page, Query, Result};

const INSERT: &str = include_str!("sql/attestation_insert.sql");
const INSERT_VALUE: &str = include_str!("sql/attestation_value_insert.sql");
const INSERT_PAIR: &str = include_str!("sql/attestation_pair_insert.sql");
const GET: &str = include_str!("sql/attestation_get.sql");
const AFTER: &str = include_str!("sql/attestation_after.sql");
const HEAD: &str = include_str!("sql/attestation_head.sql");

/// Attempts at a fresh id when a generated one is taken.
const ID_ATTEMPTS: usize = 10;

/// Store a validated attestation; returns its insertion sequence number. When its id is
/// already taken, draws a new one (the stored id is written back into `attestation`).
///
/// # Errors
///
/// [`Error::IdExhausted`] after ten collisions, [`Error::Sqlite`] on database failure.
pub fn insert(conn: &Connection, attestation: &mut Attestation) -> Result<i64> {
    let json = |values: &[String]| serde_json::to_string(values).expect("strings serialize");
    let mut insert = conn.prepare_cached(INSERT)?;
    let mut seq = None;
    for _ in 0..ID_ATTEMPTS {
        seq = insert
            .query_row(
                params![
                    attestation.id,
                    json(&attestation.subjects),
                    json(&attestation.predicates),
                    json(&attestation.contexts),
                    json(&attestation.actors),
                    attestation.timestamp,
                    attestation.source,
                    serde_json::Value::Object(attestation.attributes.clone()).to_string(),
                    attestation.created_at,
                ],
                |row| row.get::<_, i64>(0),
            )
            .optional()?;
        if seq.is_some() {
            break;
        }
        attestation.id = super::id::generate(
            &attestation.subjects[0],
            &attestation.predicates[0],
            &attestation.contexts[0],
        );
    }
    let seq = seq.ok_or_else(|| Error::IdExhausted(attestation.subjects[0].clone()))?;
    let mut insert_value = conn.prepare_cached(INSERT_VALUE)?;
    for dimension in [
        Dimension::Subject,
        Dimension::Predicate,
        Dimension::Context,
        Dimension::Actor,
    ] {
        for value in attestation.values(dimension) {
            insert_value.execute(params![
                dimension as i64,
                fold(value),
                attestation.timestamp,
                seq
            ])?;
        }
    }
    let mut insert_pair = conn.prepare_cached(INSERT_PAIR)?;
    for predicate in &attestation.predicates {
        for context in &attestation.contexts {
            insert_pair.execute(params![
                fold(predicate),
                fold(context),
                attestation.timestamp,
                seq
            ])?;
        }
    }
    Ok(seq)
}

/// The attestation with this id.
///
/// # Errors
///
/// [`Error::NotFound`] when there is none.
pub fn get(conn: &Connection, id: &str) -> Result<Attestation> {
    conn.prepare_cached(GET)?
        .query_row([id], |row| from_row(row).map(|(_, a)| a))
        .optional()?
        .ok_or_else(|| Error::NotFound(id.to_owned()))
}

/// Bytes of attestation text (values and attributes) after which a page ends early, whatever
/// its limit: a page of 1,000 attestations with 1 MiB of attributes each would be 1 GiB.
pub const MAX_PAGE_BYTES: usize = 4 << 20;

/// One page of the attestations that match `query`, newest first: at most its limit, and
/// fewer when the page reaches [`MAX_PAGE_BYTES`] (at least one, though). The statement
/// walks the index [`driver`] picks, newest first, and stops at the limit.
///
/// # Errors
///
/// [`Error::Sqlite`] on database failure.
pub fn query(conn: &Connection, query: &Query) -> Result<Page> {
    let limit = query.effective_limit() as usize;
    let plan = plan::plan(query, query.effective_limit() + 1);
    let mut statement = conn.prepare_cached(&plan.sql)?;
    let rows = statement.query_map(params_from_iter(plan.args), |row| {
        let bytes: usize = (1..=8)
            .filter_map(|i| row.get_ref(i).ok()?.as_str().ok().map(str::len))
            .sum();
        from_row(row).map(|(seq, attestation)| (seq, attestation, bytes))
    })?;
    let mut page = Page::default();
    let mut page_bytes = 0;
    let mut last = None;
    for row in rows {
        let (seq, attestation, bytes) = row?;
        if page.attestations.len() == limit || page_bytes >= MAX_PAGE_BYTES {
            page.next_cursor = last;
            break;
        }
        page_bytes += bytes;
        last = Some(Cursor {
            timestamp: attestation.timestamp,
            seq,
        });
        page.attestations.push(attestation);
    }
    Ok(page)
}

/// Every page of `query`'s results, one statement per page, starting at its cursor. For
/// results too large for one page: the CLI prints them as they come.
pub fn pages<'c>(conn: &'c Connection, query: &Query) -> Pages<'c> {
    Pages {
        conn,
        query: Some(query.clone()),
    }
}

/// The iterator of [`pages`].
pub struct Pages<'c> {
    conn: &'c Connection,
    query: Option<Query>,
}

impl Iterator for Pages<'_> {
    type Item = Result<Page>;

    fn next(&mut self) -> Option<Self::Item> {
        let query = self.query.as_mut()?;
        match self::query(self.conn, query) {
            Ok(page) => {
                match page.next_cursor {
                    Some(cursor) => query.cursor = Some(cursor),
                    None => self.query = None,
                }
                Some(Ok(page))
            }
            Err(error) => {
                self.query = None;
                Some(Err(error))
            }
        }
    }
}

/// Attestations stored after insertion sequence `seq`, oldest first, at most `limit`: the
/// change feed. Sequence order is commit order (SQLite has one writer at a time), so a reader
/// that remembers the last sequence it saw misses nothing, whichever process wrote.
///
/// # Errors
///
/// [`Error::Sqlite`] on database failure.
pub fn after(conn: &Connection, seq: i64, limit: u32) -> Result<Vec<(i64, Attestation)>> {
    Ok(conn
        .prepare_cached(AFTER)?
        .query_map(params![seq, limit], from_row)?
        .collect::<rusqlite::Result<_>>()?)
}

/// The insertion sequence of the newest attestation, 0 when there is none.
///
/// # Errors
///
/// [`Error::Sqlite`] on database failure.
pub fn head(conn: &Connection) -> Result<i64> {
    Ok(conn.prepare_cached(HEAD)?.query_row([], |row| row.get(0))?)
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<(i64, Attestation)> {
    let list = |index: usize| -> rusqlite::Result<Vec<String>> {
        match json(row, index)? {
            Value::Array(values) => values
                .into_iter()
                .map(|value| match value {
                    Value::String(text) => Ok(text),
                    other => Err(malformed(index, format!("{other} is not a string"))),
                })
                .collect(),
            other => Err(malformed(index, format!("{other} is not an array"))),
        }
    };
    let attributes = match json(row, 8)? {
        Value::Object(map) => map,
        other => return Err(malformed(8, format!("{other} is not an object"))),
    };
    Ok((
        row.get(0)?,
        Attestation {
            id: row.get(1)?,
            subjects: list(2)?,
            predicates: list(3)?,
            contexts: list(4)?,
            actors: list(5)?,
            timestamp: row.get(6)?,
            source: row.get(7)?,
            attributes,
            created_at: row.get(9)?,
        },
    ))
}

/// A JSON column. Parsed through `Value`'s `FromStr`, which serde_json compiles itself: a
/// generic `from_str::<T>` would be compiled in this crate, unoptimised in the dev profile that
/// the tests, the demo and `qntx bench` run in, and decoding rows dominated query time there.
fn json(row: &Row<'_>, index: usize) -> rusqlite::Result<Value> {
    let text = row.get_ref(index)?.as_str()?;
    text.parse::<Value>()
        .map_err(|e| malformed(index, e.to_string()))
}

fn malformed(index: usize, message: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, message.into())
}

#[cfg(test)]
mod tests;

//! The attestation statements on SQLite: the rows, their index rows, queries planned per
//! shape (`plan.rs`: each walks one index newest first, so a page costs about the same on a
//! small store as on a large one) and the feed in insertion order.
//!

mod plan;

use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use serde_json::Value;

use super::{OrStorage, SqliteConnection};
use crate::ats::{self, Attestation, Cursor, Dimension, Page, Query, fold};
use crate::storage::{self, Attestations};

macro_rules! sql {
    ($name:literal) => {
        include_str!(concat!("../sql/", $name, ".sql"))
    };
}

impl Attestations for SqliteConnection {
    fn attestation_insert(&self, attestation: &Attestation) -> storage::Result<Option<i64>> {
        // A savepoint of its own: all index rows or none, in or outside a transaction. The
        // statements are cached: a guest's attempt may insert hundreds of attestations.
        let run = |sql: &str| self.sql().prepare_cached(sql)?.execute([]).map(drop);
        run("SAVEPOINT attestation_insert").or_storage()?;
        match insert_rows(self.sql(), attestation) {
            Ok(seq) => {
                run("RELEASE attestation_insert").or_storage()?;
                Ok(seq)
            }
            Err(error) => {
                // The rollback's own failure would hide the cause; SQLite rolls the
                // transaction back when it cannot.
                let _ = run("ROLLBACK TO attestation_insert");
                let _ = run("RELEASE attestation_insert");
                Err(error).or_storage()
            }
        }
    }

    fn attestation_get(&self, id: &str) -> storage::Result<Option<Attestation>> {
        self.sql()
            .prepare_cached(sql!("attestation_get"))
            .and_then(|mut get| {
                get.query_row([id], |row| from_row(row).map(|(_, a)| a))
                    .optional()
            })
            .or_storage()
    }

    fn attestation_cursor(&self, id: &str) -> storage::Result<Option<Cursor>> {
        self.sql()
            .prepare_cached(sql!("attestation_cursor"))
            .and_then(|mut cursor| {
                cursor
                    .query_row([id], |row| {
                        Ok(Cursor {
                            timestamp: row.get(0)?,
                            seq: row.get(1)?,
                        })
                    })
                    .optional()
            })
            .or_storage()
    }

    fn attestation_query(&self, query: &Query) -> storage::Result<Page> {
        page(self.sql(), query).or_storage()
    }

    fn attestation_after(&self, seq: i64, limit: u32) -> storage::Result<Vec<(i64, Attestation)>> {
        self.sql()
            .prepare_cached(sql!("attestation_after"))
            .and_then(|mut after| {
                after
                    .query_map(params![seq, limit], from_row)?
                    .collect::<rusqlite::Result<_>>()
            })
            .or_storage()
    }

    fn attestation_count(&self) -> storage::Result<u64> {
        self.sql()
            .prepare_cached("SELECT count(*) FROM attestations")
            .and_then(|mut count| count.query_row([], |row| row.get::<_, i64>(0)))
            .or_storage()
            .map(|count| count.unsigned_abs())
    }

    fn attestation_head(&self) -> storage::Result<i64> {
        self.sql()
            .prepare_cached(sql!("attestation_head"))
            .and_then(|mut head| head.query_row([], |row| row.get(0)))
            .or_storage()
    }
}

/// The row, then one index row per dimension value and one per (predicate, context) pair.
fn insert_rows(conn: &Connection, attestation: &Attestation) -> rusqlite::Result<Option<i64>> {
    let json = |values: &[String]| serde_json::to_string(values).expect("strings serialize");
    let Some(seq) = conn
        .prepare_cached(sql!("attestation_insert"))?
        .query_row(
            params![
                attestation.id,
                json(&attestation.subjects),
                json(&attestation.predicates),
                json(&attestation.contexts),
                json(&attestation.actors),
                attestation.timestamp,
                attestation.source,
                Value::Object(attestation.attributes.clone()).to_string(),
                attestation.created_at,
            ],
            |row| row.get::<_, i64>(0),
        )
        .optional()?
    else {
        return Ok(None);
    };
    let mut insert_value = conn.prepare_cached(sql!("attestation_value_insert"))?;
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
    let mut insert_pair = conn.prepare_cached(sql!("attestation_pair_insert"))?;
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
    Ok(Some(seq))
}

/// One page of `query`: the statement walks the index [`plan::driver`] picks, newest first,
/// and stops one row past the limit, which says whether there is a next page.
fn page(conn: &Connection, query: &Query) -> rusqlite::Result<Page> {
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
        if page.attestations.len() == limit || page_bytes >= ats::MAX_PAGE_BYTES {
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

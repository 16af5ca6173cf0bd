//! The only code that reads or writes attestation rows.
//!
//! Functions take a [`Connection`] (a [`rusqlite::Transaction`] derefs to one), so a caller can
//! make several writes, attestations and jobs alike, atomic.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use super::query::fold;
use super::{Attestation, Cursor, Dimension, Error, Page, Query, Result};

const INSERT: &str = include_str!("sql/attestation_insert.sql");
const INSERT_VALUE: &str = include_str!("sql/attestation_value_insert.sql");
const GET: &str = include_str!("sql/attestation_get.sql");

const COLUMNS: &str = "a.seq, a.id, a.subjects, a.predicates, a.contexts, a.actors, a.timestamp, \
                       a.source, a.attributes, a.created_at";

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

/// One page of the attestations that match `query`, newest first.
///
/// The plan: when a dimension is constrained, walk the `attestation_values` index of the first
/// constrained dimension (newest first, stopping at the limit) and check the other dimensions
/// by primary-key lookups; otherwise walk the time index. The statement is built here because
/// its shape depends on which conditions the query has.
///
/// # Errors
///
/// [`Error::Sqlite`] on database failure.
pub fn query(conn: &Connection, query: &Query) -> Result<Page> {
    let limit = query.effective_limit();
    let mut sql = String::new();
    let mut args: Vec<SqlValue> = Vec::new();
    let mut conditions: Vec<String> = Vec::new();
    let push_arg = |args: &mut Vec<SqlValue>, value: SqlValue| {
        args.push(value);
        format!("?{}", args.len())
    };
    let in_list = |args: &mut Vec<SqlValue>, values: &[String]| {
        let mut placeholders = Vec::with_capacity(values.len());
        for value in values {
            args.push(SqlValue::Text(fold(value)));
            placeholders.push(format!("?{}", args.len()));
        }
        placeholders.join(", ")
    };

    let mut dimensions = query
        .dimensions()
        .into_iter()
        .filter(|(_, values)| !values.is_empty());
    let (time, seq) = match dimensions.next() {
        Some((driver, values)) => {
            let list = in_list(&mut args, values);
            sql.push_str(&format!(
                "SELECT DISTINCT {COLUMNS} FROM attestation_values v \
                 JOIN attestations a ON a.seq = v.seq"
            ));
            conditions.push(format!("v.dimension = {}", driver as i64));
            conditions.push(format!("v.value IN ({list})"));
            for (dimension, values) in dimensions {
                let list = in_list(&mut args, values);
                conditions.push(format!(
                    "EXISTS (SELECT 1 FROM attestation_values x WHERE x.dimension = {} \
                     AND x.value IN ({list}) AND x.timestamp = a.timestamp AND x.seq = a.seq)",
                    dimension as i64
                ));
            }
            ("v.timestamp", "v.seq")
        }
        None => {
            sql.push_str(&format!("SELECT {COLUMNS} FROM attestations a"));
            ("a.timestamp", "a.seq")
        }
    };
    if let Some(since) = query.since {
        let p = push_arg(&mut args, SqlValue::Integer(since));
        conditions.push(format!("{time} >= {p}"));
    }
    if let Some(until) = query.until {
        let p = push_arg(&mut args, SqlValue::Integer(until));
        conditions.push(format!("{time} <= {p}"));
    }
    if let Some(source) = &query.source {
        let p = push_arg(&mut args, SqlValue::Text(source.clone()));
        conditions.push(format!("a.source = {p}"));
    }
    for (key, value) in &query.attributes {
        let k = push_arg(&mut args, SqlValue::Text(key.clone()));
        let v = push_arg(&mut args, SqlValue::Text(value.to_string()));
        conditions.push(format!(
            "json_type(a.attributes, '$.\"' || {k} || '\"') IS json_type({v}) \
             AND (a.attributes ->> ('$.\"' || {k} || '\"')) IS ({v} ->> '$')"
        ));
    }
    if let Some(cursor) = query.cursor {
        let t = push_arg(&mut args, SqlValue::Integer(cursor.timestamp));
        let s = push_arg(&mut args, SqlValue::Integer(cursor.seq));
        conditions.push(format!("({time}, {seq}) < ({t}, {s})"));
    }
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    let p = push_arg(&mut args, SqlValue::Integer(i64::from(limit) + 1));
    sql.push_str(&format!(" ORDER BY {time} DESC, {seq} DESC LIMIT {p}"));

    let mut statement = conn.prepare_cached(&sql)?;
    let mut rows = statement
        .query_map(params_from_iter(args), from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|(seq, a)| Cursor {
            timestamp: a.timestamp,
            seq: *seq,
        })
    } else {
        None
    };
    Ok(Page {
        attestations: rows.into_iter().map(|(_, a)| a).collect(),
        next_cursor,
    })
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<(i64, Attestation)> {
    let list = |index: usize| -> rusqlite::Result<Vec<String>> {
        let text: String = row.get(index)?;
        serde_json::from_str(&text).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, e.into())
        })
    };
    let attributes: String = row.get(8)?;
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
            attributes: serde_json::from_str(&attributes).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(8, rusqlite::types::Type::Text, e.into())
            })?,
            created_at: row.get(9)?,
        },
    ))
}

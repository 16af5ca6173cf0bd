//! The only SQL of user handlers: component bytes by sha256, and the poll that notices new
//! handler attestations (to be replaced by the ATS change feed).

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::{Error, PREDICATE};

macro_rules! sql {
    ($name:literal) => {
        include_str!(concat!("sql/", $name, ".sql"))
    };
}

/// The sha256 of `bytes`, hex.
pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Store component bytes under their sha256 (a no-op when present); returns the sha256.
///
/// # Errors
///
/// [`Error::Sqlite`] on database failure.
pub fn put_component(conn: &Connection, bytes: &[u8], now: i64) -> Result<String, Error> {
    let sha = sha256(bytes);
    conn.prepare_cached(sql!("component_insert"))?
        .execute(params![sha, bytes, bytes.len() as i64, now])?;
    Ok(sha)
}

/// The component bytes stored under `sha256`.
///
/// # Errors
///
/// [`Error::Sqlite`] on database failure.
pub fn component(conn: &Connection, sha256: &str) -> Result<Option<Vec<u8>>, Error> {
    Ok(conn
        .prepare_cached(sql!("component_get"))?
        .query_row([sha256], |row| row.get(0))
        .optional()?)
}

/// The insertion sequence number of the newest attestation: where a poll starts.
///
/// # Errors
///
/// [`Error::Sqlite`] on database failure.
pub fn last_seq(conn: &Connection) -> Result<i64, Error> {
    Ok(conn
        .prepare_cached(sql!("attestation_last_seq"))?
        .query_row([], |row| row.get(0))?)
}

/// The subjects of handler attestations stored after `after` (a sequence number), and the
/// sequence number to poll from next.
///
/// # Errors
///
/// [`Error::Sqlite`] on database failure.
pub fn changed_since(conn: &Connection, after: i64) -> Result<(Vec<String>, i64), Error> {
    let mut last = after;
    let mut names = Vec::new();
    let mut statement = conn.prepare_cached(sql!("attestations_after"))?;
    let mut rows = statement.query([after])?;
    while let Some(row) = rows.next()? {
        last = row.get(0)?;
        let predicates: String = row.get(2)?;
        let predicates: Vec<String> = serde_json::from_str(&predicates).unwrap_or_default();
        if !predicates.iter().any(|p| p.eq_ignore_ascii_case(PREDICATE)) {
            continue;
        }
        let subjects: String = row.get(1)?;
        for subject in serde_json::from_str::<Vec<String>>(&subjects).unwrap_or_default() {
            if !names.contains(&subject) {
                names.push(subject);
            }
        }
    }
    Ok((names, last))
}

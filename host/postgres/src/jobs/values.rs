//! Values of Pulse's statements in the forms PostgreSQL stores and returns: unsigned numbers
//! as `BIGINT`, free text without NUL characters, columns read back with their own errors.

use std::borrow::Cow;

use tokio_postgres::Row;
use tokio_postgres::types::FromSql;

use crate::error::OrStorage;
use crate::storage;

/// A count or size from a guest or a user as a `BIGINT`; past `i64::MAX` it is stored as
/// `i64::MAX` rather than wrapping to a negative number (as on SQLite).
pub(crate) fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Column `index` of `row`; a value of another type is corrupt data.
pub(crate) fn get<'a, T: FromSql<'a>>(row: &'a Row, index: usize) -> storage::Result<T> {
    row.try_get(index).or_storage()
}

/// Column `index` of `row`, a `BIGINT` that must fit a `u32` (attempts, claims, depth).
pub(crate) fn small(row: &Row, index: usize) -> storage::Result<u32> {
    let value: i64 = get(row, index)?;
    u32::try_from(value).map_err(|_| {
        storage::Error::Corrupt(format!(
            "column '{}' holds {value}, out of range",
            row.columns()[index].name()
        ))
    })
}

/// Column `index` of `row`, a count or size stored from a `u64`.
pub(crate) fn count(row: &Row, index: usize) -> storage::Result<u64> {
    let value: i64 = get(row, index)?;
    Ok(u64::try_from(value).unwrap_or_default())
}

/// `text` as PostgreSQL can store it: `TEXT` cannot hold NUL, which a guest's error message or
/// log line may contain, so each becomes U+FFFD rather than failing the job's transition.
pub(crate) fn text(text: &str) -> Cow<'_, str> {
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', "\u{fffd}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// `values` as JSON text, the form the JSON columns keep.
pub(crate) fn json_list(values: &impl serde::Serialize) -> String {
    serde_json::to_string(values).expect("strings serialize")
}

/// The ids in the first column of `rows`.
pub(crate) fn ids(rows: &[Row]) -> storage::Result<Vec<String>> {
    rows.iter().map(|row| get(row, 0)).collect()
}

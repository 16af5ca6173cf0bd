//! What the job statements share: their text by name, and values in the forms SQLite stores.

/// The text of statement `sql/NAME.sql`.
macro_rules! sql {
    ($name:literal) => {
        include_str!(concat!("sql/", $name, ".sql"))
    };
}
pub(super) use sql;

/// `values` as a JSON list, the form `json_each` reads.
pub(super) fn json_list(values: &impl serde::Serialize) -> String {
    serde_json::to_string(values).expect("strings serialize")
}

/// A count or size from a guest or a user as an SQLite integer; past `i64::MAX` it is stored as
/// `i64::MAX` rather than wrapping to a negative number.
pub(super) fn sql_int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

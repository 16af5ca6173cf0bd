//! SQLite's errors as the storage seam's: a refusal of the data, a corrupt value, or a failure
//! of the store, with SQLite's own error kept as the cause.

use crate::storage;

/// SQLite's `error` as a storage error: constraints, sizes and types refuse the data; a value
/// that cannot be read back is corrupt; anything else is the store failing.
pub fn to_storage(error: rusqlite::Error) -> storage::Error {
    use rusqlite::ErrorCode::{ConstraintViolation, TooBig, TypeMismatch};
    match &error {
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::IntegralValueOutOfRange(..) => {
            storage::Error::Corrupt(crate::error_chain(&error))
        }
        _ if matches!(
            error.sqlite_error_code(),
            Some(ConstraintViolation | TooBig | TypeMismatch)
        ) =>
        {
            storage::Error::Refused(Box::new(error))
        }
        _ => storage::Error::Backend(Box::new(error)),
    }
}

/// `.or_storage()` on a `rusqlite::Result`: the same value, or [`to_storage`] of the error.
pub trait OrStorage<T> {
    /// The value, or the error as a storage error.
    ///
    /// # Errors
    ///
    /// [`to_storage`] of SQLite's error.
    fn or_storage(self) -> storage::Result<T>;
}

impl<T> OrStorage<T> for rusqlite::Result<T> {
    fn or_storage(self) -> storage::Result<T> {
        self.map_err(to_storage)
    }
}

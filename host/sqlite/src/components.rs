//! The statements of components on SQLite: handler component bytes by sha256.

use rusqlite::{OptionalExtension, params};

use super::{OrStorage, SqliteConnection};
use crate::storage::{self, Components};

impl Components for SqliteConnection {
    fn component_put(&self, sha256: &str, bytes: &[u8], now: i64) -> storage::Result<()> {
        self.sql()
            .prepare_cached(include_str!("sql/component_insert.sql"))
            .and_then(|mut insert| insert.execute(params![sha256, bytes, bytes.len() as i64, now]))
            .or_storage()?;
        Ok(())
    }

    fn component_get(&self, sha256: &str) -> storage::Result<Option<Vec<u8>>> {
        self.sql()
            .prepare_cached(include_str!("sql/component_get.sql"))
            .and_then(|mut get| get.query_row([sha256], |row| row.get(0)).optional())
            .or_storage()
    }

    fn component_count(&self) -> storage::Result<u64> {
        self.sql()
            .prepare_cached(include_str!("sql/component_count.sql"))
            .and_then(|mut count| count.query_row([], |row| row.get::<_, i64>(0)))
            .map(|count| u64::try_from(count).unwrap_or_default())
            .or_storage()
    }
}

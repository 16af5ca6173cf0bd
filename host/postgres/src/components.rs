//! The statements of components on PostgreSQL: handler component bytes by sha256, so that
//! every node sharing the database serves every handler.

use super::PostgresConnection;
use super::error::OrStorage;
use crate::storage::{self, Components};

impl Components for PostgresConnection {
    fn component_put(&self, sha256: &str, bytes: &[u8], now: i64) -> storage::Result<()> {
        let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        self.execute(
            include_str!("sql/component_insert.sql"),
            &[&sha256, &bytes, &size, &now],
        )
        .map(drop)
    }

    fn component_get(&self, sha256: &str) -> storage::Result<Option<Vec<u8>>> {
        self.query_opt(include_str!("sql/component_get.sql"), &[&sha256])?
            .map(|row| row.try_get(0).or_storage())
            .transpose()
    }

    fn component_count(&self) -> storage::Result<u64> {
        let count: i64 = self
            .query_one(include_str!("sql/component_count.sql"), &[])?
            .try_get(0)
            .or_storage()?;
        Ok(count.unsigned_abs())
    }
}

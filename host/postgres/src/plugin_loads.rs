//! The statements of plugin load records on PostgreSQL.

use std::path::PathBuf;

use serde::Serialize;

use super::PostgresConnection;
use super::error::OrStorage;
use crate::storage::{self, FileKey, PluginLoads, Record};

impl PluginLoads for PostgresConnection {
    fn plugin_load_save(&self, key: &FileKey, record: &Record) -> storage::Result<()> {
        save(self, key, record)
    }

    fn plugin_load_save_all(&self, records: &[(FileKey, Record)]) -> storage::Result<()> {
        self.atomic(|conn| {
            records
                .iter()
                .try_for_each(|(key, record)| save(conn, key, record))
        })
    }

    fn plugin_load_find(&self, key: &FileKey) -> storage::Result<Option<Record>> {
        let Some(row) = self.query_opt(
            include_str!("sql/plugin_load_get.sql"),
            &[&key.sha256, &key.manifest_sha256],
        )?
        else {
            return Ok(None);
        };
        let path: String = row.try_get(0).or_storage()?;
        let size: i64 = row.try_get(1).or_storage()?;
        let handlers: &str = row.try_get(5).or_storage()?;
        let notes: &str = row.try_get(6).or_storage()?;
        Ok(Some(Record {
            path: PathBuf::from(path),
            size: u64::try_from(size).unwrap_or_default(),
            name: row.try_get(2).or_storage()?,
            version: row.try_get(3).or_storage()?,
            description: row.try_get(4).or_storage()?,
            handlers: serde_json::from_str(handlers).unwrap_or_default(),
            notes: serde_json::from_str(notes).unwrap_or_default(),
            refusal: row.try_get(7).or_storage()?,
            loaded_at: row.try_get(8).or_storage()?,
        }))
    }
}

fn save(conn: &PostgresConnection, key: &FileKey, record: &Record) -> storage::Result<()> {
    conn.execute(
        include_str!("sql/plugin_load_put.sql"),
        &[
            &key.sha256,
            &key.manifest_sha256,
            &record.path.to_string_lossy().as_ref(),
            &i64::try_from(record.size).unwrap_or(i64::MAX),
            &record.name,
            &record.version,
            &record.description,
            &json(&record.handlers),
            &json(&record.notes),
            &record.refusal,
            &record.loaded_at,
        ],
    )
    .map(drop)
}

fn json(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("plain data serializes")
}

//! The statements of plugin load records on SQLite.

use std::path::PathBuf;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{OrStorage, SqliteConnection};
use crate::storage::{self, FileKey, PluginLoads, Record};

impl PluginLoads for SqliteConnection {
    fn plugin_load_save(&self, key: &FileKey, record: &Record) -> storage::Result<()> {
        save(self.sql(), key, record).or_storage()
    }

    fn plugin_load_save_all(&self, records: &[(FileKey, Record)]) -> storage::Result<()> {
        self.atomic(|conn| {
            for (key, record) in records {
                save(conn, key, record).or_storage()?;
            }
            Ok(())
        })
    }

    fn plugin_load_find(&self, key: &FileKey) -> storage::Result<Option<Record>> {
        self.sql()
            .prepare_cached(include_str!("sql/plugin_load_get.sql"))
            .and_then(|mut find| {
                find.query_row(params![key.sha256, key.manifest_sha256], |row| {
                    let path: String = row.get(0)?;
                    let size: i64 = row.get(1)?;
                    let handlers: String = row.get(5)?;
                    let notes: String = row.get(6)?;
                    Ok(Record {
                        path: PathBuf::from(path),
                        size: u64::try_from(size).unwrap_or_default(),
                        name: row.get(2)?,
                        version: row.get(3)?,
                        description: row.get(4)?,
                        handlers: serde_json::from_str(&handlers).unwrap_or_default(),
                        notes: serde_json::from_str(&notes).unwrap_or_default(),
                        refusal: row.get(7)?,
                        loaded_at: row.get(8)?,
                    })
                })
                .optional()
            })
            .or_storage()
    }
}

fn save(conn: &Connection, key: &FileKey, record: &Record) -> rusqlite::Result<()> {
    conn.prepare_cached(include_str!("sql/plugin_load_put.sql"))?
        .execute(params![
            key.sha256,
            key.manifest_sha256,
            record.path.to_string_lossy(),
            i64::try_from(record.size).unwrap_or(i64::MAX),
            record.name,
            record.version,
            record.description,
            json(&record.handlers),
            json(&record.notes),
            record.refusal,
            record.loaded_at,
        ])?;
    Ok(())
}

fn json(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("plain data serializes")
}

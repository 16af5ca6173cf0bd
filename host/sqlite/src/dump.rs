//! Rows as stored ([`storage::dump`]) on SQLite: the statements are built from the table
//! descriptions, flags are kept as 0 or 1, and a job's `seq` is its `rowid`.

use rusqlite::types::{ToSqlOutput, ValueRef};

use super::{MIGRATIONS, OrStorage, SqliteConnection};
use crate::storage;
use crate::storage::dump::{Dump, Kind, Row, Schema, Table, Value};

impl Dump for SqliteConnection {
    fn dump_schema(&self) -> storage::Result<Schema> {
        let version: i64 = self
            .sql()
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                [],
                |row| row.get(0),
            )
            .or_storage()?;
        Ok(Schema {
            version: u32::try_from(version).unwrap_or_default(),
            known: MIGRATIONS.last().map_or(0, |m| m.version),
        })
    }

    fn dump_count(&self, table: &'static Table) -> storage::Result<u64> {
        let count: i64 = self
            .sql()
            .prepare_cached(&format!("SELECT COUNT(*) FROM {}", table.name))
            .and_then(|mut count| count.query_row([], |row| row.get(0)))
            .or_storage()?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    fn dump_job_statuses(&self) -> storage::Result<Vec<(String, u64)>> {
        let mut statement = self
            .sql()
            .prepare_cached("SELECT status, COUNT(*) FROM jobs GROUP BY status ORDER BY status")
            .or_storage()?;
        let rows = statement
            .query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
            })
            .or_storage()?;
        rows.map(|row| {
            row.map(|(status, count)| (status, u64::try_from(count).unwrap_or_default()))
        })
        .collect::<rusqlite::Result<_>>()
        .or_storage()
    }

    fn dump_read(
        &self,
        table: &'static Table,
        after: Option<&[Value]>,
        limit: u32,
    ) -> storage::Result<Vec<Row>> {
        let keys = Table::names(table.key_columns());
        let filter = match after {
            None => String::new(),
            Some(_) => {
                let marks: Vec<String> = (1..=table.key).map(|n| format!("?{n}")).collect();
                format!("WHERE ({keys}) > ({})", marks.join(", "))
            }
        };
        let sql = format!(
            "SELECT {} FROM {} {filter} ORDER BY {keys} LIMIT {limit}",
            stored_names(table),
            table.name
        );
        let mut statement = self.sql().prepare_cached(&sql).or_storage()?;
        let params: Vec<Param<'_>> = after.unwrap_or_default().iter().map(Param).collect();
        let rows = statement
            .query_map(rusqlite::params_from_iter(params), |row| {
                table
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(index, column)| read(row.get_ref(index)?, column.kind, index))
                    .collect::<rusqlite::Result<Row>>()
            })
            .or_storage()?;
        rows.collect::<rusqlite::Result<_>>().or_storage()
    }

    fn dump_write(&self, table: &'static Table, rows: &[Row]) -> storage::Result<()> {
        let marks: Vec<String> = (1..=table.columns.len()).map(|n| format!("?{n}")).collect();
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            table.name,
            stored_names(table),
            marks.join(", ")
        );
        self.atomic(|conn| {
            let mut insert = conn.prepare_cached(&sql).or_storage()?;
            for row in rows {
                insert
                    .execute(rusqlite::params_from_iter(row.iter().map(Param)))
                    .or_storage()?;
            }
            Ok::<_, storage::Error>(())
        })
    }

    fn dump_clear(&self, table: &'static Table) -> storage::Result<u64> {
        let deleted = self
            .sql()
            .execute(&format!("DELETE FROM {}", table.name), [])
            .or_storage()?;
        Ok(deleted as u64)
    }

    fn dump_finish(&self) -> storage::Result<()> {
        // An INTEGER PRIMARY KEY numbers the next row past the highest stored: nothing to move.
        Ok(())
    }
}

/// The columns of `table` as SQLite names them: the jobs' `seq` is the table's `rowid`, the
/// enqueue order its claims break ties by.
fn stored_names(table: &Table) -> String {
    let names: Vec<&str> = table
        .columns
        .iter()
        .map(|column| match (table.name, column.name) {
            ("jobs", "seq") => "rowid",
            (_, name) => name,
        })
        .collect();
    names.join(", ")
}

/// A [`Value`] as a parameter: a flag as 0 or 1.
struct Param<'a>(&'a Value);

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(n) => ToSqlOutput::Borrowed(ValueRef::Integer(*n)),
            Value::Real(x) => ToSqlOutput::Borrowed(ValueRef::Real(*x)),
            Value::Text(text) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
            Value::Bool(flag) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*flag))),
            Value::Blob(bytes) => ToSqlOutput::Borrowed(ValueRef::Blob(bytes)),
        })
    }
}

/// The stored `value` of column `index` as a [`Value`] of `kind`.
fn read(value: ValueRef<'_>, kind: Kind, index: usize) -> rusqlite::Result<Value> {
    let mismatch =
        || rusqlite::Error::InvalidColumnType(index, format!("{kind:?}"), value.data_type());
    Ok(match (kind, value) {
        (_, ValueRef::Null) => Value::Null,
        (Kind::Int, ValueRef::Integer(n)) => Value::Int(n),
        (Kind::Real, ValueRef::Real(x)) => Value::Real(x),
        // A REAL column converts what it stores, but a value written before its CHECKs may
        // still be an integer.
        (Kind::Real, ValueRef::Integer(n)) => Value::Real(n as f64),
        (Kind::Bool, ValueRef::Integer(n)) => Value::Bool(n != 0),
        (Kind::Text, ValueRef::Text(text)) => {
            Value::Text(String::from_utf8(text.to_vec()).map_err(|_| mismatch())?)
        }
        (Kind::Blob, ValueRef::Blob(bytes)) => Value::Blob(bytes.to_vec()),
        _ => return Err(mismatch()),
    })
}

//! Rows as stored ([`storage::dump`]) on PostgreSQL: the statements are built once from the
//! table descriptions. Reads cast every column to the type of its kind, and writes pass one
//! array per column to `unnest`, so a page is one statement whatever the server's own column
//! types (a `BIGINT` or an `INTEGER` take the same values).

use std::collections::HashMap;
use std::sync::LazyLock;

use tokio_postgres::Row as PgRow;
use tokio_postgres::types::ToSql;

use super::PostgresConnection;
use super::migrations;
use crate::storage::dump::{Dump, Kind, Row, Schema, TABLES, Table, Value};
use crate::storage::{self, Error};

/// The statements of one table.
struct Statements {
    count: String,
    first: String,
    after: String,
    insert: String,
    clear: String,
}

/// Every table's statements, by table name.
static STATEMENTS: LazyLock<HashMap<&'static str, Statements>> = LazyLock::new(|| {
    TABLES
        .iter()
        .map(|table| (table.name, statements(table)))
        .collect()
});

fn statements(table: &Table) -> Statements {
    let keys = Table::names(table.key_columns());
    let selected: Vec<String> = table
        .columns
        .iter()
        .map(|column| format!("{}::{}", column.name, sql_type(column.kind)))
        .collect();
    let select = format!("SELECT {} FROM {}", selected.join(", "), table.name);
    let limit = table.key + 1;
    let bounds: Vec<String> = table
        .key_columns()
        .iter()
        .enumerate()
        .map(|(index, column)| format!("${}::{}", index + 1, sql_type(column.kind)))
        .collect();
    let arrays: Vec<String> = table
        .columns
        .iter()
        .enumerate()
        .map(|(index, column)| format!("${}::{}[]", index + 1, sql_type(column.kind)))
        .collect();
    Statements {
        count: format!("SELECT count(*) FROM {}", table.name),
        first: format!("{select} ORDER BY {keys} LIMIT $1"),
        after: format!(
            "{select} WHERE ({keys}) > ({}) ORDER BY {keys} LIMIT ${limit}",
            bounds.join(", ")
        ),
        // Numbered columns take the copied numbers, whether the schema generates them by
        // default or always.
        insert: format!(
            "INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE SELECT * FROM unnest({})",
            table.name,
            Table::names(table.columns),
            arrays.join(", ")
        ),
        clear: format!("DELETE FROM {}", table.name),
    }
}

fn sql_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Int => "bigint",
        Kind::Real => "double precision",
        Kind::Text => "text",
        Kind::Bool => "boolean",
        Kind::Blob => "bytea",
    }
}

fn of(table: &'static Table) -> &'static Statements {
    &STATEMENTS[table.name]
}

impl Dump for PostgresConnection {
    fn dump_schema(&self) -> storage::Result<Schema> {
        Ok(Schema {
            version: migrations::current(self)?,
            known: migrations::known(),
        })
    }

    fn dump_count(&self, table: &'static Table) -> storage::Result<u64> {
        let count: i64 = self.query_one(&of(table).count, &[])?.get(0);
        Ok(count.unsigned_abs())
    }

    fn dump_job_statuses(&self) -> storage::Result<Vec<(String, u64)>> {
        let rows = self.query(
            "SELECT status::text, count(*) FROM jobs GROUP BY status ORDER BY status",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|row| (row.get(0), row.get::<_, i64>(1).unsigned_abs()))
            .collect())
    }

    fn dump_read(
        &self,
        table: &'static Table,
        after: Option<&[Value]>,
        limit: u32,
    ) -> storage::Result<Vec<Row>> {
        let limit = i64::from(limit);
        let rows = match after {
            None => self.query(&of(table).first, &[&limit])?,
            Some(key) => {
                let mut params: Vec<Box<dyn ToSql + Sync>> = key
                    .iter()
                    .zip(table.key_columns())
                    .map(|(value, column)| scalar(value, column.kind))
                    .collect::<storage::Result<_>>()?;
                params.push(Box::new(limit));
                let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| &**p).collect();
                self.query(&of(table).after, &params)?
            }
        };
        rows.iter().map(|row| read(table, row)).collect()
    }

    fn dump_write(&self, table: &'static Table, rows: &[Row]) -> storage::Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let arrays: Vec<Box<dyn ToSql + Sync>> = table
            .columns
            .iter()
            .enumerate()
            .map(|(index, column)| array(rows.iter().map(|row| &row[index]), column.kind))
            .collect::<storage::Result<_>>()?;
        let params: Vec<&(dyn ToSql + Sync)> = arrays.iter().map(|p| &**p).collect();
        self.atomic(|conn| conn.execute(&of(table).insert, &params))?;
        Ok(())
    }

    fn dump_clear(&self, table: &'static Table) -> storage::Result<u64> {
        self.execute(&of(table).clear, &[])
    }

    fn dump_finish(&self) -> storage::Result<()> {
        for table in TABLES {
            if let Some(column) = table.sequence {
                // setval of NULL (a column without a sequence) does nothing; an empty table
                // starts again at 1.
                self.query_one(
                    "SELECT setval(pg_get_serial_sequence($1, $2), \
                        GREATEST(COALESCE($3::bigint, 0), 1), $3::bigint IS NOT NULL)",
                    &[&table.name, &column, &self.highest(table)?],
                )?;
            }
        }
        Ok(())
    }
}

impl PostgresConnection {
    /// The highest value of the numbered column of `table`, if it has rows.
    fn highest(&self, table: &'static Table) -> storage::Result<Option<i64>> {
        static HIGHEST: LazyLock<HashMap<&'static str, String>> = LazyLock::new(|| {
            TABLES
                .iter()
                .filter_map(|table| {
                    let column = table.sequence?;
                    Some((
                        table.name,
                        format!("SELECT max({column})::bigint FROM {}", table.name),
                    ))
                })
                .collect()
        });
        Ok(self.query_one(&HIGHEST[table.name], &[])?.get(0))
    }
}

/// The value of every column of `row`, as `table` describes them.
fn read(table: &Table, row: &PgRow) -> storage::Result<Row> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(index, column)| {
            let value = match column.kind {
                Kind::Int => row
                    .try_get::<_, Option<i64>>(index)
                    .map(|v| v.map(Value::Int)),
                Kind::Real => row
                    .try_get::<_, Option<f64>>(index)
                    .map(|v| v.map(Value::Real)),
                Kind::Text => row
                    .try_get::<_, Option<String>>(index)
                    .map(|v| v.map(Value::Text)),
                Kind::Bool => row
                    .try_get::<_, Option<bool>>(index)
                    .map(|v| v.map(Value::Bool)),
                Kind::Blob => row
                    .try_get::<_, Option<Vec<u8>>>(index)
                    .map(|v| v.map(Value::Blob)),
            };
            value
                .map(|value| value.unwrap_or(Value::Null))
                .map_err(|error| Error::Corrupt(format!("{}.{}: {error}", table.name, column.name)))
        })
        .collect()
}

/// One key value as a parameter of its column's type.
fn scalar(value: &Value, kind: Kind) -> storage::Result<Box<dyn ToSql + Sync>> {
    Ok(match kind {
        Kind::Int => Box::new(int(value)?),
        Kind::Real => Box::new(real(value)?),
        Kind::Text => Box::new(text(value)?),
        Kind::Bool => Box::new(flag(value)?),
        Kind::Blob => Box::new(blob(value)?),
    })
}

/// One column's `values` as an array parameter of its type.
fn array<'a>(
    values: impl Iterator<Item = &'a Value>,
    kind: Kind,
) -> storage::Result<Box<dyn ToSql + Sync>> {
    Ok(match kind {
        Kind::Int => Box::new(values.map(int).collect::<storage::Result<Vec<_>>>()?),
        Kind::Real => Box::new(values.map(real).collect::<storage::Result<Vec<_>>>()?),
        Kind::Text => Box::new(values.map(text).collect::<storage::Result<Vec<_>>>()?),
        Kind::Bool => Box::new(values.map(flag).collect::<storage::Result<Vec<_>>>()?),
        Kind::Blob => Box::new(values.map(blob).collect::<storage::Result<Vec<_>>>()?),
    })
}

fn mismatch(value: &Value, kind: Kind) -> Error {
    Error::Refused(format!("{value:?} is not a value of a {kind:?} column").into())
}

fn int(value: &Value) -> storage::Result<Option<i64>> {
    match value {
        Value::Null => Ok(None),
        Value::Int(n) => Ok(Some(*n)),
        Value::Bool(flag) => Ok(Some(i64::from(*flag))),
        _ => Err(mismatch(value, Kind::Int)),
    }
}

fn real(value: &Value) -> storage::Result<Option<f64>> {
    match value {
        Value::Null => Ok(None),
        Value::Real(x) => Ok(Some(*x)),
        Value::Int(n) => Ok(Some(*n as f64)),
        _ => Err(mismatch(value, Kind::Real)),
    }
}

fn text(value: &Value) -> storage::Result<Option<String>> {
    match value {
        Value::Null => Ok(None),
        Value::Text(text) => Ok(Some(text.clone())),
        _ => Err(mismatch(value, Kind::Text)),
    }
}

/// A flag; SQLite's 0 and 1 are taken too.
fn flag(value: &Value) -> storage::Result<Option<bool>> {
    match value {
        Value::Null => Ok(None),
        Value::Bool(flag) => Ok(Some(*flag)),
        Value::Int(0) => Ok(Some(false)),
        Value::Int(1) => Ok(Some(true)),
        _ => Err(mismatch(value, Kind::Bool)),
    }
}

fn blob(value: &Value) -> storage::Result<Option<Vec<u8>>> {
    match value {
        Value::Null => Ok(None),
        Value::Blob(bytes) => Ok(Some(bytes.clone())),
        _ => Err(mismatch(value, Kind::Blob)),
    }
}

//! Rows as they are stored, in a form every backend reads and writes: what `qntx db copy`
//! moves from one store to another and `qntx db status` counts.
//!
//! [`TABLES`] lists every table a store keeps, in dependency order (a table's rows may point
//! at rows of the tables before it), with its columns and their [`Kind`]s. Both backends hold
//! these tables under these names; each converts values by kind on the way in and out
//! (SQLite keeps a [`Kind::Bool`] as 0 or 1 and PostgreSQL as `BOOLEAN`, a [`Kind::Blob`] as
//! `BLOB` or `BYTEA`). Rows are read in pages ordered by the table's key, each page after the
//! key of the last row of the one before, so a copy needs no offset and sees each row once.

use super::Result;

/// What a column holds, whatever the backend's own type for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A 64-bit integer: times (Unix ms), counters, sequence numbers.
    Int,
    /// A double.
    Real,
    /// Text, JSON included (kept as written).
    Text,
    /// A flag.
    Bool,
    /// Bytes.
    Blob,
}

/// One column of a [`Table`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Its name, the same in every backend.
    pub name: &'static str,
    /// What it holds.
    pub kind: Kind,
}

/// One table of a store.
#[derive(Debug, PartialEq, Eq)]
pub struct Table {
    /// Its name, the same in every backend.
    pub name: &'static str,
    /// Its columns, in the order of a [`Row`]'s values.
    pub columns: &'static [Column],
    /// How many of the first columns make its primary key (rows are read in its order).
    pub key: usize,
    /// The integer column a backend numbers new rows by, if any: reset after a copy
    /// ([`Dump::dump_finish`]) so that the next row gets the next number.
    pub sequence: Option<&'static str>,
    /// Rows per page of a copy: fewer for tables of large rows (component bytes).
    pub page: u32,
}

impl Table {
    /// The table named `name`.
    pub fn named(name: &str) -> Option<&'static Table> {
        TABLES.iter().copied().find(|table| table.name == name)
    }

    /// The key columns.
    pub fn key_columns(&self) -> &'static [Column] {
        &self.columns[..self.key]
    }

    /// `a, b, c`: the names of `columns`, for a backend's statements.
    pub fn names(columns: &[Column]) -> String {
        columns
            .iter()
            .map(|column| column.name)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A stored value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL `NULL`.
    Null,
    /// A [`Kind::Int`].
    Int(i64),
    /// A [`Kind::Real`].
    Real(f64),
    /// A [`Kind::Text`].
    Text(String),
    /// A [`Kind::Bool`].
    Bool(bool),
    /// A [`Kind::Blob`].
    Blob(Vec<u8>),
}

/// A row's values, in the order of its table's columns.
pub type Row = Vec<Value>;

/// The schema a store is at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schema {
    /// The newest migration the store has applied.
    pub version: u32,
    /// The newest migration this build of its backend knows.
    pub known: u32,
}

/// Reading and writing rows as stored, and counting them: for copies between stores and for
/// status reports. Reads in a snapshot see one state of the store; writes in a transaction
/// land all at once.
pub trait Dump {
    /// The schema version of the store and the newest its backend knows.
    fn dump_schema(&self) -> Result<Schema>;

    /// How many rows `table` holds.
    fn dump_count(&self, table: &'static Table) -> Result<u64>;

    /// How many jobs there are of each status that has any, by status name.
    fn dump_job_statuses(&self) -> Result<Vec<(String, u64)>>;

    /// At most `limit` rows of `table` in key order, after the row whose key values are
    /// `after` (from the first row when `None`).
    fn dump_read(
        &self,
        table: &'static Table,
        after: Option<&[Value]>,
        limit: u32,
    ) -> Result<Vec<Row>>;

    /// Insert `rows` into `table` as they are, numbered columns included.
    fn dump_write(&self, table: &'static Table, rows: &[Row]) -> Result<()>;

    /// Delete every row of `table`; how many.
    fn dump_clear(&self, table: &'static Table) -> Result<u64>;

    /// After rows were written with their numbers: move each table's numbering past the
    /// highest number stored.
    fn dump_finish(&self) -> Result<()>;
}

const fn int(name: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Int,
    }
}

const fn real(name: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Real,
    }
}

const fn text(name: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Text,
    }
}

const fn flag(name: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Bool,
    }
}

const fn blob(name: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Blob,
    }
}

/// Attestations, numbered by `seq` (the feed's cursor: watchers' cursors point at it).
pub static ATTESTATIONS: Table = Table {
    name: "attestations",
    columns: &[
        int("seq"),
        text("id"),
        text("subjects"),
        text("predicates"),
        text("contexts"),
        text("actors"),
        int("timestamp"),
        text("source"),
        text("attributes"),
        int("created_at"),
    ],
    key: 1,
    sequence: Some("seq"),
    page: 1000,
};

/// Every case-folded value of an attestation, by dimension.
pub static ATTESTATION_VALUES: Table = Table {
    name: "attestation_values",
    columns: &[
        int("dimension"),
        text("value"),
        int("timestamp"),
        int("seq"),
    ],
    key: 4,
    sequence: None,
    page: 2000,
};

/// Every (predicate, context) pair of an attestation.
pub static ATTESTATION_PAIRS: Table = Table {
    name: "attestation_pairs",
    columns: &[
        text("predicate"),
        text("context"),
        int("timestamp"),
        int("seq"),
    ],
    key: 4,
    sequence: None,
    page: 2000,
};

/// User handlers' component bytes by sha256.
pub static COMPONENTS: Table = Table {
    name: "components",
    columns: &[
        text("sha256"),
        blob("bytes"),
        int("size"),
        int("created_at"),
    ],
    key: 1,
    sequence: None,
    page: 4,
};

/// Pulse jobs, numbered by `seq` in enqueue order (claims break ties by it; SQLite keeps it as
/// the table's `rowid`).
pub static JOBS: Table = Table {
    name: "jobs",
    columns: &[
        text("id"),
        int("seq"),
        text("handler"),
        text("payload"),
        text("source"),
        text("status"),
        text("pause_reason"),
        int("priority"),
        int("attempt"),
        int("max_attempts"),
        int("run_at"),
        int("timeout_ms"),
        text("lease_owner"),
        int("lease_expires_at"),
        int("progress_current"),
        int("progress_total"),
        real("cost_estimate"),
        real("cost_actual"),
        text("result"),
        text("error"),
        text("error_details"),
        text("parent_job_id"),
        text("plugin_version"),
        int("created_at"),
        int("started_at"),
        int("completed_at"),
        int("updated_at"),
        int("claims"),
        text("root_job_id"),
        int("depth"),
        text("attempt_nodes"),
    ],
    key: 1,
    sequence: Some("seq"),
    page: 500,
};

/// Jobs' log lines, numbered by `id`.
pub static JOB_LOGS: Table = Table {
    name: "job_logs",
    columns: &[
        int("id"),
        text("job_id"),
        int("attempt"),
        int("time"),
        text("level"),
        text("stage"),
        text("message"),
    ],
    key: 1,
    sequence: Some("id"),
    page: 2000,
};

/// The handlers nodes registered.
pub static REGISTERED_HANDLERS: Table = Table {
    name: "registered_handlers",
    columns: &[
        text("handler"),
        text("plugin"),
        text("plugin_version"),
        text("description"),
        int("registered_at"),
    ],
    key: 1,
    sequence: None,
    page: 1000,
};

/// Spend limits.
pub static BUDGETS: Table = Table {
    name: "budgets",
    columns: &[text("period"), real("spend_limit"), int("updated_at")],
    key: 1,
    sequence: None,
    page: 100,
};

/// Schedules.
pub static SCHEDULES: Table = Table {
    name: "schedules",
    columns: &[
        text("id"),
        text("owner"),
        text("handler"),
        text("payload"),
        int("interval_ms"),
        flag("enabled"),
        int("next_run_at"),
        text("last_job_id"),
        int("created_at"),
        int("updated_at"),
    ],
    key: 1,
    sequence: None,
    page: 1000,
};

/// Watchers, with their cursors on the attestation feed.
pub static WATCHERS: Table = Table {
    name: "watchers",
    columns: &[
        text("id"),
        text("owner"),
        text("handler"),
        text("filter"),
        real("max_fires_per_second"),
        flag("include_own_writes"),
        int("cursor_seq"),
        int("created_at"),
        int("updated_at"),
    ],
    key: 1,
    sequence: None,
    page: 1000,
};

/// What loading each plugin file gave.
pub static PLUGIN_LOADS: Table = Table {
    name: "plugin_loads",
    columns: &[
        text("sha256"),
        text("manifest_sha256"),
        text("path"),
        int("size"),
        text("name"),
        text("version"),
        text("description"),
        text("handlers"),
        text("notes"),
        text("refusal"),
        int("loaded_at"),
    ],
    key: 2,
    sequence: None,
    page: 500,
};

/// The nodes that ran on the store (jobs name them as where their attempts ran).
pub static NODES: Table = Table {
    name: "nodes",
    columns: &[
        text("id"),
        text("host"),
        int("pid"),
        int("started_at"),
        int("seen_at"),
        int("lease_ms"),
        int("stopped_at"),
        text("handlers"),
    ],
    key: 1,
    sequence: None,
    page: 1000,
};

/// API tokens: their hashes, never their secrets.
pub static TOKENS: Table = Table {
    name: "tokens",
    columns: &[
        text("id"),
        text("name"),
        text("scope"),
        text("hash"),
        int("created_at"),
        int("last_used_at"),
        int("revoked_at"),
    ],
    key: 1,
    sequence: None,
    page: 1000,
};

/// Dashboard sessions: their hashes, never their secrets.
pub static SESSIONS: Table = Table {
    name: "sessions",
    columns: &[
        text("hash"),
        text("token_id"),
        int("created_at"),
        int("expires_at"),
    ],
    key: 1,
    sequence: None,
    page: 1000,
};

/// Every table, in dependency order.
pub static TABLES: &[&Table] = &[
    &ATTESTATIONS,
    &ATTESTATION_VALUES,
    &ATTESTATION_PAIRS,
    &COMPONENTS,
    &JOBS,
    &JOB_LOGS,
    &REGISTERED_HANDLERS,
    &BUDGETS,
    &SCHEDULES,
    &WATCHERS,
    &PLUGIN_LOADS,
    &NODES,
    &TOKENS,
    &SESSIONS,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_has_a_key_a_page_and_unique_names() {
        let mut names = std::collections::HashSet::new();
        for table in TABLES {
            assert!(names.insert(table.name), "{} twice", table.name);
            assert!(
                table.key >= 1 && table.key <= table.columns.len(),
                "{}",
                table.name
            );
            assert!(table.page >= 1, "{}", table.name);
            if let Some(sequence) = table.sequence {
                let column = table.columns.iter().find(|c| c.name == sequence);
                assert_eq!(column.map(|c| c.kind), Some(Kind::Int), "{}", table.name);
            }
            let mut columns = std::collections::HashSet::new();
            for column in table.columns {
                assert!(
                    columns.insert(column.name),
                    "{}.{}",
                    table.name,
                    column.name
                );
            }
            assert_eq!(Table::named(table.name), Some(*table));
        }
        assert_eq!(Table::named("schema_migrations"), None);
    }
}

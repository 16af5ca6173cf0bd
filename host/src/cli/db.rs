//! `qntx db`: what the store holds (`status`), and copying it into another store (`copy`).

use std::io::Write;

use anyhow::{Context, bail};

use super::{Global, Outcome, output};
use crate::clock::now_ms;
use crate::database::{self, CopyError, DatabaseConfig, SqliteLimits};
use crate::storage::Store;
use crate::storage::dump::{self, Kind, Table, Value};

/// The subcommands of `qntx db`.
#[derive(Debug, clap::Subcommand)]
pub enum DbCommand {
    /// The backend, its schema version and what it holds: attestations, jobs by status, job
    /// logs, handlers, components, schedules, watchers, budgets, live nodes
    Status {
        /// One JSON object
        #[arg(long)]
        json: bool,
    },
    /// Copy every row of this store into another, table by table (e.g. SQLite to PostgreSQL)
    ///
    /// Reads the store this command opens (--database, QNTX_DATABASE, [database] in
    /// qntx.toml, else <data-dir>/qntx.db) in one snapshot, so the copy is consistent even
    /// while a node runs on it, and writes to --to in transactions of one page each:
    /// attestations with their index rows and sequence numbers (so watchers' cursors stay
    /// right), jobs and their logs, handler registrations and components, schedules, watchers,
    /// budgets, plugin loads and node records. Jobs running in the source are copied as
    /// running: once their lease has passed, a node on the target rescues them. Progress goes
    /// to stderr; at the end the rows of each table are counted on both sides, and a
    /// difference is an error.
    Copy {
        /// The store to copy into: postgres://…, sqlite://PATH or a file path
        #[arg(long, value_name = "URL")]
        to: String,
        /// Copy into a store that holds rows: every row of its tables is deleted first, so
        /// that it becomes a copy of this one (nothing is merged)
        #[arg(long)]
        force: bool,
    },
}

pub(super) fn run(global: &Global, command: DbCommand) -> anyhow::Result<Outcome> {
    match command {
        DbCommand::Status { json } => status(global, json),
        DbCommand::Copy { to, force } => copy(global, &to, force),
    }
}

/// What `qntx db status` reports.
#[derive(Debug, serde::Serialize)]
struct Status {
    backend: String,
    schema_version: u32,
    schema_known: u32,
    attestations: u64,
    jobs: std::collections::BTreeMap<String, u64>,
    job_logs: u64,
    handlers: u64,
    components: u64,
    schedules: u64,
    watchers: u64,
    budgets: u64,
    nodes: u64,
    nodes_live: u64,
}

fn status(global: &Global, json: bool) -> anyhow::Result<Outcome> {
    let backend = global.backend()?;
    let described = backend.describe();
    let status = global.with_store(|conn| {
        let snapshot = conn.snapshot()?;
        read_status(snapshot.store(), described)
    })?;
    let mut out = std::io::stdout().lock();
    if json {
        output::json_line(&mut out, &status)?;
        return Ok(Outcome::Ok);
    }
    let jobs: u64 = status.jobs.values().sum();
    let by_status = status
        .jobs
        .iter()
        .map(|(status, count)| format!("{status} {count}"))
        .collect::<Vec<_>>()
        .join(", ");
    let newer = if status.schema_version == status.schema_known {
        String::new()
    } else {
        format!(" (this qntx knows {})", status.schema_known)
    };
    writeln!(out, "backend       {}", status.backend)?;
    writeln!(
        out,
        "schema        version {}{newer}",
        status.schema_version
    )?;
    writeln!(out, "attestations  {}", status.attestations)?;
    if by_status.is_empty() {
        writeln!(out, "jobs          0")?;
    } else {
        writeln!(out, "jobs          {jobs} ({by_status})")?;
    }
    writeln!(out, "job logs      {}", status.job_logs)?;
    writeln!(out, "handlers      {}", status.handlers)?;
    writeln!(out, "components    {}", status.components)?;
    writeln!(out, "schedules     {}", status.schedules)?;
    writeln!(out, "watchers      {}", status.watchers)?;
    writeln!(out, "budgets       {}", status.budgets)?;
    writeln!(
        out,
        "nodes         {} live ({} recorded)",
        status.nodes_live, status.nodes
    )?;
    Ok(Outcome::Ok)
}

fn read_status(store: &dyn Store, backend: String) -> anyhow::Result<Status> {
    let schema = store.dump_schema()?;
    let count = |table| store.dump_count(table);
    let nodes = store.dump_read(&dump::NODES, None, u32::MAX)?;
    let now = now_ms();
    let nodes_live = nodes.iter().filter(|row| is_live(row, now)).count() as u64;
    Ok(Status {
        backend,
        schema_version: schema.version,
        schema_known: schema.known,
        attestations: count(&dump::ATTESTATIONS)?,
        jobs: store.dump_job_statuses()?.into_iter().collect(),
        job_logs: count(&dump::JOB_LOGS)?,
        handlers: count(&dump::REGISTERED_HANDLERS)?,
        components: count(&dump::COMPONENTS)?,
        schedules: count(&dump::SCHEDULES)?,
        watchers: count(&dump::WATCHERS)?,
        budgets: count(&dump::BUDGETS)?,
        nodes: nodes.len() as u64,
        nodes_live,
    })
}

/// Whether a row of `nodes` is a live node at `now`: seen within its lease, not stopped.
fn is_live(row: &[Value], now: i64) -> bool {
    let column = |name| {
        dump::NODES
            .columns
            .iter()
            .position(|column| column.name == name && column.kind == Kind::Int)
            .map(|index| &row[index])
    };
    let (Some(Value::Int(seen)), Some(Value::Int(lease)), Some(stopped)) =
        (column("seen_at"), column("lease_ms"), column("stopped_at"))
    else {
        return false;
    };
    *stopped == Value::Null && seen.saturating_add(*lease) > now
}

fn copy(global: &Global, to: &str, force: bool) -> anyhow::Result<Outcome> {
    let data_dir = global.data_dir()?;
    let source = global.backend()?;
    let target_config = DatabaseConfig {
        url: Some(to.to_owned()),
        ..global.database_config(&data_dir)?
    };
    let target = database::open(&target_config, &data_dir, SqliteLimits::default())?;
    if source.describe() == target.describe() {
        bail!(
            "--to names the store being copied ({}); give another",
            source.describe()
        );
    }
    let mut from = source
        .connect()
        .with_context(|| format!("connecting to the {}", source.describe()))?;
    let mut into = target
        .connect()
        .with_context(|| format!("connecting to the {}", target.describe()))?;
    eprintln!(
        "qntx: copying the {} into the {}",
        source.describe(),
        target.describe()
    );
    let mut report = |table: &'static Table, done: u64, total: u64| {
        if done == total || done.is_multiple_of(u64::from(table.page) * 20) {
            eprintln!("qntx: {}: {done} of {total} rows", table.name);
        }
    };
    let copied = match database::copy(from.as_mut(), into.as_mut(), force, &mut report) {
        Ok(copied) => copied,
        Err(error @ CopyError::NotEmpty { .. }) => {
            bail!(
                "{}: {error}; --force deletes every row of the target's tables first",
                target.describe()
            )
        }
        Err(error) => {
            let explained = match &error {
                CopyError::Storage { source: cause, .. } => {
                    format!(": {}", into.explain(cause))
                }
                _ => String::new(),
            };
            bail!("copying into the {}: {error}{explained}", target.describe());
        }
    };
    for (table, count) in &copied.cleared {
        eprintln!("qntx: deleted {count} rows of {table} in the target first (--force)");
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{:<20} {:>10} {:>10}", "table", "source", "target")?;
    for (table, source, target) in &copied.tables {
        writeln!(out, "{table:<20} {source:>10} {target:>10}")?;
    }
    Ok(Outcome::Ok)
}

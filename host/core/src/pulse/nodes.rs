//! The nodes that run on a database, so that a job can say where each attempt ran and whether
//! any live node serves its handler.

use rusqlite::{Connection, OptionalExtension, params};

use super::Result;

macro_rules! sql {
    ($name:literal) => {
        include_str!(concat!("sql/", $name, ".sql"))
    };
}

/// A node as it recorded itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NodeRecord {
    /// Its id: the lease owner of its claims.
    pub id: String,
    /// The machine's host name.
    pub host: String,
    /// Its process id.
    pub pid: u32,
    /// When it started, Unix milliseconds.
    pub started_at: i64,
    /// When it last renewed its leases.
    pub seen_at: i64,
    /// Its lease: it is live until `seen_at + lease_ms` unless it stopped.
    pub lease_ms: i64,
    /// When it stopped, if it stopped cleanly.
    pub stopped_at: Option<i64>,
}

/// Record that node `id` is alive at `now` and serves `handlers`.
///
/// # Errors
///
/// [`super::Error::Sqlite`] on database failure.
pub fn heartbeat(
    conn: &Connection,
    id: &str,
    lease_ms: i64,
    handlers: &[String],
    now: i64,
) -> Result<()> {
    let handlers = serde_json::to_string(handlers).expect("strings serialize");
    conn.prepare_cached(sql!("node_upsert"))?.execute(params![
        id,
        host_name(),
        std::process::id(),
        now,
        lease_ms.max(1),
        handlers
    ])?;
    Ok(())
}

/// Record that node `id` stopped.
///
/// # Errors
///
/// [`super::Error::Sqlite`] on database failure.
pub fn stopped(conn: &Connection, id: &str, now: i64) -> Result<()> {
    conn.prepare_cached(sql!("node_stop"))?
        .execute(params![id, now])?;
    Ok(())
}

/// The live nodes serving `handler` at `now`.
///
/// # Errors
///
/// [`super::Error::Sqlite`] on database failure.
pub fn serving(conn: &Connection, handler: &str, now: i64) -> Result<Vec<String>> {
    Ok(conn
        .prepare_cached(sql!("nodes_serving"))?
        .query_map(params![handler, now], |row| row.get(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The record of node `id`, if it left one.
///
/// # Errors
///
/// [`super::Error::Sqlite`] on database failure.
pub fn get(conn: &Connection, id: &str) -> Result<Option<NodeRecord>> {
    Ok(conn
        .prepare_cached(sql!("node_get"))?
        .query_row([id], |row| {
            Ok(NodeRecord {
                id: row.get(0)?,
                host: row.get(1)?,
                pid: row.get(2)?,
                started_at: row.get(3)?,
                seen_at: row.get(4)?,
                lease_ms: row.get(5)?,
                stopped_at: row.get(6)?,
            })
        })
        .optional()?)
}

/// Forget the nodes last seen before `before`; how many.
///
/// # Errors
///
/// [`super::Error::Sqlite`] on database failure.
pub fn prune(conn: &Connection, before: i64) -> Result<usize> {
    Ok(conn
        .prepare_cached(sql!("nodes_prune"))?
        .execute([before])?)
}

/// This machine's host name (Linux), or `unknown`.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

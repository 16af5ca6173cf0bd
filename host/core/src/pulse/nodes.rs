//! The nodes that run on a database, so that a job can say where each attempt ran and whether
//! any live node serves its handler.

use super::Result;
use crate::storage::{Heartbeat, Store};

pub use super::records::NodeRecord;

/// Record that node `id` is alive at `now` and serves `handlers`.
///
/// # Errors
///
/// [`super::Error::Storage`] on database failure.
pub fn heartbeat(
    store: &dyn Store,
    id: &str,
    lease_ms: i64,
    handlers: &[String],
    now: i64,
) -> Result<()> {
    Ok(store.node_heartbeat(&Heartbeat {
        id,
        host: &host_name(),
        pid: std::process::id(),
        lease_ms: lease_ms.max(1),
        handlers,
        now,
    })?)
}

/// Record that node `id` stopped.
///
/// # Errors
///
/// [`super::Error::Storage`] on database failure.
pub fn stopped(store: &dyn Store, id: &str, now: i64) -> Result<()> {
    Ok(store.node_stop(id, now)?)
}

/// The live nodes serving `handler` at `now`.
///
/// # Errors
///
/// [`super::Error::Storage`] on database failure.
pub fn serving(store: &dyn Store, handler: &str, now: i64) -> Result<Vec<String>> {
    Ok(store.nodes_serving(handler, now)?)
}

/// The record of node `id`, if it left one.
///
/// # Errors
///
/// [`super::Error::Storage`] on database failure.
pub fn get(store: &dyn Store, id: &str) -> Result<Option<NodeRecord>> {
    Ok(store.node_get(id)?)
}

/// Forget the nodes last seen before `before`; how many.
///
/// # Errors
///
/// [`super::Error::Storage`] on database failure.
pub fn prune(store: &dyn Store, before: i64) -> Result<usize> {
    Ok(store.nodes_prune(before)?)
}

/// This machine's host name (Linux), or `unknown`.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

//! Statements on node records: which nodes run on the store and what they serve.

use super::Result;
use crate::pulse::NodeRecord;

/// A node's heartbeat.
#[derive(Debug, Clone, Copy)]
pub struct Heartbeat<'a> {
    /// The node's id.
    pub id: &'a str,
    /// The machine's host name.
    pub host: &'a str,
    /// The node's process id.
    pub pid: u32,
    /// Its lease, milliseconds (at least 1).
    pub lease_ms: i64,
    /// The handlers it serves.
    pub handlers: &'a [String],
    /// Now, Unix milliseconds.
    pub now: i64,
}

/// Statements on nodes.
pub trait Nodes {
    /// Record that a node is alive and what it serves.
    fn node_heartbeat(&self, beat: &Heartbeat<'_>) -> Result<()>;

    /// Record that node `id` stopped at `now`.
    fn node_stop(&self, id: &str, now: i64) -> Result<()>;

    /// The live nodes serving `handler` at `now`.
    fn nodes_serving(&self, handler: &str, now: i64) -> Result<Vec<String>>;

    /// The record of node `id`, if it left one.
    fn node_get(&self, id: &str) -> Result<Option<NodeRecord>>;

    /// Forget the nodes last seen before `before`; how many.
    fn nodes_prune(&self, before: i64) -> Result<usize>;
}

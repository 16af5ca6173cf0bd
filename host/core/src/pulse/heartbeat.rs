//! The node heartbeat: records that this node is alive and which handlers it serves, so that
//! `qntx job show` names serving nodes and the pruner keeps the records of live nodes.

use std::sync::Arc;
use std::time::Duration;

use super::service::{Service, ServiceReport};
use super::{Registry, Result, nodes};
use crate::clock::{Clock, millis};
use crate::storage::Connection;

/// Settings of the [`NodeHeartbeat`].
#[derive(Debug, Clone)]
pub struct HeartbeatConfig {
    /// The node's lease: it counts as live until a lease after its last heartbeat, which
    /// comes every third of it.
    pub lease: Duration,
}

/// Records node `id` as alive, serving the handlers of its registry.
#[derive(Debug)]
pub struct NodeHeartbeat {
    conn: Box<dyn Connection>,
    id: String,
    registry: Arc<Registry>,
    clock: Arc<dyn Clock>,
    config: HeartbeatConfig,
}

/// What one heartbeat recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeartbeatReport {
    /// Handlers the node serves.
    pub handlers: usize,
}

impl NodeHeartbeat {
    /// The heartbeat of node `id`, on its own connection.
    pub fn new(
        conn: Box<dyn Connection>,
        id: impl Into<String>,
        registry: Arc<Registry>,
        clock: Arc<dyn Clock>,
        config: HeartbeatConfig,
    ) -> Self {
        Self {
            conn,
            id: id.into(),
            registry,
            clock,
            config,
        }
    }
}

impl Service for NodeHeartbeat {
    type Report = HeartbeatReport;

    fn name(&self) -> &'static str {
        "heartbeat"
    }

    fn interval(&self) -> Duration {
        self.config.lease / 3
    }

    fn while_draining(&self) -> bool {
        true
    }

    fn run_once(&mut self) -> Result<HeartbeatReport> {
        let handlers = self.registry.names();
        nodes::heartbeat(
            &**self.conn,
            &self.id,
            millis(self.config.lease),
            &handlers,
            self.clock.now_ms(),
        )?;
        Ok(HeartbeatReport {
            handlers: handlers.len(),
        })
    }

    fn explain(&self, error: &super::Error) -> String {
        self.conn.explain(error)
    }
}

impl ServiceReport for HeartbeatReport {}

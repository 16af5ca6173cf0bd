//! Cold start: how long until a node with N plugins is ready (plugins compiled or loaded from
//! the compile cache, initialised, registered; workers started). First start compiles every
//! component; a restart on the same data directory loads them from the cache.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::node::{Node, NodeConfig};

/// One start of a node.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ColdStart {
    /// `first` or `restart`.
    pub start: String,
    /// Plugins loaded.
    pub plugins: usize,
    /// Components compiled / loaded from the cache.
    pub compiled: usize,
    /// Components loaded from the compile cache.
    pub cached: usize,
    /// `Node::start` → ready, milliseconds.
    pub ready_ms: f64,
}

/// Start a node on a fresh data directory holding `plugins`, stop it, start it again.
pub fn measure(plugins: &[PathBuf]) -> anyhow::Result<Vec<ColdStart>> {
    let dir = tempfile::tempdir().context("creating a scratch data directory")?;
    let plugin_dir = super::guests::plugin_dir(dir.path(), plugins)?;
    let mut rows = Vec::new();
    for start in ["first", "restart"] {
        let config = NodeConfig::new(dir.path().to_owned(), vec![plugin_dir.clone()]);
        let started = Instant::now();
        let node = Node::start(config)?;
        let ready_ms = started.elapsed().as_secs_f64() * 1e3;
        if node.plugins().len() != plugins.len() {
            anyhow::bail!(
                "{} of {} plugins loaded: {:?}",
                node.plugins().len(),
                plugins.len(),
                node.refused()
            );
        }
        let stats = node.compile_stats();
        rows.push(ColdStart {
            start: start.into(),
            plugins: node.plugins().len(),
            compiled: stats.compiled,
            cached: stats.cached,
            ready_ms,
        });
        node.shutdown(Duration::from_secs(5));
    }
    Ok(rows)
}

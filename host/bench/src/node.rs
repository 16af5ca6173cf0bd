//! A node in a process of its own, for the cluster benchmarks: the benchmark binary run with
//! [`NODE_ARG`] starts a node on a database and runs it until its stdin closes.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use qntx::node::{Node, NodeConfig};
use qntx::storage::Backend;

/// The argument that makes the benchmark binary run as a node: `NODE_ARG TARGET PLUGINS
/// WORKERS`, where TARGET is a `postgres://` URL or a data directory (SQLite).
pub const NODE_ARG: &str = "--qntx-node";

/// The command that runs this binary as a node on `target`.
///
/// # Errors
///
/// When the path of this binary is unknown.
pub fn command(target: &str, plugins: &Path, workers: usize) -> anyhow::Result<Command> {
    let mut command = Command::new(std::env::current_exe().context("finding this binary")?);
    command
        .arg(NODE_ARG)
        .arg(target)
        .arg(plugins)
        .arg(workers.to_string());
    Ok(command)
}

/// Run as a node: the arguments after [`NODE_ARG`].
///
/// # Errors
///
/// Malformed arguments, or a node that does not start.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let [target, plugins, workers] = args else {
        anyhow::bail!("{NODE_ARG} needs TARGET PLUGINS WORKERS");
    };
    let workers: usize = workers.parse().context("WORKERS is a number")?;
    // On PostgreSQL the data directory holds only what the node keeps locally.
    let scratch = tempfile::tempdir()?;
    let postgres = target.starts_with("postgres://");
    let data_dir = if postgres {
        scratch.path().to_owned()
    } else {
        PathBuf::from(target)
    };
    let mut config = NodeConfig::new(data_dir, vec![PathBuf::from(plugins)]);
    config.workers = workers;
    let node = if postgres {
        let backend = qntx_postgres::PostgresBackend::open(target, Default::default())?;
        Node::start_on(config, Arc::new(backend) as Arc<dyn Backend>)?
    } else {
        Node::start(config)?
    };
    // Closing stdin stops the node: the benchmark ended or died.
    let _closed = std::io::stdin().read_to_end(&mut Vec::new());
    node.shutdown(Duration::from_secs(5));
    Ok(())
}

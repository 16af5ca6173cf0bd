//! `qntx run`: the node.

use std::time::Duration;

use anyhow::Context;

use super::{Global, Outcome, output};
use crate::node::{Node, NodeConfig};
use crate::pulse::store::Activity;

/// Start the node: load plugins, register their handlers with Pulse, run jobs
///
/// Runs until SIGINT or SIGTERM, then stops claiming and lets running jobs finish within the
/// grace period; jobs still running after it go back to the queue without losing an attempt.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Worker threads; each runs one job at a time in a fresh sandbox
    #[arg(long, default_value_t = 2, value_name = "N")]
    workers: usize,

    /// Exit once no job for this node's handlers is runnable
    #[arg(long)]
    until_idle: bool,

    /// How long running jobs may take to finish at shutdown
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = output::parse_duration)]
    grace: Duration,

    /// Wall-clock limit of a job attempt that names none
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = output::parse_duration)]
    default_timeout: Duration,
}

pub(super) fn run(global: &Global, args: RunArgs) -> anyhow::Result<Outcome> {
    let node = start(global, &args)?;
    if args.until_idle {
        let left = node.wait_until_idle().context("waiting for jobs")?;
        report_left(&left);
    } else {
        wait_for_signal()?;
        eprintln!(
            "qntx: stopping; running jobs have {:?} to finish",
            args.grace
        );
    }
    node.shutdown(args.grace);
    Ok(Outcome::Ok)
}

/// Start a node as `qntx run` would, and say what it loaded.
pub(super) fn start(global: &Global, args: &RunArgs) -> anyhow::Result<Node> {
    let data_dir = global.data_dir()?;
    let mut config = NodeConfig::new(data_dir.clone(), global.plugin_dirs()?);
    config.workers = args.workers.max(1);
    config.worker.default_timeout = args.default_timeout;
    // The sandbox's wall-clock limit is a ceiling on every attempt: keep it at least as long
    // as the default asked for here.
    let ceiling = &mut config.runtime.limits.timeout;
    *ceiling = (*ceiling).max(args.default_timeout);
    let node = Node::start(config)
        .with_context(|| format!("starting node on '{}'", data_dir.display()))?;
    for refused in node.refused() {
        eprintln!("qntx: {}", crate::error_chain(refused));
    }
    Ok(node)
}

fn report_left(left: &Activity) {
    if let Some(next) = left.next_run_at {
        eprintln!(
            "qntx: idle; jobs wait for a retry or a later start (next at {}); run again to process them",
            output::time(next)
        );
    }
}

fn wait_for_signal() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the signal handler")?;
    runtime.block_on(async {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = terminate.recv() => Ok(()),
        }
    })?;
    Ok(())
}

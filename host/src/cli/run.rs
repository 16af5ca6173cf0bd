//! `qntx run`: the node.

use std::path::PathBuf;
use std::time::Duration;

use std::sync::Arc;

use anyhow::{Context, anyhow, bail};

use super::{Global, Outcome, config, output};
use crate::clock::now_ms;
use crate::database::{Counting, SqliteLimits};
use crate::http::{HttpConfig, NodeContext};
use crate::metrics::Metrics;
use crate::node::{Node, NodeConfig};
use crate::pulse::limits::HandlerSetting;
use crate::pulse::store::{self, Activity};
use crate::pulse::{ConfigError, Period, WorkerConfig};
use crate::storage::Backend;

/// The flags of `qntx run` (its help text is on `Command::Run`).
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Worker threads (1 to 256); each runs one job at a time in a fresh sandbox
    #[arg(long, default_value_t = 2, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    workers: u16,

    /// Exit once no job for this node's handlers is runnable
    #[arg(long)]
    until_idle: bool,

    /// How long running jobs may take to finish at shutdown (at most 1h)
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = output::parse_duration)]
    grace: Duration,

    /// Wall-clock limit of a job attempt that names none (at most 7d)
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = output::parse_duration)]
    default_timeout: Duration,

    /// How long a claim holds a job without renewal: a crashed node's jobs are rescued after
    /// it (300ms to 1d) [default: 30s]
    #[arg(long, value_name = "DURATION", value_parser = output::parse_duration, help_heading = "Pulse")]
    lease: Option<Duration>,

    /// Most jobs one claim takes for this node's workers to share [default: 32]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000), help_heading = "Pulse")]
    claim_batch: Option<u32>,

    /// A claim takes no more jobs than a worker is expected to finish in this time, judging
    /// by the node's recent jobs; 0s claims one job at a time [default: 10ms]
    #[arg(long, value_name = "DURATION", value_parser = output::parse_duration, help_heading = "Pulse")]
    claim_horizon: Option<Duration>,

    /// Delete finished jobs after this long (at most 100 years) [default: 7d]
    #[arg(long, value_name = "DURATION", value_parser = output::parse_duration, help_heading = "Pulse")]
    retention: Option<Duration>,

    /// Limit a handler to N job starts per minute, over all nodes; repeatable
    #[arg(long, value_name = "HANDLER=N", help_heading = "Pulse")]
    rate: Vec<HandlerSetting>,

    /// Limit a handler to N jobs running at once, over all nodes; repeatable
    #[arg(long, value_name = "HANDLER=N", help_heading = "Pulse")]
    concurrency: Vec<HandlerSetting>,

    /// Most levels of child jobs below a root job: a guest's enqueue past it is refused
    /// [default: 32]
    #[arg(long, value_name = "N", help_heading = "Pulse")]
    max_job_depth: Option<u32>,

    /// Most jobs in one job tree below its root, over all depths [default: 10000]
    #[arg(long, value_name = "N", help_heading = "Pulse")]
    max_job_descendants: Option<u64>,

    /// Serve the HTTP API here; port 0 picks a free one (logged at start). An address other
    /// machines can reach needs at least one token (qntx token create) [default: [http] addr
    /// in qntx.toml, else 127.0.0.1:8770]
    #[arg(long, env = "QNTX_HTTP", value_name = "ADDR", help_heading = "HTTP")]
    http: Option<std::net::SocketAddr>,

    /// Serve no HTTP, whatever --http, QNTX_HTTP or [http] say
    #[arg(long, help_heading = "HTTP")]
    no_http: bool,

    /// Where compilers and build caches of handlers created over HTTP live; installed there on
    /// first use [default: ~/.cache/qntx/toolchains]
    #[arg(
        long,
        env = "QNTX_TOOLCHAINS",
        value_name = "DIR",
        help_heading = "HTTP"
    )]
    toolchains: Option<PathBuf>,
}

pub(super) fn run(global: &Global, args: RunArgs) -> anyhow::Result<Outcome> {
    let http = http_config(global, &args)?;
    // Before the node starts, so that its first jobs are counted.
    let metrics = match &http {
        Some(_) => Some(Metrics::install().context("recording metrics for /metrics")?),
        None => None,
    };
    let (node, backend) = start(global, &args)?;
    let http = match http {
        Some(http) => Some(serve_http(&http, global, &args, &node, backend, metrics)?),
        None => None,
    };
    if node.plugins().is_empty() && !node.refused().is_empty() && node.registry().names().is_empty()
    {
        bail!(
            "every plugin file was refused ({}, reasons above) and there is no user handler: \
             this node would serve nothing",
            node.refused().len()
        );
    }
    if args.until_idle {
        let left = node.wait_until_idle().context("waiting for jobs")?;
        report_left(&left);
        let stranded = global
            .with_store(|conn| Ok(store::queued_unserved(conn, &node.registry().names())?))?;
        if !stranded.is_empty() {
            let jobs = stranded
                .iter()
                .map(|(handler, count)| format!("{handler} ({count})"))
                .collect::<Vec<_>>()
                .join(", ");
            if !node.refused().is_empty() {
                let refused = node
                    .refused()
                    .iter()
                    .map(|error| format!("\n  - {}", crate::error_chain(error)))
                    .collect::<String>();
                node.shutdown(args.grace);
                bail!(
                    "jobs stay queued for handlers this node does not serve: {jobs}; plugin \
                     files were refused:{refused}"
                );
            }
            eprintln!("qntx: idle; jobs stay queued for handlers this node does not serve: {jobs}");
        }
    } else {
        wait_for_signal()?;
        eprintln!(
            "qntx: stopping; running jobs have {:?} to finish",
            args.grace
        );
    }
    if let Some(server) = http {
        server.stop();
    }
    node.shutdown(args.grace);
    Ok(Outcome::Ok)
}

/// Where to serve the API, or `None` not to: `--http`/`--no-http`, else `[http]`.
fn http_config(global: &Global, args: &RunArgs) -> anyhow::Result<Option<HttpConfig>> {
    let file = config::load(&global.data_dir()?)?.http;
    if args.no_http || (args.http.is_none() && file.enabled == Some(false)) {
        return Ok(None);
    }
    let addr = match args.http.or(file.addr) {
        Some(addr) => addr,
        None => crate::http::DEFAULT_ADDR
            .parse()
            .expect("the default address parses"),
    };
    let mut http = HttpConfig::new(addr);
    if let Some(timeout) = file.request_timeout {
        http.request_timeout = timeout;
    }
    Ok(Some(http))
}

/// Serve the API of `node`.
fn serve_http(
    http: &HttpConfig,
    global: &Global,
    args: &RunArgs,
    node: &Node,
    backend: Arc<dyn Backend>,
    metrics: Option<&'static Metrics>,
) -> anyhow::Result<crate::http::Server> {
    let data_dir = global.data_dir()?;
    let context = NodeContext {
        backend,
        node_id: node.id().to_owned(),
        plugin_dirs: global.plugin_dirs()?,
        metrics,
        cache_dir: Some(crate::node::cache_dir(&data_dir)),
        toolchains: args.toolchains.clone(),
        settings: Some(Arc::new(config::Settings(data_dir))),
    };
    let server = crate::http::Server::start(http, context)
        .context("starting the HTTP API (--http ADDR serves it elsewhere, --no-http not at all)")?;
    eprintln!("qntx: serving the HTTP API on http://{}", server.addr());
    Ok(server)
}

/// Start a node as `qntx run` would, and say what it loaded; the node and its store.
fn start(global: &Global, args: &RunArgs) -> anyhow::Result<(Node, Arc<dyn Backend>)> {
    let data_dir = global.data_dir()?;
    let file = config::load(&data_dir)?;
    let mut config = NodeConfig::new(data_dir.clone(), global.plugin_dirs()?);
    config.workers = usize::from(args.workers).max(1);
    if args.grace > MAX_GRACE {
        anyhow::bail!("--grace {:?} is longer than the limit of 1h", args.grace);
    }
    config.set_default_timeout(args.default_timeout);
    config.worker.lease = args
        .lease
        .or(file.pulse.lease)
        .unwrap_or(WorkerConfig::DEFAULT_LEASE);
    if let Some(batch) = args.claim_batch.or(file.pulse.claim_batch) {
        config.worker.claim_batch = batch;
    }
    if let Some(horizon) = args.claim_horizon.or(file.pulse.claim_horizon) {
        config.worker.claim_horizon = horizon;
    }
    if let Some(retention) = args.retention.or(file.pulse.retention) {
        config.pruner.retention = retention;
    }
    if let Some(depth) = args.max_job_depth.or(file.pulse.max_job_depth) {
        config.worker.tree.depth = depth;
    }
    if let Some(descendants) = args.max_job_descendants.or(file.pulse.max_job_descendants) {
        config.worker.tree.descendants = descendants;
    }
    // Flags hold --claim-batch in bounds, so only the settings file can give a bad one.
    config.validate().map_err(|error| match error {
        ConfigError::DefaultTimeout(reason) => anyhow!("--default-timeout: {reason}"),
        ConfigError::ClaimBatch(batch) => {
            anyhow!("claim_batch {batch} in the settings file must be from 1 to 1000")
        }
        error => error.into(),
    })?;
    config.worker.limits = file.pulse.limits();
    for setting in &args.rate {
        config
            .worker
            .limits
            .set_per_minute(&setting.handler, setting.value);
    }
    for setting in &args.concurrency {
        config
            .worker
            .limits
            .set_concurrency(&setting.handler, setting.value);
    }
    if let Some(budget) = file.pulse.budget {
        global.with_store(|conn| {
            for period in Period::ALL {
                store::set_budget(conn, period, budget.get(period), now_ms())
                    .with_context(|| format!("applying the {period} budget of qntx.toml"))?;
            }
            Ok(())
        })?;
    }
    let limits = SqliteLimits {
        busy_timeout: config.busy_timeout,
        wal_threshold: config.wal_threshold,
    };
    let backend = Arc::new(Counting::new(global.backend_in(&data_dir, limits)?));
    let described = backend.describe();
    let workers = config.workers;
    let node = Node::start_on(config, backend.clone())
        .with_context(|| format!("starting node on the {described}"))?;
    // A PostgreSQL backend holds one listening connection of its own besides those counted.
    let listener = usize::from(backend.local_dir().is_none());
    let others = backend.open().saturating_sub(workers);
    tracing::info!(
        "connections: {} (workers {workers}, services and pools {others}, listener {listener})",
        backend.open() + listener,
    );
    for refused in node.refused() {
        eprintln!("qntx: {}", crate::error_chain(refused));
    }
    Ok((node, backend as Arc<dyn Backend>))
}

/// Longest `--grace`: 1 hour.
const MAX_GRACE: Duration = Duration::from_secs(3600);

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

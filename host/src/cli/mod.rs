//! The `qntx` command line: one module per command group.

mod ats;
mod bench_ats;
mod bench_pulse;
mod budget;
mod config;
mod db;
mod demo;
mod enqueue;
mod handler;
mod job;
mod job_list;
mod lang;
mod output;
mod plugin;
mod run;
mod schedule;
mod token;
mod wait;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::database::{self, DatabaseConfig, SqliteLimits};
use crate::storage;

/// A node that stores attestations, runs durable jobs, and runs every plugin in a
/// WebAssembly sandbox
#[derive(Debug, Parser)]
#[command(
    name = "qntx",
    version,
    after_help = "Examples:\n  \
        qntx plugin build plugins/text          build a plugin into <data-dir>/plugins\n  \
        qntx job enqueue text/stats --payload '{\"text\": \"a b\\nc\"}'\n  \
        qntx run --until-idle                   run queued jobs, then exit"
)]
pub struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Settings every command shares.
#[derive(Debug, clap::Args)]
pub struct Global {
    /// Directory holding the database and, by default, plugins
    #[arg(long, global = true, env = "QNTX_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// The store: postgres://USER:PASSWORD@HOST:PORT/DB, or sqlite://PATH or a file path
    /// [default: [database] url in <data-dir>/qntx.toml, else <data-dir>/qntx.db]
    #[arg(long, global = true, env = "QNTX_DATABASE", value_name = "URL")]
    database: Option<String>,

    /// Directory of plugin components (*.wasm); repeatable [default: <data-dir>/plugins]
    #[arg(
        long = "plugins",
        global = true,
        env = "QNTX_PLUGINS",
        value_name = "DIR"
    )]
    plugin_dirs: Vec<PathBuf>,

    /// Log more (-v: info, -vv: debug, -vvv: trace); RUST_LOG overrides
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
}

impl Global {
    /// The data directory: `--data-dir`, `QNTX_DATA_DIR`, or `~/.qntx`.
    fn data_dir(&self) -> anyhow::Result<PathBuf> {
        match &self.data_dir {
            Some(dir) => Ok(dir.clone()),
            None => std::env::home_dir()
                .map(|home| home.join(".qntx"))
                .ok_or_else(|| anyhow::anyhow!("no home directory; pass --data-dir DIR")),
        }
    }

    /// Which store to open: `--database`, `QNTX_DATABASE`, then `[database]` in
    /// `<data_dir>/qntx.toml`; none of them: `<data_dir>/qntx.db`.
    fn database_config(&self, data_dir: &Path) -> anyhow::Result<DatabaseConfig> {
        let file = config::load(data_dir)?.database;
        let defaults = DatabaseConfig::default();
        Ok(DatabaseConfig {
            url: self.database.clone().or(file.url),
            listen: file.listen.unwrap_or(defaults.listen),
            poll_interval: file.poll_interval.unwrap_or(defaults.poll_interval),
        })
    }

    /// The store of the data directory (created and migrated if needed), or the one
    /// [`Self::database_config`] names.
    fn backend(&self) -> anyhow::Result<Arc<dyn storage::Backend>> {
        self.backend_in(&self.data_dir()?, SqliteLimits::default())
    }

    /// [`Self::backend`] for the data directory `data_dir`, SQLite files opened with `limits`.
    fn backend_in(
        &self,
        data_dir: &Path,
        limits: SqliteLimits,
    ) -> anyhow::Result<Arc<dyn storage::Backend>> {
        let config = self.database_config(data_dir)?;
        let named = config.url.is_some();
        let opened = database::open(&config, data_dir, limits);
        if named {
            Ok(opened?)
        } else {
            opened.with_context(|| format!("opening the database in '{}'", data_dir.display()))
        }
    }

    /// A connection to the store.
    fn connect(&self) -> anyhow::Result<Box<dyn storage::Connection>> {
        let backend = self.backend()?;
        backend
            .connect()
            .with_context(|| format!("connecting to the {}", backend.describe()))
    }

    /// Run `command` on a connection to the store; a store fault it returns is explained by
    /// that connection ([`storage::Connection::explain`]: the file and the OS error, or the
    /// server), asked before anything else runs on it.
    fn with_store<T>(
        &self,
        command: impl FnOnce(&mut dyn storage::Connection) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let mut conn = self.connect()?;
        command(conn.as_mut()).map_err(|error| {
            let store_fault = error
                .chain()
                .any(|cause| cause.downcast_ref::<storage::Error>().is_some());
            if store_fault {
                anyhow::anyhow!(conn.explain(error.as_ref()))
            } else {
                error
            }
        })
    }

    /// The plugin directories: `--plugins`, or `<data-dir>/plugins` (created if missing).
    fn plugin_dirs(&self) -> anyhow::Result<Vec<PathBuf>> {
        if !self.plugin_dirs.is_empty() {
            return Ok(self.plugin_dirs.clone());
        }
        let dir = self.data_dir()?.join("plugins");
        std::fs::create_dir_all(&dir)
            .map_err(|e| anyhow::anyhow!("creating plugin directory '{}': {e}", dir.display()))?;
        Ok(vec![dir])
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the node: load plugins, register their handlers, run jobs
    ///
    /// Runs until SIGINT or SIGTERM, then stops claiming and lets running jobs finish within the
    /// grace period; jobs still running after it go back to the queue without losing an attempt.
    ///
    /// A node whose plugin files are all refused, with no user handler, exits with an error at
    /// once. With --until-idle, jobs left queued for handlers the node does not serve are named
    /// at exit, and when plugin files were refused the exit is an error (2) naming each refusal.
    ///
    /// Settings come from <data-dir>/qntx.toml ([pulse] lease, retention, budget, handlers); these
    /// flags override it. Its [pulse.budget] is written to the database at start.
    ///
    /// Workers, concurrency and timeouts: each of the --workers threads runs one job at a time, so
    /// at most N jobs run at once. While more than one plugin (or user handler) is registered, no
    /// plugin gets more than N-1 workers (its manifest's [limits] concurrency can lower that): a
    /// plugin whose jobs run long leaves the others at least one worker, and a worker never waits
    /// for a plugin's slot while other handlers have work. A job holds its worker until it ends or
    /// reaches its timeout (--timeout at enqueue, else --default-timeout, never more than the
    /// plugin's limit), so a plugin of long jobs delays its own next jobs by up to that timeout per
    /// attempt; raise --workers, or --concurrency HANDLER=N (over all nodes), to change that.
    ///
    /// Connections: a node holds one connection per worker, one per maintenance service (nine)
    /// and one for the watch of commits, a pool for what running jobs read and write (opened as
    /// needed, two per worker kept open) and two for its own reads and handler discovery; on
    /// PostgreSQL one more listens for changes. -v logs the count once started. Size
    /// PostgreSQL's max_connections to at least the sum over every node and command sharing the
    /// database, e.g. 3 nodes with --workers 4: 3 x (4 + 10 + 8 + 3 + 1) = 78, plus a few for
    /// commands and superuser_reserved_connections.
    Run(run::RunArgs),
    /// Enqueue, inspect, follow, cancel, pause, resume and retry jobs
    #[command(subcommand)]
    Job(job::JobCommand),
    /// List, add, pause, resume and run schedules; list watchers
    #[command(subcommand)]
    Schedule(schedule::ScheduleCommand),
    /// Show and set the spend limits jobs run under
    #[command(subcommand)]
    Budget(budget::BudgetCommand),
    /// Measure the node (not a test: prints a table and writes JSON)
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Build, inspect and list plugins
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// Create user handlers from one source file, list, show, roll back and remove them
    #[command(subcommand)]
    Handler(handler::HandlerCommand),
    /// Build the example plugins in this checkout and show them at work
    Demo(demo::DemoArgs),
    /// Show what the store holds, and copy it into another (SQLite to PostgreSQL)
    #[command(subcommand)]
    Db(db::DbCommand),
    /// Create, list and revoke the bearer tokens of the HTTP API
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Record an attestation: qntx as ALICE is author of github by bob
    As(ats::AsArgs),
    /// Query attestations: qntx ax ALICE is author since "7 days ago"
    Ax(ats::AxArgs),
}

/// `qntx bench`: one subcommand per area. Subcommands rather than `cargo bench` targets: they
/// run in the binary the tests already build (the dev profile, every dependency optimised), so
/// measuring costs no release build of wasmtime, and smoke tests run them with tiny sizes.
#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Pulse throughput (enqueue, claim, fresh sandbox, complete) and claim latency
    Pulse(bench_pulse::BenchPulseArgs),
    /// Load attestations into a scratch database; time writes and queries
    ///
    /// Writes COUNT attestations (the first --single one transaction each, the rest in
    /// transactions of --batch), then runs each query shape --queries times with random
    /// values and reports the median and 99th percentile latency. Subjects are COUNT/10
    /// distinct values, predicates 50, contexts 200, actors 1,000, sources 5, attributes a
    /// language (one of 8) and a number; times span the past year.
    Ats(bench_ats::AtsArgs),
}

/// A command's answer: success, or a negative answer that is not an error (exit 1).
pub(crate) enum Outcome {
    Ok,
    No,
}

/// Parse arguments, run the command, print errors, return the exit code: 0 ok, 1 a negative
/// answer, 2 an error.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(&cli);
    let result = match cli.command {
        Command::Run(args) => run::run(&cli.global, args),
        Command::Job(command) => job::run(&cli.global, command),
        Command::Budget(command) => budget::run(&cli.global, command),
        Command::Schedule(command) => schedule::run(&cli.global, command),
        Command::Bench(BenchCommand::Pulse(args)) => bench_pulse::run(&cli.global, args),
        Command::Bench(BenchCommand::Ats(args)) => bench_ats::run(args),
        Command::Plugin(command) => plugin::run(&cli.global, command),
        Command::Handler(command) => handler::run(&cli.global, command),
        Command::Demo(args) => demo::run(&cli.global, args),
        Command::Db(command) => db::run(&cli.global, command),
        Command::Token(command) => token::run(&cli.global, command),
        Command::As(args) => ats::run_as(&cli.global, args),
        Command::Ax(args) => ats::run_ax(&cli.global, args),
    };
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::No) => ExitCode::from(1),
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("qntx: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn init_tracing(cli: &Cli) {
    let default = match (cli.global.verbose, &cli.command) {
        // `handler create` says what it installs and builds.
        (0, Command::Run(_) | Command::Demo(_) | Command::Handler(_)) => "qntx=info,warn",
        (0, Command::Bench(_)) => "error",
        (0, _) => "warn",
        (1, _) => "qntx=info,warn",
        (2, _) => "qntx=debug,info",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colours only for a terminal: a log file or a pipe gets plain text.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_target(false)
        .init();
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}

//! `cargo bench -p qntx-bench`: the whole benchmark suite on an optimised build, with the gRPC
//! round trip of the original architecture. Prints a table and writes the figures as JSON.
//!
//! Options (after `--`): `--tiny` measures each benchmark once with tiny sizes; `--only
//! throughput,latency` runs only the benchmarks named (`dispatch`, `throughput`, `latency`,
//! `cold-start`, `claims`, `memory`, `cluster`); `--out PATH` writes the JSON there (default
//! `target/qntx-bench/report.json`).
//!
//! Claims and the cluster runs measure SQLite and PostgreSQL side by side: the PostgreSQL
//! server is started here (durable settings, on loopback, sharing the machine's cores), as the
//! tests start theirs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use std::sync::Arc;

use anyhow::Context;
use qntx::bench::{Cluster, Database, Options, Sizes};
use qntx::sqlite::SqliteBackend;
use qntx::storage::Backend;
use qntx_bench::{GrpcPlugin, SERVE_ARG, node};
use qntx_pgtest::{Durability, Server};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = if args.iter().any(|a| a == SERVE_ARG) {
        qntx_bench::serve()
    } else if args.first().is_some_and(|a| a == node::NODE_ARG) {
        node::run(&args[1..])
    } else {
        run(&args)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("qntx-bench: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .context("host/bench lies two levels below the repository root")?
        .to_owned();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join("qntx-bench");
    let mut out = target.join("report.json");
    let mut sizes = Sizes::full();
    let mut only = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--tiny" => sizes = Sizes::tiny(),
            "--only" => {
                let names = args.next().context("--only needs benchmark names")?;
                only = Some(names.split(',').map(str::trim).collect::<Vec<_>>());
            }
            "--out" => out = PathBuf::from(args.next().context("--out needs a path")?),
            // cargo passes --bench to a benchmark without the libtest harness.
            "--bench" => {}
            other => anyhow::bail!(
                "unknown argument '{other}'; expected --tiny, --only NAME[,NAME...] or --out PATH"
            ),
        }
    }
    if let Some(names) = only {
        sizes = sizes.only(&names)?;
    }
    let options = Options {
        root,
        target_dir: target,
        sizes,
    };
    // The gRPC plugin process is only the dispatch benchmark's baseline.
    let mut grpc = if options.sizes.dispatch_calls > 0 {
        Some(GrpcPlugin::start()?)
    } else {
        None
    };
    let mut baseline = |calls| match grpc.as_mut() {
        Some(grpc) => grpc.time(calls),
        None => anyhow::bail!("the gRPC plugin process is not running"),
    };
    let sizes = &options.sizes;
    let server = if sizes.nodes.is_empty() && sizes.depths.is_empty() {
        None
    } else {
        let server = Server::start_with(Durability::On).map_err(anyhow::Error::msg)?;
        eprintln!(
            "qntx-bench: PostgreSQL on port {}: {}",
            server.port(),
            server.settings()
        );
        Some(server)
    };
    let sqlite = || -> anyhow::Result<(Arc<dyn Backend>, String)> {
        let backend = SqliteBackend::temporary()?;
        let dir = backend
            .path()
            .parent()
            .context("a database file lies in a directory")?;
        let dir = dir.display().to_string();
        Ok((Arc::new(backend), dir))
    };
    let postgres = || -> anyhow::Result<(Arc<dyn Backend>, String)> {
        let url = server.as_ref().context("the server runs")?.database();
        let backend = qntx_postgres::PostgresBackend::open(&url, Default::default())?;
        Ok((Arc::new(backend), url))
    };
    let launch = |target: &str, plugins: &Path, workers: usize| {
        node::command(target, plugins, workers).expect("this binary has a path")
    };
    let cluster = Cluster {
        launch: &launch,
        databases: vec![
            Database {
                kind: "sqlite",
                fresh: &sqlite,
            },
            Database {
                kind: "postgresql",
                fresh: &postgres,
            },
        ],
    };
    let report = qntx::bench::run(
        &options,
        Some(("unary gRPC call to a plugin process", &mut baseline)),
        server.is_some().then_some(&cluster),
        &mut |step| eprintln!("qntx-bench: {step}"),
    )?;
    print!("{}", report.table());
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&out, serde_json::to_string_pretty(&report)?)
        .with_context(|| format!("writing '{}'", out.display()))?;
    eprintln!("qntx-bench: figures written to '{}'", out.display());
    Ok(())
}

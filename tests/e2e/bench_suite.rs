//! The benchmark suite of `cargo bench -p qntx-bench`, run once with tiny sizes so that it cannot
//! rot. It times nothing it asserts on: it checks that every benchmark runs and reports.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use qntx::bench::{Cluster, Database, Options, Sizes, Summary};
use qntx::sqlite::SqliteBackend;
use qntx::storage::Backend;

use crate::fixtures::workspace_root;

#[test]
fn every_benchmark_runs_once_with_tiny_sizes() {
    let sizes = Sizes::tiny();
    let mut baseline_calls = 0;
    let mut baseline = |calls: usize| {
        baseline_calls = calls;
        Ok(Summary::of(vec![1.0; calls]))
    };
    let options = Options {
        root: workspace_root(),
        target_dir: Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench"),
        sizes: sizes.clone(),
    };
    let sqlite = || -> anyhow::Result<(Arc<dyn Backend>, String)> {
        let backend = SqliteBackend::temporary()?;
        let dir = backend.path().parent().unwrap().display().to_string();
        Ok((Arc::new(backend), dir))
    };
    let launch = |data_dir: &str, plugins: &Path, workers: usize| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_qntx"));
        command
            .args(["--data-dir", data_dir, "--plugins"])
            .arg(plugins)
            .args(["run", "--no-http", "--workers", &workers.to_string()]);
        command
    };
    let cluster = Cluster {
        launch: &launch,
        databases: vec![Database {
            kind: "sqlite",
            fresh: &sqlite,
        }],
    };
    let mut steps = Vec::new();
    let report = qntx::bench::run(
        &options,
        Some(("stand-in for the gRPC baseline", &mut baseline)),
        Some(&cluster),
        &mut |step| steps.push(step.to_owned()),
    )
    .unwrap_or_else(|e| panic!("the suite fails: {e:#}"));

    assert_eq!(baseline_calls, sizes.dispatch_calls);
    assert_eq!(report.dispatch.len(), 5, "{:?}", report.dispatch);
    assert!(report.dispatch.iter().all(|row| row.micros.samples > 0));
    assert_eq!(report.queue.len(), sizes.workers.len());
    assert_eq!(report.bare.len(), sizes.workers.len());
    assert_eq!(report.queue_native.len(), sizes.workers.len());
    assert!(report.queue.iter().all(|row| row.jobs == sizes.jobs));
    assert!(report.queue_native.iter().all(|row| row.jobs == sizes.jobs));
    assert_eq!(report.latency.len(), 2);
    assert!(
        report
            .latency
            .iter()
            .all(|row| row.millis.samples == sizes.latency_jobs)
    );
    let starts: Vec<_> = report
        .cold_start
        .iter()
        .map(|row| (row.start.as_str(), row.plugins, row.compiled, row.cached))
        .collect();
    assert_eq!(
        starts,
        [
            ("first", sizes.plugins, sizes.plugins, 0),
            ("restart", sizes.plugins, 0, sizes.plugins)
        ],
        "a restart loads every plugin from the compile cache"
    );
    assert_eq!(
        report.claims.len(),
        sizes.depths.len() + 1,
        "each depth, and the smallest with finished jobs beside it"
    );
    assert_eq!(report.claims.last().unwrap().finished, sizes.history);
    let clusters: Vec<_> = report
        .cluster
        .iter()
        .map(|row| (row.database.as_str(), row.nodes, row.jobs))
        .collect();
    assert_eq!(
        clusters,
        [
            ("sqlite", 1, sizes.cluster_jobs),
            ("sqlite", 2, sizes.cluster_jobs)
        ]
    );
    assert_eq!(report.cluster_latency.len(), 1);
    assert_eq!(
        report.cluster_latency[0].millis.samples,
        sizes.cluster_latency_jobs
    );
    let memory = report.memory.as_ref().expect("the memory figure");
    assert_eq!(memory.in_flight, sizes.in_flight);
    assert!(memory.busy_kib > 0);
    assert!(steps.iter().any(|step| step == "memory"), "{steps:?}");

    let table = report.table();
    for heading in [
        "dispatch",
        "durable throughput",
        "latency",
        "cold start",
        "claim",
        "many nodes on one database",
    ] {
        assert!(table.contains(heading), "{table}");
    }
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["sizes"]["jobs"], sizes.jobs);
}

#[test]
fn only_the_named_benchmarks_run() {
    let options = Options {
        root: workspace_root(),
        target_dir: Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench"),
        sizes: Sizes::tiny().only(&["latency", "claims"]).unwrap(),
    };
    let mut steps = Vec::new();
    let report = qntx::bench::run(&options, None, None, &mut |step| {
        steps.push(step.to_owned())
    })
    .unwrap_or_else(|e| panic!("the suite fails: {e:#}"));
    assert_eq!(
        steps,
        [
            "building guests",
            "latency",
            "claims at depth 10",
            "claims at depth 100"
        ]
    );
    assert!(report.dispatch.is_empty() && report.queue.is_empty() && report.memory.is_none());
    let table = report.table();
    assert!(
        table.contains("latency") && !table.contains("dispatch"),
        "{table}"
    );

    let unknown = Sizes::tiny().only(&["latency", "speed"]).unwrap_err();
    assert_eq!(
        unknown.to_string(),
        "no benchmark named 'speed'; the benchmarks are dispatch, throughput, latency, \
         cold-start, claims, memory, cluster"
    );
}

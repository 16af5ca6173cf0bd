//! The node's Prometheus metrics, end to end: a real node on a real SQLite file runs guest jobs
//! that complete, fail, retry, trap, add cost and enqueue children, and the rendered text counts
//! each per handler and outcome, without a job id anywhere. A binary of its own: the recorder
//! is global to the process, so no other test may report to it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use qntx_core::clock::now_ms;
use qntx_core::pulse::{JobFilter, JobStatus, NewJob, store};
use qntx_core::storage::{Backend, Connection};
use qntx_node::metrics::Metrics;
use qntx_node::node::{Node, NodeConfig};
use qntx_node::toolchain::{BuildOptions, build_crate};
use qntx_sqlite::SqliteBackend;
use serde_json::json;

/// Build a guest crate of this repository into a component.
fn guest(dir: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let options = BuildOptions {
        target_dir: Some(Path::new(env!("CARGO_TARGET_TMPDIR")).join("guests")),
    };
    build_crate(&root.join(dir), &options)
        .unwrap_or_else(|e| panic!("building {dir}: {}", qntx_core::error_chain(&e)))
        .wasm
}

/// The samples of `text`: (metric name, labels) → value.
fn samples(text: &str) -> BTreeMap<(String, BTreeMap<String, String>), f64> {
    let mut samples = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (series, value) = line.rsplit_once(' ').expect("a sample has a value");
        let (name, labels) = match series.split_once('{') {
            Some((name, labels)) => (name, labels.trim_end_matches('}')),
            None => (series, ""),
        };
        let labels = labels
            .split(',')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').expect("label=value");
                (key.to_owned(), value.trim_matches('"').to_owned())
            })
            .collect();
        samples.insert((name.to_owned(), labels), value.parse().expect("a number"));
    }
    samples
}

/// The value of `name` with exactly `labels`, if rendered.
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let labels = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    samples(text).get(&(name.to_owned(), labels)).copied()
}

fn wait_final(conn: &dyn Connection, id: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !store::get(conn.store(), id).unwrap().status.is_final() {
        assert!(std::time::Instant::now() < deadline, "job {id} never ended");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_node_counts_its_jobs_by_handler_and_outcome_and_never_names_a_job() {
    let metrics = Metrics::install().expect("the recorder installs");
    assert!(
        std::ptr::eq(metrics, Metrics::install().expect("installing twice")),
        "a second install returns the recorder installed"
    );
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    for (crate_dir, file) in [
        ("tests/guests/probe", "probe.wasm"),
        ("tests/guests/swarm", "swarm.wasm"),
    ] {
        std::fs::copy(guest(crate_dir), plugins.join(file)).unwrap();
    }
    let mut config = NodeConfig::new(dir.path().to_owned(), vec![plugins]);
    config.worker.retry_base = Duration::from_millis(20);
    config.worker.poll_interval = Duration::from_millis(10);
    let node = Node::start(config).expect("the node starts");
    assert!(node.refused().is_empty(), "{:?}", node.refused());
    let backend = SqliteBackend::open_in(dir.path()).unwrap();
    let conn = backend.connect().unwrap();

    let later = now_ms() + 3_600_000;
    let jobs = [
        NewJob::new("probe/ok", json!({})),
        NewJob::new("probe/fail", json!({ "message": "no" })),
        NewJob::new("probe/attempt", json!({ "succeed_on": 2 })),
        NewJob::new("probe/progress", json!({ "steps": 4 })),
        NewJob::new(
            "swarm/enqueue",
            json!({ "count": 2, "handler": "probe/ok" }),
        ),
        NewJob {
            max_attempts: 1,
            ..NewJob::new("probe/panic", json!({ "message": "boom" }))
        },
        NewJob {
            run_at: Some(later),
            ..NewJob::new("probe/ok", json!({ "later": true }))
        },
        NewJob::new("nobody/serves", json!({})),
    ];
    let mut ids: Vec<String> = jobs[..2]
        .iter()
        .map(|job| store::enqueue(conn.store(), job, now_ms()).unwrap().id)
        .collect();
    let mut batch_conn = backend.connect().unwrap();
    ids.extend(
        store::enqueue_batch(batch_conn.as_mut(), &jobs[2..], now_ms())
            .unwrap()
            .into_iter()
            .map(|enqueued| enqueued.id),
    );
    // A batch that fails is rolled back whole: none of it is counted.
    let refused = [
        NewJob::new("probe/fail", json!({})),
        NewJob {
            unique: true,
            ..NewJob::new("probe/fail", json!({}))
        },
        NewJob {
            max_attempts: 0,
            ..NewJob::new("probe/fail", json!({}))
        },
    ];
    store::enqueue_batch(batch_conn.as_mut(), &refused, now_ms()).unwrap_err();
    node.notify();
    for id in &ids[..6] {
        wait_final(&*conn, id);
    }
    node.wait_until_idle().unwrap();
    let children =
        store::list_all(conn.store(), &JobFilter::default().handler("probe/ok")).unwrap();
    assert_eq!(children.len(), 4, "one direct, one later, two children");
    ids.extend(children.into_iter().map(|job| job.id));
    assert_eq!(
        store::get(conn.store(), &ids[2]).unwrap().status,
        JobStatus::Completed,
        "the attempt job completed on its second attempt"
    );

    let text = metrics.render(conn.store()).unwrap();
    let enqueued = |handler| value(&text, "qntx_jobs_enqueued_total", &[("handler", handler)]);
    assert_eq!(
        enqueued("probe/ok"),
        Some(4.0),
        "two direct, two children\n{text}"
    );
    for handler in [
        "probe/fail",
        "probe/attempt",
        "probe/progress",
        "swarm/enqueue",
        "probe/panic",
        "nobody/serves",
    ] {
        assert_eq!(enqueued(handler), Some(1.0), "{handler}\n{text}");
    }
    let finished = |handler, outcome| {
        value(
            &text,
            "qntx_jobs_finished_total",
            &[("handler", handler), ("outcome", outcome)],
        )
    };
    assert_eq!(finished("probe/ok", "completed"), Some(3.0), "{text}");
    assert_eq!(finished("probe/fail", "failed"), Some(1.0), "{text}");
    assert_eq!(finished("probe/attempt", "retried"), Some(1.0), "{text}");
    assert_eq!(finished("probe/attempt", "completed"), Some(1.0), "{text}");
    assert_eq!(finished("probe/progress", "completed"), Some(1.0), "{text}");
    assert_eq!(finished("swarm/enqueue", "completed"), Some(1.0), "{text}");
    assert_eq!(finished("probe/panic", "failed"), Some(1.0), "{text}");
    assert_eq!(finished("probe/fail", "completed"), None, "{text}");

    let count = |name, handler| value(&text, name, &[("handler", handler)]);
    assert_eq!(
        count("qntx_job_duration_seconds_count", "probe/attempt"),
        Some(2.0),
        "one sample per attempt\n{text}"
    );
    assert_eq!(
        count("qntx_job_duration_seconds_count", "probe/ok"),
        Some(3.0)
    );
    assert_eq!(
        count("qntx_job_queue_wait_seconds_count", "probe/attempt"),
        Some(2.0),
        "one sample per claim\n{text}"
    );
    assert_eq!(
        count("qntx_job_queue_wait_seconds_count", "probe/ok"),
        Some(3.0)
    );
    let seconds = value(
        &text,
        "qntx_job_duration_seconds_bucket",
        &[("handler", "probe/ok"), ("le", "+Inf")],
    );
    assert_eq!(seconds, Some(3.0), "buckets are rendered\n{text}");
    assert!(text.contains("le=\"14400\""), "buckets reach hours\n{text}");

    assert_eq!(
        value(&text, "qntx_sandbox_traps_total", &[("kind", "panic")]),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(&text, "qntx_budget_spend_total", &[]),
        Some(2.0),
        "four steps of 0.5\n{text}"
    );
    let queued = |handler| value(&text, "qntx_jobs_queued", &[("handler", handler)]);
    assert_eq!(queued("probe/ok"), Some(1.0), "the later job\n{text}");
    assert_eq!(queued("nobody/serves"), Some(1.0), "{text}");
    assert_eq!(
        queued("probe/fail"),
        None,
        "none was ever queued when rendered"
    );
    assert!(text.contains("# HELP qntx_jobs_finished_total"), "{text}");
    for id in &ids {
        assert!(
            !text.contains(id.as_str()),
            "job id {id} in the metrics\n{text}"
        );
    }
    assert!(!text.contains(node.id()), "the node id in the metrics");

    store::cancel(conn.store(), &ids[6], now_ms()).unwrap();
    let text = metrics.render(conn.store()).unwrap();
    assert_eq!(
        value(&text, "qntx_jobs_queued", &[("handler", "probe/ok")]),
        Some(0.0),
        "a handler with nothing queued any more shows 0\n{text}"
    );
    node.shutdown(Duration::from_secs(5));
}

//! Guests hostile to the queue: a fork bomb and a chain of children stop at the node's tree
//! bounds, endless jobs of one plugin leave the others a worker, and a guest's enqueue with
//! out-of-range fields is refused with the limit named. Other handlers' latency is measured
//! beside the hostile jobs, as a ratio to the same node idle.

use std::time::{Duration, Instant};

use qntx::node::Node;
use qntx::pulse::{Job, JobStatus, NewJob, TreeLimits, store};
use serde_json::{Value, json};

use crate::fixtures::{Env, guests, latency_ratio, median_ok_latency};

/// Every stored job, read through the job store.
fn jobs(env: &Env) -> Vec<Job> {
    store::list_all(&env.store(), &qntx::pulse::JobFilter::default()).unwrap()
}

/// How many stored jobs `keep` keeps.
fn count(env: &Env, keep: impl Fn(&Job) -> bool) -> usize {
    jobs(env).iter().filter(|job| keep(job)).count()
}

fn hostile_env(tree: TreeLimits) -> (Env, Node) {
    let env = Env::with_plugins(&[&guests().probe, &guests().swarm]);
    let mut config = env.config();
    config.worker.tree = tree;
    let node = env.start_with(config).expect("node starts");
    (env, node)
}

#[test]
fn a_fork_bomb_stops_at_the_descendant_bound_while_other_handlers_are_served() {
    let (env, node) = hostile_env(TreeLimits {
        depth: 32,
        descendants: 300,
    });
    let idle = median_ok_latency(&env, &node, 7);
    let root = env.enqueue_job(&NewJob {
        max_attempts: 1,
        ..NewJob::new("swarm/fork", json!({ "n": 50 }))
    });
    node.notify();
    let hostile = median_ok_latency(&env, &node, 7);
    node.wait_until_idle().expect("the bomb ends");
    let tree = count(&env, |job| job.root_job_id.as_deref() == Some(&*root));
    assert!(
        (50..=300).contains(&tree),
        "the tree stops at 300 descendants: {tree}"
    );
    let refused: Vec<String> = jobs(&env)
        .into_iter()
        .filter(|job| job.handler == "swarm/fork" && job.status == JobStatus::Failed)
        .filter_map(|job| job.error)
        .collect();
    assert!(!refused.is_empty(), "some forks were refused");
    assert!(
        refused
            .iter()
            .all(|e| e.contains("job tree limit reached") && e.contains("the limit is 300")),
        "{refused:?}"
    );
    let ratio = latency_ratio(idle, hostile);
    eprintln!("probe/ok latency: idle {idle:?}, during the fork bomb {hostile:?} ({ratio:.1}x)");
    assert!(ratio < 50.0, "other handlers stay served: {ratio:.1}x");
}

#[test]
fn a_chain_of_children_stops_at_the_depth_bound_with_the_bound_named() {
    let (env, node) = hostile_env(TreeLimits {
        depth: 4,
        descendants: 1000,
    });
    let root = env.enqueue_job(&NewJob {
        max_attempts: 1,
        ..NewJob::new("swarm/fork", json!({ "n": 1 }))
    });
    node.notify();
    node.wait_until_idle().unwrap();
    let deepest = jobs(&env)
        .iter()
        .filter(|job| job.root_job_id.as_deref() == Some(&*root))
        .map(|job| job.depth)
        .max()
        .unwrap_or_default();
    assert_eq!(deepest, 4);
    let error: String = jobs(&env)
        .into_iter()
        .find(|job| job.depth == 4 && job.status == JobStatus::Failed)
        .and_then(|job| job.error)
        .unwrap();
    assert!(
        error.contains("depth 5") && error.contains("the limit is 4 (max_job_depth)"),
        "{error}"
    );
}

#[test]
fn endless_jobs_of_one_plugin_leave_the_other_plugins_a_worker() {
    let (env, node) = hostile_env(TreeLimits::default());
    let idle = median_ok_latency(&env, &node, 7);
    let spins: Vec<String> = (0..3)
        .map(|_| {
            env.enqueue_job(&NewJob {
                max_attempts: 1,
                timeout_ms: Some(60_000),
                ..NewJob::new("swarm/spin", json!({}))
            })
        })
        .collect();
    node.notify();
    let started = Instant::now();
    while count(&env, |job| {
        job.handler == "swarm/spin" && job.status == JobStatus::Running && job.attempt == 1
    }) == 0
    {
        assert!(started.elapsed() < Duration::from_secs(30), "a spin starts");
        std::thread::sleep(Duration::from_millis(5));
    }
    let hostile = median_ok_latency(&env, &node, 7);
    assert_eq!(
        count(&env, |job| job.handler == "swarm/spin"
            && job.status == JobStatus::Running),
        1,
        "a 2-worker node runs one job of a plugin while another plugin is registered"
    );
    let ratio = latency_ratio(idle, hostile);
    eprintln!(
        "probe/ok latency: idle {idle:?}, beside endless swarm/spin jobs {hostile:?} ({ratio:.1}x)"
    );
    assert!(
        ratio < 50.0,
        "probe/ok is served beside the spins: {ratio:.1}x"
    );
    assert!(
        hostile < Duration::from_secs(5),
        "far below the spins' 60 s timeout: {hostile:?}"
    );
    let conn = env.store();
    for id in &spins {
        let _ = store::cancel(&conn, id, qntx::clock::now_ms());
    }
    node.shutdown(Duration::from_secs(5));
}

#[test]
fn a_guests_enqueue_with_out_of_range_fields_is_refused_with_the_limit_named() {
    let (env, node) = hostile_env(TreeLimits::default());
    let cases: [(Value, &str); 8] = [
        (
            json!({ "timeout_ms": u64::MAX }),
            "timeout 18446744073709551615 ms is longer than the limit of 604800000 ms",
        ),
        (
            json!({ "delay_ms": u64::MAX }),
            "delay 18446744073709551615 ms is too long",
        ),
        (
            json!({ "cost": "NaN" }),
            "cost estimate must be a non-negative number, got NaN",
        ),
        (
            json!({ "cost": "inf" }),
            "cost estimate must be a non-negative number, got inf",
        ),
        (
            json!({ "cost": "-1" }),
            "cost estimate must be a non-negative number, got -1",
        ),
        (
            json!({ "priority": 5000 }),
            "priority 5000 is outside -1000..=1000",
        ),
        (
            json!({ "max_attempts": 1_000_000 }),
            "max attempts 1000000 is outside 1..=1000",
        ),
        (
            json!({ "payload_bytes": 9 << 20, "count": 2 }),
            "may total 16777216 bytes (16 MiB); this one would make 18874372",
        ),
    ];
    for (payload, expected) in cases {
        let job = env.run_then_good(&node, NewJob::new("swarm/enqueue", payload.clone()));
        assert_eq!(job.status, JobStatus::Completed, "{payload}: {job:?}");
        let refused = job.result.as_ref().unwrap()["refused"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(refused.contains(expected), "{payload}: {refused}");
    }
    let children = count(&env, |job| job.parent_job_id.is_some());
    assert_eq!(
        children, 1,
        "nothing out of range was stored: only the first 9 MiB child of the last case"
    );
}

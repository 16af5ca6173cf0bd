//! Hostile guests against the sandbox's limits: each is stopped with an error naming the limit
//! and its value, and the node runs the next job.

use qntx::pulse::{JobStatus, NewJob};
use serde_json::json;

use crate::fixtures::{Env, guests};

/// The probe's file stem: its manifest is `qntx_guest_probe.toml`.
const PROBE: &str = "qntx_guest_probe";

fn probe_env() -> Env {
    Env::with_plugins(&[&guests().probe])
}

fn failed_with(job: &qntx::pulse::Job) -> &str {
    assert_eq!(job.status, JobStatus::Failed, "{job:?}");
    job.error.as_deref().expect("a failed job has an error")
}

#[test]
fn an_infinite_loop_is_stopped_by_the_timeout() {
    let env = probe_env();
    let node = env.start();
    let job = env.run_then_good(
        &node,
        NewJob {
            timeout_ms: Some(300),
            ..NewJob::new("probe/spin", json!({}))
        },
    );
    let error = failed_with(&job);
    assert!(
        error.starts_with("plugin 'probe' handler 'spin': timed out (limit 300 ms, stopped after "),
        "{error}"
    );
}

#[test]
fn the_manifest_timeout_caps_a_job_that_names_none_or_a_longer_one() {
    let env = probe_env();
    env.manifest(PROBE, "name = \"probe\"\n[limits]\ntimeout = \"250ms\"\n");
    let node = env.start();
    for own in [None, Some(60_000)] {
        let job = env.run_then_good(
            &node,
            NewJob {
                timeout_ms: own,
                ..NewJob::new("probe/spin", json!({}))
            },
        );
        let error = failed_with(&job);
        assert!(
            error.starts_with(
                "plugin 'probe' handler 'spin': timed out (limit 250 ms, stopped after "
            ),
            "{error}"
        );
    }
}

#[test]
fn a_memory_bomb_is_stopped_at_the_memory_limit() {
    let env = probe_env();
    let node = env.start();
    let job = env.run_then_good(&node, NewJob::new("probe/alloc", json!({})));
    let error = failed_with(&job);
    assert!(
        error.starts_with(
            "plugin 'probe' handler 'alloc': trap: out of memory (limit 64 MiB; it asked for "
        ),
        "{error}"
    );
}

#[test]
fn a_manifest_lowers_the_memory_limit_and_cannot_raise_it() {
    let env = probe_env();
    env.manifest(PROBE, "name = \"probe\"\n[limits]\nmemory = \"16 MiB\"\n");
    let node = env.start();
    let job = env.run_then_good(&node, NewJob::new("probe/alloc", json!({})));
    assert!(
        failed_with(&job).contains("out of memory (limit 16 MiB;"),
        "{job:?}"
    );
    drop(node);

    env.manifest(PROBE, "name = \"probe\"\n[limits]\nmemory = \"512 MiB\"\n");
    let node = env.start();
    assert_eq!(
        node.plugins()[0].policy.notes,
        ["plugin 'probe' asks for 512 MiB memory; this node allows 64 MiB: using 64 MiB"]
    );
    let job = env.run_then_good(&node, NewJob::new("probe/alloc", json!({})));
    assert!(
        failed_with(&job).contains("out of memory (limit 64 MiB;"),
        "{job:?}"
    );
}

#[test]
fn unbounded_recursion_is_a_stack_overflow_trap() {
    let env = probe_env();
    let node = env.start();
    let job = env.run_then_good(&node, NewJob::new("probe/recurse", json!({})));
    assert_eq!(
        failed_with(&job),
        "plugin 'probe' handler 'recurse': trap: stack overflow (limit 1 MiB of wasm stack)"
    );
}

#[test]
fn a_huge_result_fails_with_its_size_and_the_limit() {
    let env = probe_env();
    let node = env.start();
    let job = env.run_then_good(
        &node,
        NewJob::new("probe/huge-result", json!({ "bytes": 2 << 20 })),
    );
    assert_eq!(
        failed_with(&job),
        "plugin 'probe' handler 'huge-result': result is 2097154 bytes; the limit is 1048576"
    );
}

#[test]
fn a_huge_log_is_cut_at_the_log_limit_and_the_job_goes_on() {
    let env = probe_env();
    let node = env.start();
    for (handler, payload) in [
        ("probe/log", json!({ "lines": 100_000 })),
        ("probe/print", json!({ "bytes": 4 << 20 })),
    ] {
        let job = env.run_then_good(&node, NewJob::new(handler, payload));
        assert_eq!(job.status, JobStatus::Completed, "{job:?}");
        let logs = env.final_logs(&job.id);
        let kept: usize = logs
            .iter()
            .filter(|(_, line)| line.stage != "pulse" && line.stage != "runtime")
            .map(|(_, line)| line.message.len())
            .sum();
        assert!(kept <= 256 << 10, "{kept} bytes kept");
        let note = logs
            .iter()
            .find(|(_, line)| line.stage == "runtime")
            .map(|(_, line)| line.message.clone())
            .expect("a note of what was dropped");
        assert!(
            note.ends_with("dropped: the job's log limit is 262144 bytes"),
            "{note}"
        );
    }
}

#[test]
fn huge_attestations_fail_with_the_size_limits() {
    let env = probe_env();
    let node = env.start();
    let one = env.run_then_good(
        &node,
        NewJob::new("probe/attest", json!({ "subject": "s", "pad": 2 << 20 })),
    );
    let error = failed_with(&one);
    assert!(
        error.starts_with(
            "plugin 'probe' handler 'attest' failed: invalid argument: attributes are "
        ) && error.ends_with("bytes; the limit is 1048576"),
        "{error}"
    );
    let many = env.run_then_good(
        &node,
        NewJob::new(
            "probe/attest",
            json!({ "subject": "s", "n": 20, "pad": 1_000_000 }),
        ),
    );
    assert_eq!(
        failed_with(&many),
        "plugin 'probe' handler 'attest' failed: limit exceeded: a job attempt may write at most 16 MiB of attestations"
    );
}

#[test]
fn fuel_stops_a_loop_on_a_node_that_meters_it() {
    let env = probe_env();
    env.manifest(PROBE, "name = \"probe\"\n[limits]\nfuel = 5_000_000\n");
    let mut config = env.config();
    config.runtime.fuel = true;
    let node = env.start_with(config).unwrap();
    let job = env.run_then_good(&node, NewJob::new("probe/spin", json!({})));
    assert_eq!(
        failed_with(&job),
        "plugin 'probe' handler 'spin': trap: out of fuel (limit 5000000)"
    );
}

#[test]
fn a_hundred_traps_interleaved_with_a_hundred_good_jobs_leave_every_good_job_completed() {
    let env = probe_env();
    let node = env.start();
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for i in 0..100 {
        bad.push(env.enqueue_job(&NewJob {
            max_attempts: 1,
            ..NewJob::new("probe/panic", json!({ "message": i }))
        }));
        good.push((i, env.enqueue("probe/ok", json!({ "i": i }))));
    }
    node.notify();
    for (i, id) in good {
        let job = env.wait_final(&id);
        assert_eq!(job.status, JobStatus::Completed, "{job:?}");
        assert_eq!(job.result, Some(json!({ "i": i })));
    }
    for id in bad {
        assert!(failed_with(&env.wait_final(&id)).contains("boom"));
    }
}

#[test]
fn a_plugin_runs_at_most_its_concurrency_limit_of_jobs_at_once() {
    let env = probe_env();
    env.manifest(PROBE, "name = \"probe\"\n[limits]\nconcurrency = 1\n");
    let mut config = env.config();
    config.workers = 3;
    let node = env.start_with(config).unwrap();
    let ids: Vec<String> = (0..4)
        .map(|_| env.enqueue("probe/busy", json!({ "ms": 100 })))
        .collect();
    node.notify();
    let mut spans: Vec<(u64, u64)> = ids
        .iter()
        .map(|id| {
            let job = env.wait_final(id);
            assert_eq!(job.status, JobStatus::Completed, "{job:?}");
            let result = job.result.unwrap();
            (
                result["start"].as_u64().unwrap(),
                result["end"].as_u64().unwrap(),
            )
        })
        .collect();
    spans.sort_unstable();
    for pair in spans.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "jobs overlapped: {spans:?}");
    }
}

//! Pulse with real guests: timeouts and cancellation of a spinning guest, pause of a running
//! job, progress read while a job runs, a node killed with SIGKILL mid-queue, and two node
//! processes on one database.

use std::process::Command;
use std::time::{Duration, Instant};

use qntx::pulse::{JobStatus, NewJob, PauseReason, store};
use serde_json::json;

use crate::fixtures::{Env, eventually, guests, run};
use crate::processes::{NodeProcess, count, sleepers_then_attests};

fn attestation_count(env: &Env) -> i64 {
    let count = qntx::storage::Attestations::attestation_count(&env.store()).unwrap();
    i64::try_from(count).unwrap()
}

#[test]
fn a_spinning_guest_is_stopped_by_its_timeout_and_the_failure_says_so() {
    let env = Env::with_plugins(&[&guests().probe]);
    let node = env.start();
    let id = env.enqueue_job(&NewJob {
        timeout_ms: Some(500),
        max_attempts: 2,
        ..NewJob::new("probe/spin", json!({}))
    });
    node.notify();
    let job = env.wait_final(&id);
    assert_eq!((job.status, job.attempt), (JobStatus::Failed, 2), "{job:?}");
    let error = job.error.as_deref().unwrap_or_default();
    assert!(
        error.starts_with("plugin 'probe' handler 'spin': timed out (limit 500 ms, stopped after "),
        "{error}"
    );
    let logs = store::logs(&env.store(), &id, 0).unwrap();
    assert!(
        logs.iter()
            .any(|(_, l)| l.message.starts_with("attempt 1/2 failed, retrying in")),
        "a timeout is retryable: {logs:?}"
    );
}

#[test]
fn cancel_interrupts_a_spinning_guest_and_frees_its_worker() {
    let env = Env::with_plugins(&[&guests().probe]);
    let mut config = env.config();
    config.workers = 1;
    let node = env.start_with(config).unwrap();
    let id = env.enqueue_job(&NewJob {
        timeout_ms: Some(120_000),
        ..NewJob::new("probe/spin", json!({}))
    });
    node.notify();
    eventually("the spin job runs", || {
        (env.job(&id).status == JobStatus::Running).then_some(())
    });
    let asked = Instant::now();
    let (code, _, stderr) = run(env.qntx().args(["job", "cancel", &id]));
    assert_eq!(code, 0, "{stderr}");
    eventually("the worker discards the interrupted attempt", || {
        let logs = store::logs(&env.store(), &id, 0).unwrap();
        logs.iter()
            .any(|(_, l)| l.message.contains("outcome discarded"))
            .then_some(())
    });
    let latency = asked.elapsed();
    // A generous bound only: the real figure (one 50 ms maintenance tick plus one 10 ms epoch
    // tick) is reported by the benchmark notes, not asserted here.
    assert!(latency < Duration::from_secs(2), "cancel took {latency:?}");
    eprintln!("cancel latency, CLI process included: {latency:?}");
    let job = env.job(&id);
    assert_eq!(job.status, JobStatus::Cancelled);
    assert!(job.result.is_none());

    let next = env.enqueue("probe/ok", json!({ "after": "cancel" }));
    node.notify();
    assert_eq!(env.wait_final(&next).status, JobStatus::Completed);
}

#[test]
fn a_job_cancelled_while_it_waits_in_a_claimed_batch_never_starts() {
    let env = Env::with_plugins(&[&guests().probe]);
    let mut config = env.config();
    config.workers = 1;
    // Both jobs go in before the node starts, so one claim takes them as one batch: the
    // horizon says any job is short enough to batch.
    config.worker.claim_horizon = Duration::from_secs(3600);
    let slow = env.enqueue_job(&NewJob {
        priority: 1,
        ..NewJob::new("probe/sleep", json!({ "ms": 400 }))
    });
    let waiting = env.enqueue("probe/log", json!({ "lines": 1 }));
    let node = env.start_with(config).unwrap();
    eventually("the slow job runs", || {
        (env.job(&slow).status == JobStatus::Running).then_some(())
    });
    assert_eq!(
        env.job(&waiting).status,
        JobStatus::Running,
        "claimed in the batch"
    );
    let (code, _, stderr) = run(env.qntx().args(["job", "cancel", &waiting]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(env.wait_final(&slow).status, JobStatus::Completed);
    let logs = eventually("the waiting job is dropped", || {
        let logs = store::logs(&env.store(), &waiting, 0).unwrap();
        logs.iter()
            .any(|(_, l)| l.message.contains("outcome discarded"))
            .then_some(logs)
    });
    assert!(
        logs.iter().all(|(_, l)| l.stage != "guest"),
        "the guest never ran: {logs:?}"
    );
    assert_eq!(env.job(&waiting).status, JobStatus::Cancelled);
    node.shutdown(Duration::from_secs(5));
}

#[test]
fn long_jobs_are_claimed_one_at_a_time_and_stay_queued_for_other_nodes() {
    let env = Env::with_plugins(&[&guests().probe]);
    let mut config = env.config();
    config.workers = 1;
    let jobs: Vec<String> = (0..3)
        .map(|_| env.enqueue("probe/sleep", json!({ "ms": 300 })))
        .collect();
    let node = env.start_with(config).unwrap();
    eventually("the first job runs", || {
        jobs.iter()
            .any(|id| env.job(id).status == JobStatus::Running)
            .then_some(())
    });
    let statuses: Vec<JobStatus> = jobs.iter().map(|id| env.job(id).status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == JobStatus::Queued).count(),
        2,
        "a job of unknown length is claimed alone: {statuses:?}"
    );
    for id in &jobs {
        assert_eq!(env.wait_final(id).status, JobStatus::Completed);
    }
    node.shutdown(Duration::from_secs(5));
}

#[test]
fn pausing_a_running_job_interrupts_it_uncounted_and_resume_runs_it_again() {
    let env = Env::with_plugins(&[&guests().probe]);
    let node = env.start();
    let id = env.enqueue("probe/sleep", json!({ "ms": 60_000 }));
    node.notify();
    let progress = eventually("the guest's progress is readable while it runs", || {
        let job = env.job(&id);
        (job.status == JobStatus::Running && job.progress.current > 0).then_some(job.progress)
    });
    assert_eq!(progress.total, 60_000);
    let (code, _, stderr) = run(env.qntx().args(["job", "pause", &id]));
    assert_eq!(code, 0, "{stderr}");
    eventually("the attempt is interrupted and discarded", || {
        let logs = store::logs(&env.store(), &id, 0).unwrap();
        logs.iter()
            .any(|(_, l)| l.message.contains("outcome discarded"))
            .then_some(())
    });
    let paused = env.job(&id);
    assert_eq!(
        (paused.status, paused.pause_reason, paused.attempt),
        (JobStatus::Paused, Some(PauseReason::User), 0)
    );

    // Make the second run short, then resume.
    env.database().execute(&format!(
        "UPDATE jobs SET payload = '{{\"ms\": 10}}' WHERE id = '{id}'"
    ));
    let (code, _, stderr) = run(env.qntx().args(["job", "resume", &id]));
    assert_eq!(code, 0, "{stderr}");
    node.notify();
    let job = env.wait_final(&id);
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    assert_eq!(job.result, Some(json!({ "slept_ms": 10, "attempt": 1 })));
    assert_eq!(job.claims, 2);
}

#[test]
fn a_node_killed_mid_queue_loses_no_job_and_completes_none_twice() {
    let env = Env::with_plugins(&[&guests().probe]);
    let mut conn = env.store();
    // Two slow jobs first, so that some attempts are surely running when the node dies: long
    // enough that a node slow to start (PostgreSQL, a loaded machine) completes 100 others
    // while they run, and shorter than the lease, so that no attempt depends on a renewal (on
    // PostgreSQL under load, renewals late by more than a 2 s lease were seen and are not yet
    // explained: they rescue a live attempt, which this test would count as a second rescue).
    let jobs = sleepers_then_attests(2, 6_000, 1000);
    let ids: Vec<String> = store::enqueue_batch(&mut conn, &jobs, qntx::clock::now_ms())
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();

    let first = NodeProcess::spawn(&env, &["--workers", "4", "--lease", "10s"]);
    eventually("some jobs completed while both sleepers run", || {
        let sleepers_running = ids[..2]
            .iter()
            .all(|id| env.job(id).status == JobStatus::Running);
        (sleepers_running && count(&env, JobStatus::Completed) >= 100).then_some(())
    });
    first.kill();
    let done_before = count(&env, JobStatus::Completed);
    assert!(done_before < 1002, "the node was killed mid-queue");
    assert!(
        count(&env, JobStatus::Running) >= 2,
        "attempts were cut off"
    );

    let second = NodeProcess::spawn(&env, &["--workers", "4", "--lease", "10s", "--until-idle"]);
    let stderr = second.wait();
    assert!(
        stderr.contains("rescued jobs whose node stopped"),
        "{stderr}"
    );

    let all = store::list_all(&env.store(), &qntx::pulse::JobFilter::default()).unwrap();
    assert_eq!(all.len(), 1002);
    assert!(
        all.iter().all(|j| j.status == JobStatus::Completed),
        "every job completed: {:?}",
        all.iter()
            .filter(|j| j.status != JobStatus::Completed)
            .collect::<Vec<_>>()
    );
    // Each job attests once when it completes: one attestation per job means no job's
    // outcome was committed twice.
    assert_eq!(attestation_count(&env), 1002);
    for sleeper in &ids[..2] {
        let job = env.job(sleeper);
        assert_eq!(job.attempt, 2, "the cut-off attempt counts: {job:?}");
        assert_eq!(job.result.as_ref().unwrap()["attempt"], 2);
    }
    let rescued = all.iter().filter(|j| j.attempt == 2).count();
    assert!(rescued >= 2 && all.iter().all(|j| j.attempt <= 2));
}

#[test]
fn two_node_processes_on_one_database_never_run_a_job_twice() {
    let env = Env::with_plugins(&[&guests().probe]);
    let mut conn = env.store();
    let jobs: Vec<NewJob> = (0..400)
        .map(|i| {
            NewJob::new(
                "probe/attest",
                json!({ "n": 1, "subject": format!("job-{i}") }),
            )
        })
        .collect();
    store::enqueue_batch(&mut conn, &jobs, qntx::clock::now_ms()).unwrap();
    let nodes: Vec<NodeProcess> = (0..2)
        .map(|_| NodeProcess::spawn(&env, &["--workers", "2", "--until-idle"]))
        .collect();
    for node in nodes {
        node.wait();
    }
    let all = store::list_all(&env.store(), &qntx::pulse::JobFilter::default()).unwrap();
    assert_eq!(all.len(), 400);
    assert!(
        all.iter()
            .all(|j| j.status == JobStatus::Completed && j.claims == 1 && j.attempt == 1),
        "each job claimed once"
    );
    assert_eq!(attestation_count(&env), 400);
}

#[test]
fn rate_and_concurrency_flags_are_checked() {
    let env = Env::with_plugins(&[&guests().probe]);
    let (code, _, stderr) = run(env
        .qntx()
        .args(["run", "--until-idle", "--rate", "probe/ok"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("'probe/ok' is not HANDLER=N"), "{stderr}");
    let (code, _, stderr) = run(env.qntx().args(["run", "--until-idle", "--lease", "10ms"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("lease 10ms is too short"), "{stderr}");

    for i in 0..3 {
        env.enqueue("probe/ok", json!({ "i": i }));
    }
    let mut command = Command::new(env!("CARGO_BIN_EXE_qntx"));
    env.database().apply(&mut command);
    command.env("QNTX_HTTP", crate::fixtures::FREE_PORT);
    command.arg("--data-dir").arg(env.data_dir()).args([
        "run",
        "--until-idle",
        "--concurrency",
        "probe/ok=1",
        "--rate",
        "probe/ok=100",
    ]);
    let (code, _, stderr) = run(&mut command);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(count(&env, JobStatus::Completed), 3);
}

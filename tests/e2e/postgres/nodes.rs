//! Several `qntx run` processes on one PostgreSQL database: claims spread over the nodes and
//! never overlap, a killed node's jobs are rescued by the others, watchers and schedules fire
//! once however many nodes run them, a handler stored through one data directory is served by
//! a node of another, budgets hold across nodes, and cancel and pause reach the guest on the
//! node that runs it.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::time::{Duration, Instant};

use qntx::ats::{self, NewAttestation};
use qntx::pulse::{JobStatus, NewJob, PauseReason, store};
use serde_json::{Value, json};

use crate::cluster::{running_on, wait_drained};
use crate::fixtures::{Env, eventually, guests, run};
use crate::processes::{NodeProcess, count, sleepers_then_attests};

/// `qntx job enqueue --batch` of `lines` (JSON objects); the ids it printed.
fn enqueue_batch(env: &Env, handler: &str, lines: impl Iterator<Item = Value>) -> Vec<String> {
    let path = env.data_dir().join("batch.jsonl");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for line in lines {
        writeln!(file, "{line}").unwrap();
    }
    file.flush().unwrap();
    drop(file);
    let (code, out, stderr) = run(env
        .qntx()
        .args(["job", "enqueue", handler, "--batch"])
        .arg(&path));
    assert_eq!(code, 0, "{stderr}");
    out.lines().map(str::to_owned).collect()
}

/// `n` nodes `qntx run ARGS` on `env`, started and serving `handler`; their ids.
fn start_nodes(
    env: &Env,
    n: usize,
    handler: &str,
    args: &[&str],
) -> (Vec<NodeProcess>, Vec<String>) {
    let mut nodes: Vec<NodeProcess> = (0..n).map(|_| NodeProcess::spawn(env, args)).collect();
    let ids = nodes.iter_mut().map(|node| node.id(env, handler)).collect();
    (nodes, ids)
}

fn attestation_count(env: &Env) -> u64 {
    qntx::storage::Attestations::attestation_count(&env.store()).unwrap()
}

#[test]
fn three_nodes_complete_twenty_thousand_jobs_each_once_and_all_take_a_fair_share() {
    const JOBS: usize = 20_000;
    let env = Env::with_plugins(&[&guests().probe]);
    // All three serve before the first job exists, so that each starts with the same chance.
    let (nodes, ids) = start_nodes(&env, 3, "probe/ok", &["--workers", "2"]);
    let started = Instant::now();
    let enqueued = enqueue_batch(
        &env,
        "probe/ok",
        (0..JOBS).map(|i| json!({ "payload": { "i": i } })),
    );
    assert_eq!(enqueued.len(), JOBS);
    wait_drained(&env, &["probe/ok"], Duration::from_secs(600));
    let took = started.elapsed();
    for node in nodes {
        node.stop();
    }

    let all = store::list_all(&env.store(), &qntx::pulse::JobFilter::default()).unwrap();
    assert_eq!(all.len(), JOBS);
    let mut ran_on: HashMap<&str, usize> = HashMap::new();
    for job in &all {
        assert_eq!(
            (job.status, job.attempt, job.claims, job.nodes.len()),
            (JobStatus::Completed, 1, 1, 1),
            "each job claimed once, by one node, and completed: {job:?}"
        );
        assert_eq!(job.result, Some(job.payload.clone()), "{job:?}");
        *ran_on.entry(job.nodes[0].node.as_str()).or_default() += 1;
    }
    eprintln!("{JOBS} jobs on 3 nodes in {took:?}: {ran_on:?}");
    assert_eq!(
        ran_on.keys().copied().collect::<HashSet<_>>(),
        ids.iter().map(String::as_str).collect::<HashSet<_>>(),
        "every claim was made by one of the three nodes, and each made some"
    );
    // A fair share is a third (6,667). The bound is 30% of it: on 2 cores shared by three
    // nodes, the server and this test, the OS can hold one node off the CPU for a while, so
    // an even split is not guaranteed; a node below this means claims are not spreading
    // (one node's claims blocking the others', or a node never woken).
    for (node, ran) in &ran_on {
        assert!(
            *ran >= 2_000,
            "node {node} ran only {ran} of {JOBS}: {ran_on:?}"
        );
    }
}

#[test]
fn a_node_killed_mid_run_has_its_jobs_rescued_by_the_others_none_lost_or_run_twice() {
    let env = Env::with_plugins(&[&guests().probe]);
    // A lease long enough that the live nodes renew theirs however loaded the machine (a
    // lapsed live lease is a rescue too, and would count twice), short enough to wait out.
    let (mut nodes, ids) = start_nodes(
        &env,
        3,
        "probe/attest",
        &["--workers", "2", "--lease", "5s"],
    );
    let mut conn = env.store();
    // Slow jobs first, so that the killed node surely has attempts under way.
    let jobs = sleepers_then_attests(6, 3_000, 1500);
    let total = jobs.len();
    let sleepers: Vec<String> = store::enqueue_batch(&mut conn, &jobs, qntx::clock::now_ms())
        .unwrap()
        .into_iter()
        .take(6)
        .map(|e| e.id)
        .collect();
    let victim = running_on(&env, &sleepers[0]);
    eventually("some jobs completed", || {
        (count(&env, JobStatus::Completed) >= 50).then_some(())
    });
    let index = ids.iter().position(|id| *id == victim).unwrap();
    nodes.remove(index).kill();
    assert!(count(&env, JobStatus::Completed) < total, "killed mid-run");
    let cut_off: Vec<String> = store::list_all(
        &env.store(),
        &qntx::pulse::JobFilter::default().status(JobStatus::Running),
    )
    .unwrap()
    .into_iter()
    .filter(|job| job.nodes.last().is_some_and(|n| n.node == victim))
    .map(|job| job.id)
    .collect();
    assert!(
        !cut_off.is_empty(),
        "the killed node had attempts under way"
    );

    wait_drained(
        &env,
        &["probe/sleep", "probe/attest"],
        Duration::from_secs(300),
    );
    let stderr: String = nodes.into_iter().map(NodeProcess::stop).collect();
    assert!(
        stderr.contains("rescued jobs whose node stopped"),
        "{stderr}"
    );

    let all = store::list_all(&env.store(), &qntx::pulse::JobFilter::default()).unwrap();
    assert_eq!(all.len(), total);
    let unfinished: Vec<_> = all
        .iter()
        .filter(|j| j.status != JobStatus::Completed)
        .collect();
    assert!(unfinished.is_empty(), "every job completed: {unfinished:?}");
    // Each job attests once as it completes: as many attestations as jobs means no outcome was
    // committed twice.
    assert_eq!(attestation_count(&env), total as u64);
    for id in &cut_off {
        let job = env.job(id);
        assert_eq!(job.attempt, 2, "the cut-off attempt counts: {job:?}");
        assert_eq!(job.nodes.len(), 2, "{job:?}");
        assert_eq!(job.nodes[0].node, victim);
        assert_ne!(
            job.nodes[1].node, victim,
            "rescued by another node: {job:?}"
        );
    }
    assert!(
        all.iter().all(|j| j.attempt <= 2),
        "no job was rescued twice"
    );
}

#[test]
fn a_watcher_fires_exactly_once_per_matching_attestation_with_three_nodes() {
    const MATCHING: usize = 60;
    let env = Env::with_plugins(&[]);
    env.install(&guests().announcer, "announcer.wasm");
    env.manifest(
        "announcer",
        "name = \"announcer\"\n[config]\nwatchers = 1\n",
    );
    let (nodes, _) = start_nodes(&env, 3, "announcer/h0", &["--workers", "2"]);
    // Three writers at once, each on its own connection: the feed must order their commits.
    let writers: Vec<_> = (0..3)
        .map(|writer| {
            let conn = env.store();
            std::thread::spawn(move || {
                let mut ids = Vec::new();
                for i in 0..MATCHING / 3 + 10 {
                    let subject = if i % 4 == 3 { "other" } else { "s0-0" };
                    let mut attestation = NewAttestation {
                        subjects: vec![subject.into()],
                        predicates: vec![format!("said-{writer}-{i}")],
                        actors: vec!["tester".into()],
                        source: "test".into(),
                        ..NewAttestation::default()
                    }
                    .validate(&ats::Limits::default(), qntx::clock::now_ms())
                    .unwrap();
                    ats::store::insert(&conn, &mut attestation).unwrap();
                    if subject == "s0-0" {
                        ids.push(attestation.id);
                    }
                }
                ids
            })
        })
        .collect();
    let matching: HashSet<String> = writers
        .into_iter()
        .flat_map(|writer| writer.join().unwrap())
        .collect();
    let fired = |env: &Env| {
        store::list_all(
            &env.store(),
            &qntx::pulse::JobFilter::default().handler("announcer/h0"),
        )
        .unwrap()
    };
    eventually("a job per matching attestation", || {
        (fired(&env).len() >= matching.len()).then_some(())
    });
    wait_drained(&env, &["announcer/h0"], Duration::from_secs(120));
    // Time for a second fire to show, were there one.
    std::thread::sleep(Duration::from_secs(2));
    for node in nodes {
        node.stop();
    }
    let jobs = fired(&env);
    let mut seen = HashMap::new();
    for job in &jobs {
        assert_eq!(job.status, JobStatus::Completed, "{job:?}");
        let id = job.payload["id"].as_str().unwrap().to_owned();
        *seen.entry(id).or_insert(0) += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "fired more than once: {twice:?}");
    assert_eq!(
        seen.keys().cloned().collect::<HashSet<_>>(),
        matching,
        "one job for each matching attestation and none for the others"
    );
}

#[test]
fn a_schedule_fires_once_per_interval_with_three_nodes() {
    let env = Env::with_plugins(&[&guests().announcer]);
    let (nodes, _) = start_nodes(&env, 3, "announcer/h0", &["--workers", "2"]);
    let (code, out, stderr) =
        run(env
            .qntx()
            .args(["schedule", "add", "announcer/h0", "--every", "1s"]));
    assert_eq!(code, 0, "{stderr}");
    let added = Instant::now();
    std::thread::sleep(Duration::from_millis(6_500));
    let (code, _, stderr) = run(env.qntx().args(["schedule", "pause", out.trim()]));
    assert_eq!(code, 0, "{stderr}");
    let window = added.elapsed();
    wait_drained(&env, &["announcer/h0"], Duration::from_secs(60));
    for node in nodes {
        node.stop();
    }
    let jobs = store::list_all(
        &env.store(),
        &qntx::pulse::JobFilter::default().handler("announcer/h0"),
    )
    .unwrap();
    let intervals = window.as_secs_f64().floor() as usize;
    // The first fire comes one interval after the schedule is added, and a fire may lag its
    // time by a scheduler tick; three nodes each firing would make about three times as many.
    assert!(
        (intervals - 2..=intervals).contains(&jobs.len()),
        "{} jobs in {window:?} of a 1 s schedule: {jobs:?}",
        jobs.len()
    );
    let ids: HashSet<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(ids.len(), jobs.len());
    assert!(
        jobs.iter()
            .all(|j| j.status == JobStatus::Completed && j.claims == 1)
    );
}

#[test]
fn a_handler_created_through_one_data_directory_is_served_by_a_node_of_another_without_restart() {
    let a = Env::with_plugins(&[]);
    let b = a.sharing(&[&guests().probe]);
    let mut node_b = NodeProcess::spawn(&b, &["--workers", "2"]);
    let b_id = node_b.id(&b, "probe/ok");

    let component = a.data_dir().join("relay.wasm");
    std::fs::copy(&guests().announcer, &component).unwrap();
    let (code, out, stderr) = run(a
        .qntx()
        .args(["handler", "create", "relay", "--file"])
        .arg(&component));
    assert_eq!(code, 0, "{out}{stderr}");
    let (code, id, stderr) = run(a.qntx().args([
        "job",
        "enqueue",
        "handler/relay",
        "--payload",
        r#"{"from": "a"}"#,
    ]));
    assert_eq!(code, 0, "{stderr}");
    let job = a.wait_final(id.trim());
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    assert_eq!(
        job.result.as_ref().unwrap()["payload"],
        json!({ "from": "a" })
    );
    assert_eq!(job.nodes[0].node, b_id);
    assert!(node_b.running(), "node B kept running");
    node_b.stop();
}

#[test]
fn two_nodes_claiming_at_once_never_spend_past_the_budget() {
    const LIMIT: f64 = 9.0;
    let env = Env::with_plugins(&[&guests().probe]);
    let (code, _, stderr) = run(env.qntx().args(["budget", "set", "--daily", "9"]));
    assert_eq!(code, 0, "{stderr}");
    // Each job reserves 2 and spends 2 (four steps of 0.5): four fit in 9, a fifth does not.
    enqueue_batch(
        &env,
        "probe/progress",
        (0..20).map(|_| json!({ "payload": { "steps": 4 }, "cost_estimate": 2.0 })),
    );
    let nodes: Vec<NodeProcess> = (0..2)
        .map(|_| NodeProcess::spawn(&env, &["--workers", "4", "--until-idle"]))
        .collect();
    for node in nodes {
        node.wait();
    }
    let all = store::list_all(&env.store(), &qntx::pulse::JobFilter::default()).unwrap();
    let spent: f64 = all.iter().map(|j| j.cost_actual).sum();
    assert!(spent <= LIMIT, "spent {spent} of {LIMIT}: {all:?}");
    let completed = all
        .iter()
        .filter(|j| j.status == JobStatus::Completed)
        .count();
    assert_eq!(completed, 4, "as many as fit: {all:?}");
    assert!(
        all.iter()
            .filter(|j| j.status != JobStatus::Completed)
            .all(|j| j.status == JobStatus::Paused
                && j.pause_reason == Some(PauseReason::BudgetExceeded)
                && j.cost_actual == 0.0),
        "the rest wait for the budget: {all:?}"
    );
}

#[test]
fn cancel_and_pause_from_another_process_stop_the_guest_on_the_node_running_it() {
    let env = Env::with_plugins(&[&guests().probe]);
    let mut node = NodeProcess::spawn(&env, &["--workers", "2"]);
    let node_id = node.id(&env, "probe/spin");
    let spin = env.enqueue_job(&NewJob {
        timeout_ms: Some(120_000),
        max_attempts: 1,
        ..NewJob::new("probe/spin", json!({}))
    });
    let sleep = env.enqueue_job(&NewJob {
        timeout_ms: Some(120_000),
        ..NewJob::new("probe/sleep", json!({ "ms": 120_000 }))
    });
    assert_eq!(running_on(&env, &spin), node_id);
    assert_eq!(running_on(&env, &sleep), node_id);
    let discarded = |id: &str| {
        let logs = store::logs(&env.store(), id, 0).unwrap();
        logs.iter()
            .any(|(_, l)| l.message.contains("outcome discarded"))
            .then_some(())
    };

    let asked = Instant::now();
    let (code, _, stderr) = run(env.qntx().args(["job", "cancel", &spin]));
    assert_eq!(code, 0, "{stderr}");
    eventually("the node discards the cancelled attempt", || {
        discarded(&spin)
    });
    let cancel = asked.elapsed();
    let job = env.job(&spin);
    assert_eq!(job.status, JobStatus::Cancelled, "{job:?}");
    assert!(job.result.is_none());

    let asked = Instant::now();
    let (code, _, stderr) = run(env.qntx().args(["job", "pause", &sleep]));
    assert_eq!(code, 0, "{stderr}");
    eventually("the node discards the paused attempt", || discarded(&sleep));
    let pause = asked.elapsed();
    let job = env.job(&sleep);
    assert_eq!(
        (job.status, job.pause_reason, job.attempt),
        (JobStatus::Paused, Some(PauseReason::User), 0),
        "{job:?}"
    );
    // Both guests would have run for two minutes: a few seconds means they were stopped. The
    // generous bound is for a loaded machine; the times are printed.
    eprintln!("from another process: cancel took {cancel:?}, pause {pause:?}");
    assert!(cancel < Duration::from_secs(10) && pause < Duration::from_secs(10));
    assert!(node.running(), "the node keeps running");
    let next = env.enqueue("probe/ok", json!({ "after": "cancel and pause" }));
    assert_eq!(env.wait_final(&next).status, JobStatus::Completed);
    node.stop();
}

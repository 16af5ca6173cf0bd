//! The server's side of bad input and failures: a URL that names no reachable server, a wrong
//! password, a malformed URL and a database of a newer schema are each refused with a clear
//! error (exit 2, the password never shown), and a server that goes away while a node runs
//! jobs is reported and waited out, losing nothing committed.

use std::time::Duration;

use qntx::pulse::{JobStatus, NewJob, store};
use serde_json::json;

use crate::cluster::drained;
use crate::database::DATABASE_VAR;
use crate::fixtures::{Env, eventually, guests, run};
use crate::processes::{NodeProcess, count};

const SECRET: &str = "hunter2-secret";

/// `qntx ARGS` on `env`'s data directory with the database URL `url`: exit code and stderr.
fn qntx_on(env: &Env, url: &str, args: &[&str]) -> (i32, String) {
    let (code, _, stderr) = run(env.qntx().env(DATABASE_VAR, url).args(args));
    (code, stderr)
}

#[test]
fn an_unreachable_server_a_wrong_password_and_a_malformed_url_are_refused_clearly() {
    let env = Env::with_plugins(&[&guests().probe]);
    let good = env.database().url().unwrap().to_owned();
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let nobody = format!("postgres://qntx:{SECRET}@127.0.0.1:{port}/qntx");
    for args in [&["job", "list"][..], &["run", "--until-idle"]] {
        let (code, stderr) = qntx_on(&env, &nobody, args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "connecting to postgres://qntx@127.0.0.1:{port}/qntx"
            )) && stderr.contains("Connection refused"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains(SECRET), "{stderr}");
    }

    let wrong = good.replace(":qntx-test@", &format!(":{SECRET}@"));
    assert_ne!(wrong, good);
    let (code, stderr) = qntx_on(&env, &wrong, &["job", "list"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("password authentication failed for user \"qntx\""),
        "{stderr}"
    );
    assert!(!stderr.contains(SECRET), "{stderr}");

    let malformed = format!("postgres://qntx:{SECRET}@127.0.0.1:notaport/qntx");
    let (code, stderr) = qntx_on(&env, &malformed, &["job", "list"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("'postgres://qntx:***@127.0.0.1:notaport/qntx' is not a PostgreSQL URL"),
        "{stderr}"
    );
    assert!(!stderr.contains(SECRET), "{stderr}");

    // The good URL still works, and none of the above left anything behind.
    let (code, stderr) = qntx_on(&env, &good, &["job", "list"]);
    assert_eq!(code, 1, "an empty, working store: {stderr}");
}

#[test]
fn a_database_of_a_newer_schema_is_refused_and_left_as_it_is() {
    let env = Env::with_plugins(&[&guests().probe]);
    let id = env.enqueue("probe/ok", json!({ "kept": true }));
    env.database().execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'from a newer qntx', 0)",
    );
    for args in [&["job", "list"][..], &["run", "--until-idle"]] {
        let (code, _, stderr) = run(env.qntx().args(args));
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains("database schema version 999 of postgres://qntx@127.0.0.1:")
                && stderr.contains("is newer than this qntx understands")
                && stderr.contains("upgrade qntx"),
            "{args:?}: {stderr}"
        );
        assert!(
            !stderr.contains("qntx-test"),
            "the password is not shown: {stderr}"
        );
    }
    // The backend opened before the newer schema appeared still reads the job: untouched.
    let job = env.job(&id);
    assert_eq!(
        (job.status, job.payload),
        (JobStatus::Queued, json!({ "kept": true }))
    );
}

#[test]
fn a_server_that_goes_away_mid_run_is_reported_and_waited_out_losing_nothing_committed() {
    const JOBS: usize = 3_000;
    let server = qntx_pgtest::Server::start().unwrap_or_else(|e| panic!("{e}"));
    let env = Env::at(&server.database(), &[&guests().probe]);
    let target = env.database().url().unwrap().replace(":qntx-test@", "@");
    let mut node = NodeProcess::spawn(&env, &["--workers", "2", "--lease", "2s"]);
    node.id(&env, "probe/attest");
    let jobs: Vec<NewJob> = (0..JOBS)
        .map(|i| {
            NewJob::new(
                "probe/attest",
                json!({ "n": 1, "subject": format!("job-{i}") }),
            )
        })
        .collect();
    store::enqueue_batch(&mut env.store(), &jobs, qntx::clock::now_ms()).unwrap();
    eventually("the node runs jobs", || {
        (count(&env, JobStatus::Completed) >= 200).then_some(())
    });

    server.stop();
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        node.running(),
        "the node waits for the server instead of exiting"
    );
    server.resume().unwrap_or_else(|e| panic!("{e}"));

    if let Err(why) = drained(&env, &["probe/attest"], Duration::from_secs(120)) {
        panic!("{why}; the node's log:\n{}", node.kill());
    }
    assert!(node.running(), "the node kept running");
    let stderr = node.stop();
    assert!(
        stderr.contains(&target),
        "the node reported the failing database ({target}): {stderr}"
    );
    let all = store::list_all(&env.store(), &qntx::pulse::JobFilter::default()).unwrap();
    assert_eq!(all.len(), JOBS, "no job was lost");
    let unfinished: Vec<_> = all
        .iter()
        .filter(|j| j.status != JobStatus::Completed)
        .collect();
    assert!(unfinished.is_empty(), "every job completed: {unfinished:?}");
    // Each job attests once as it completes: one attestation per job means none completed twice.
    let stored = qntx::storage::Attestations::attestation_count(&env.store()).unwrap();
    assert_eq!(stored, JOBS as u64);
}

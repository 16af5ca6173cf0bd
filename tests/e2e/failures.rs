//! Guests that fail: the job fails with a clear error, the node keeps serving.

use qntx::ats;
use qntx::pulse::{JobStatus, NewJob};
use serde_json::json;

use crate::fixtures::{Env, guests};

fn once(handler: &str, payload: serde_json::Value) -> NewJob {
    NewJob {
        max_attempts: 1,
        ..NewJob::new(handler, payload)
    }
}

#[test]
fn a_trapping_guest_fails_its_job_naming_plugin_handler_and_cause_and_the_node_runs_on() {
    let env = Env::with_plugins(&[&guests().probe]);
    let node = env.start();
    let trapped = env.enqueue_job(&once("probe/panic", json!({ "message": "kaboom" })));
    node.notify();
    let trapped = env.wait_final(&trapped);
    assert_eq!(trapped.status, JobStatus::Failed);
    let error = trapped.error.expect("an error");
    assert!(
        error.starts_with("plugin 'probe' handler 'panic': panicked at "),
        "{error}"
    );
    assert!(
        error.ends_with(": boom: kaboom (trap: wasm `unreachable` instruction executed)"),
        "the guest's panic message and the trap: {error}"
    );

    let next = env.enqueue("probe/ok", json!({ "still": "alive" }));
    node.notify();
    let next = env.wait_final(&next);
    assert_eq!(next.status, JobStatus::Completed);
    assert_eq!(next.result, Some(json!({ "still": "alive" })));
}

#[test]
fn a_retryable_failure_is_retried_and_the_attempt_reaches_the_guest() {
    let env = Env::with_plugins(&[&guests().probe]);
    let node = env.start();
    let id = env.enqueue("probe/attempt", json!({ "succeed_on": 3 }));
    node.notify();
    let job = env.wait_final(&id);
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    assert_eq!(job.result, Some(json!({ "attempt": 3 })));
    let logs = qntx::pulse::store::logs(&env.store(), &id, 0).unwrap();
    let retries = logs
        .iter()
        .filter(|(_, line)| line.message.contains("failed, retrying in"))
        .count();
    assert_eq!(retries, 2, "{logs:?}");
}

#[test]
fn retries_stop_at_max_attempts() {
    let env = Env::with_plugins(&[&guests().probe]);
    let node = env.start();
    let id = env.enqueue_job(&NewJob {
        max_attempts: 2,
        ..NewJob::new(
            "probe/fail",
            json!({ "retryable": true, "message": "flaky" }),
        )
    });
    node.notify();
    let job = env.wait_final(&id);
    assert_eq!(job.status, JobStatus::Failed);
    assert_eq!(job.attempt, 2);
    assert_eq!(
        job.error.as_deref(),
        Some("plugin 'probe' handler 'fail' failed: flaky")
    );
}

#[test]
fn a_failed_attempt_leaves_no_attestations_behind() {
    let env = Env::with_plugins(&[&guests().probe]);
    let node = env.start();
    let id = env.enqueue_job(&once(
        "probe/attest-then-panic",
        json!({ "subject": "ghost" }),
    ));
    node.notify();
    assert_eq!(env.wait_final(&id).status, JobStatus::Failed);
    let page = ats::store::query(
        &env.store(),
        &ats::Query {
            subjects: vec!["ghost".into()],
            ..ats::Query::default()
        },
    )
    .unwrap();
    assert!(page.attestations.is_empty(), "{page:?}");
    let logs = qntx::pulse::store::logs(&env.store(), &id, 0).unwrap();
    assert!(
        logs.iter().any(|(_, l)| l.message
            == "discarded 1 attestation(s) and 0 child job(s) of the failed attempt"),
        "{logs:?}"
    );
}

#[test]
fn a_guest_cannot_attest_as_someone_else() {
    let env = Env::with_plugins(&[&guests().probe]);
    let node = env.start();
    let id = env.enqueue("probe/forge", json!({ "actors": ["alice"] }));
    node.notify();
    let job = env.wait_final(&id);
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    let result = job.result.unwrap();
    let stored = ats::store::get(&env.store(), result["id"].as_str().unwrap()).unwrap();
    assert_eq!(stored.actors, ["plugin:probe"]);
    assert_eq!(stored.source, "probe@0.1.0");
}

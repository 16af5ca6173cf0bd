//! The walking skeleton: the `text` plugin announces handlers, Pulse routes jobs to it, results
//! and attestations are persisted.

use qntx::ats;
use qntx::pulse::JobStatus;
use serde_json::json;

use crate::fixtures::{Env, guests};

#[test]
fn text_plugin_runs_echo_and_stats_and_attests_the_counts() {
    let env = Env::with_plugins(&[&guests().text]);
    let node = env.start();
    assert_eq!(node.registry().names(), ["text/echo", "text/stats"]);

    let payload = json!({ "nested": { "a": [1, 2.5, null] }, "s": "ünïcode" });
    let echo = env.enqueue("text/echo", payload.clone());
    let stats = env.enqueue(
        "text/stats",
        json!({ "subject": "poem", "text": "one two\nthree\n\nfour five six" }),
    );
    node.notify();
    let echo = env.wait_final(&echo);
    let stats = env.wait_final(&stats);
    node.shutdown(std::time::Duration::from_secs(5));

    assert_eq!(echo.status, JobStatus::Completed, "{echo:?}");
    assert_eq!(echo.result, Some(payload));
    assert_eq!(echo.attempt, 1);
    assert_eq!(echo.plugin_version, "0.1.0");

    assert_eq!(stats.status, JobStatus::Completed, "{stats:?}");
    let result = stats.result.expect("a result");
    assert_eq!(result["lines"], 4);
    assert_eq!(result["words"], 6);
    assert_eq!(result["bytes"], 28);
    assert_eq!((stats.progress.current, stats.progress.total), (28, 28));

    let id = result["attestation"].as_str().expect("attestation id");
    let attestation = ats::store::get(&env.store(), id).expect("attestation stored");
    assert_eq!(attestation.subjects, ["poem"]);
    assert_eq!(attestation.predicates, ["text_stats"]);
    assert_eq!(attestation.contexts, [format!("job:{}", stats.id)]);
    assert_eq!(attestation.actors, ["plugin:text"]);
    assert_eq!(attestation.source, "text@0.1.0");
    assert_eq!(
        serde_json::Value::Object(attestation.attributes),
        json!({ "lines": 4, "words": 6, "bytes": 28 })
    );
}

#[test]
fn stats_refuses_a_payload_without_text_permanently() {
    let env = Env::with_plugins(&[&guests().text]);
    let node = env.start();
    let id = env.enqueue("text/stats", json!({ "txt": "typo" }));
    node.notify();
    let job = env.wait_final(&id);
    assert_eq!(job.status, JobStatus::Failed);
    assert_eq!(job.attempt, 1, "a permanent error is not retried");
    assert_eq!(
        job.error.as_deref(),
        Some("plugin 'text' handler 'stats' failed: payload.text must be a string")
    );
}

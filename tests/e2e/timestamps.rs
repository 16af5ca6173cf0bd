//! Times out of range: refused when a guest or the CLI offers them, and shown without a panic
//! when an older node already stored them.

use qntx::ats::{self, NewAttestation};
use qntx::pulse::JobStatus;
use serde_json::{Value, json};

use crate::fixtures::{Env, guests, run};

const RANGE: &str = "an attestation's time must be from 1970-01-01T00:00:00Z to \
                     9999-12-31T23:59:59.999Z (0 to 253402300799999 ms)";

#[test]
fn guests_and_the_cli_are_refused_times_outside_1970_to_9999() {
    let env = Env::with_plugins(&[&guests().probe]);
    let node = env.start();
    let attest_at = |timestamp: i64| {
        let id = env.enqueue(
            "probe/attest-at",
            json!({ "subject": "dated", "timestamp": timestamp }),
        );
        node.notify();
        let job = env.wait_final(&id);
        assert_eq!(job.status, JobStatus::Completed, "{job:?}");
        job.result.unwrap()
    };
    for timestamp in [i64::MAX, -1, i64::MIN, ats::MAX_TIMESTAMP_MS + 1] {
        assert_eq!(
            attest_at(timestamp),
            json!({ "refused": format!(
                "invalid argument: timestamp {timestamp} ms is out of range: {RANGE}"
            ) })
        );
    }
    for timestamp in [ats::MIN_TIMESTAMP_MS, ats::MAX_TIMESTAMP_MS] {
        assert!(attest_at(timestamp)["id"].is_string());
    }
    let (code, table, stderr) = run(env.qntx().args(["ax", "dated"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(table.contains("9999-12-31T23:59:59.999Z"), "{table}");
    assert!(table.contains("1970-01-01T00:00:00.000Z"), "{table}");

    let (code, _, stderr) = run(env.qntx().args(["as", "old", "--at", "3000 years ago"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(RANGE), "{stderr}");
}

#[test]
fn times_an_older_node_stored_out_of_range_are_shown_without_a_panic() {
    let env = Env::with_plugins(&[]);
    let store = env.store();
    for timestamp in [i64::MAX, i64::MIN, -1] {
        let mut attestation = NewAttestation {
            subjects: vec!["far".into()],
            actors: vec!["old-node".into()],
            source: "test".into(),
            ..NewAttestation::default()
        }
        .validate(&ats::Limits::default(), 1)
        .unwrap();
        attestation.timestamp = timestamp;
        ats::store::insert(&store, &mut attestation).unwrap();
    }
    let (code, table, stderr) = run(env.qntx().args(["ax", "far"]));
    assert_eq!(code, 0, "{stderr}");
    for shown in [
        "+292278994-08-17T07:12:55.807Z",
        "-292275055-05-16T16:47:04.192Z",
        "1969-12-31T23:59:59.999Z",
    ] {
        assert!(table.contains(shown), "{table}");
    }
    let (code, lines, stderr) = run(env.qntx().args(["ax", "far", "--json"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(lines.lines().count(), 3);

    let (code, id, stderr) =
        run(env
            .qntx()
            .args(["job", "enqueue", "x/y", "--allow-unregistered"]));
    assert_eq!(code, 0, "{stderr}");
    let id = id.trim();
    env.database().execute(&format!(
        "UPDATE jobs SET run_at = {}, created_at = {} WHERE id = '{id}'",
        i64::MAX,
        i64::MIN
    ));
    let (code, shown, stderr) = run(env.qntx().args(["job", "show", id]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        shown.contains("run at     +292278994-08-17T07:12:55.807Z"),
        "{shown}"
    );
    assert!(
        shown.contains("created    -292275055-05-16T16:47:04.192Z"),
        "{shown}"
    );
    let (code, listed, stderr) = run(env.qntx().args(["job", "list"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(listed.contains(id), "{listed}");
    let (code, listed, stderr) = run(env.qntx().args(["job", "list", "--json"]));
    assert_eq!(code, 0, "{stderr}");
    let job: Value = serde_json::from_str(listed.lines().next().unwrap()).unwrap();
    assert_eq!(job["run_at"], json!(i64::MAX));
}

//! The attestation store from outside: `qntx as` / `qntx ax` as separate processes, `--follow`
//! across processes, the benchmark's smoke run, and guests writing and reading through a job.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use qntx::ats::{self, Limits, NewAttestation};
use qntx::pulse::{JobStatus, NewJob};
use serde_json::{Value, json};

use crate::fixtures::{Env, guests, run};

fn lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

#[test]
fn as_then_ax_json_returns_the_attestation() {
    let env = Env::with_plugins(&[]);
    let (code, id, stderr) = run(env.qntx().args([
        "as",
        "ALICE",
        "is",
        "author",
        "of",
        "github",
        "by",
        "bob",
        "--attr",
        "language=Rust",
        "--attr",
        "stars=5",
        "--at",
        "2024-05-01T12:00:00Z",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let id = id.trim();
    assert!(id.starts_with("AS-ALICE-AUTHOR-GITHUB-"), "{id}");

    let (code, out, stderr) = run(env.qntx().args(["ax", "alice", "is", "AUTHOR", "--json"]));
    assert_eq!(code, 0, "{stderr}");
    let found = lines(&out);
    assert_eq!(found.len(), 1, "{out}");
    let a = &found[0];
    assert_eq!(a["id"], id);
    assert_eq!(a["subjects"], json!(["ALICE"]));
    assert_eq!(a["predicates"], json!(["author"]));
    assert_eq!(a["contexts"], json!(["github"]));
    assert_eq!(a["actors"], json!(["bob"]));
    assert_eq!(a["source"], "qntx-cli");
    assert_eq!(a["timestamp"], 1_714_564_800_000_i64);
    assert_eq!(a["attributes"], json!({ "language": "Rust", "stars": 5 }));

    let (code, table, _) = run(env.qntx().args(["ax", "ALICE"]));
    assert_eq!(code, 0);
    let rows: Vec<&str> = table.lines().collect();
    assert!(
        rows[0].starts_with("ID") && rows[0].contains("SUBJECTS"),
        "{table}"
    );
    assert!(
        rows[1].starts_with(id) && rows[1].contains("2024-05-01T12:00:00.000Z"),
        "{table}"
    );
}

#[test]
fn ax_filters_by_words_flags_times_and_attributes() {
    let env = Env::with_plugins(&[]);
    let write = |args: &[&str]| {
        let (code, id, stderr) = run(env.qntx().arg("as").args(args));
        assert_eq!(code, 0, "{stderr}");
        id.trim().to_owned()
    };
    let old = write(&["x", "is", "member", "of", "acme", "--at", "2024-01-01"]);
    let rust = write(&[
        "x",
        "y",
        "is",
        "member",
        "--at",
        "2024-03-01",
        "--attr",
        "language=Rust",
    ]);
    let go = write(&[
        "y",
        "is",
        "member",
        "of",
        "acme",
        "--at",
        "2024-03-02",
        "--attr",
        "language=Go",
    ]);
    let ids = |args: &[&str]| -> Vec<String> {
        let (code, out, stderr) = run(env.qntx().arg("ax").args(args).arg("--json"));
        assert!(code == 0 || code == 1, "{stderr}");
        lines(&out)
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&["X"]), [rust.as_str(), old.as_str()]);
    assert_eq!(ids(&["x", "y"]), [go.as_str(), rust.as_str(), old.as_str()]);
    assert_eq!(ids(&["--subject", "y", "of", "ACME"]), [go.as_str()]);
    assert_eq!(
        ids(&["is", "member", "since", "2024-03-01"]),
        [go.as_str(), rust.as_str()]
    );
    assert_eq!(
        ids(&["is", "member", "until", "2024-03-01"]),
        [rust.as_str(), old.as_str()],
        "the day is included"
    );
    assert_eq!(
        ids(&["between", "2024-01-01", "and", "2024-03-01"]),
        [rust.as_str(), old.as_str()]
    );
    assert_eq!(ids(&["--since", "2024-03-02T00:00:00Z"]), [go.as_str()]);
    assert_eq!(ids(&["--attr", "language=Rust"]), [rust.as_str()]);
    assert_eq!(
        ids(&["--source", "qntx-cli", "--limit", "2"]),
        [go.as_str(), rust.as_str()]
    );
    assert_eq!(ids(&["--limit", "0"]).len(), 3, "0 means all");
    assert!(ids(&["by", "nobody"]).is_empty());
}

#[test]
fn ax_exits_1_when_nothing_matches() {
    let env = Env::with_plugins(&[]);
    let (code, out, stderr) = run(env.qntx().args(["ax", "nobody"]));
    assert_eq!((code, out.as_str(), stderr.as_str()), (1, "", ""));
}

#[test]
fn parse_errors_point_at_the_offending_word_and_store_nothing() {
    let env = Env::with_plugins(&[]);
    let (code, _, stderr) = run(env
        .qntx()
        .args(["ax", "ALICE", "is", "author", "sinc", "7", "days", "ago"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("did you mean 'since'?"), "{stderr}");
    assert!(stderr.contains("at word 4 'sinc'"), "{stderr}");
    assert!(
        stderr.contains("  ALICE is author sinc 7 days ago\n                  ^^^^\n"),
        "{stderr}"
    );

    let (code, _, stderr) = run(env.qntx().args(["ax", "since", "last", "tuesday"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("'last tuesday' is not a time") && stderr.contains("at word 2 'last'"),
        "{stderr}"
    );

    for (args, message) in [
        (
            &["as", "is", "author"][..],
            "invalid attestation: an attestation needs at least one subject",
        ),
        (
            &["as", "x", "is"],
            "'is' needs at least one predicate after it at word 2 'is'",
        ),
        (
            &["as", "x", "since", "today"],
            "'since' belongs to queries; date a claim with --at TIME",
        ),
        (
            &["as", "x", "--attr", "novalue"],
            "--attr 'novalue' is not KEY=VALUE",
        ),
        (
            &["as", "x", "--at", "someday"],
            "--at: 'someday' is not a time",
        ),
        (
            &["ax", "--attr", "a\"b=1"],
            "invalid query: attribute key 'a\\\"b' contains '\"'",
        ),
        (
            &["ax", "--since", "2024-02-01", "--until", "2024-01-01"],
            "invalid query: the time range is reversed",
        ),
    ] {
        let (code, _, stderr) = run(env.qntx().args(args));
        assert_eq!(code, 2, "{args:?}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    let (code, _, _) = run(env.qntx().args(["ax", "--limit", "0"]));
    assert_eq!(code, 1, "nothing was stored");
}

#[test]
fn as_without_an_actor_speaks_for_the_user() {
    let env = Env::with_plugins(&[]);
    let (code, _, stderr) = run(env.qntx().args(["as", "one"]).env("USER", "tester"));
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = run(env.qntx().args(["as", "two"]).env_remove("USER"));
    assert_eq!(code, 0, "{stderr}");
    let (_, out, _) = run(env.qntx().args(["ax", "--json"]));
    let actors: Vec<Value> = lines(&out).iter().map(|a| a["actors"].clone()).collect();
    assert_eq!(actors, [json!(["cli"]), json!(["tester"])]);
    let predicates: Vec<Value> = lines(&out)
        .iter()
        .map(|a| a["predicates"].clone())
        .collect();
    assert_eq!(predicates, [json!(["_"]), json!(["_"])]);
}

#[test]
fn follow_prints_what_another_process_writes() {
    let env = Env::with_plugins(&[]);
    let (code, _, _) = run(env.qntx().args(["as", "before", "is", "watched"]));
    assert_eq!(code, 0);
    let mut child = env
        .qntx()
        .args(["ax", "is", "watched", "--follow", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("qntx ax --follow starts");
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    // Generous: this checks that the row arrives, not how fast (see the README's benchmarks).
    let next = || {
        rx.recv_timeout(Duration::from_secs(30))
            .expect("a line from --follow")
    };
    let first: Value = serde_json::from_str(&next()).unwrap();
    assert_eq!(
        first["subjects"],
        json!(["before"]),
        "the matches so far come first"
    );

    let (code, _, _) = run(env.qntx().args(["as", "ignored", "is", "other"]));
    assert_eq!(code, 0);
    let (code, id, _) = run(env.qntx().args(["as", "later", "is", "WATCHED"]));
    assert_eq!(code, 0);
    let later: Value = serde_json::from_str(&next()).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(later["id"], id.trim(), "the non-matching write is skipped");
}

#[test]
fn a_job_that_traps_after_attesting_leaves_nothing_and_its_retry_writes_once() {
    let env = Env::with_plugins(&[&guests().probe]);
    let node = env.start();
    let id = env.enqueue_job(&NewJob {
        max_attempts: 2,
        ..NewJob::new(
            "probe/attest-then-panic-first",
            json!({ "subject": "retried", "n": 3 }),
        )
    });
    node.notify();
    let job = env.wait_final(&id);
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    assert_eq!(job.result, Some(json!({ "attempt": 2 })));
    let page = ats::store::query(
        &env.store(),
        &ats::Query {
            subjects: vec!["retried".into()],
            ..ats::Query::default()
        },
    )
    .unwrap();
    let mut written: Vec<i64> = page
        .attestations
        .iter()
        .map(|a| a.attributes["i"].as_i64().unwrap())
        .collect();
    written.sort();
    assert_eq!(written, [0, 1, 2], "each claim once: {page:?}");
    assert!(
        page.attestations
            .iter()
            .all(|a| a.actors == ["plugin:probe"] && a.source == "probe@0.1.0")
    );
    let logs = qntx::pulse::store::logs(&env.store(), &id, 0).unwrap();
    assert!(
        logs.iter().any(|(_, l)| l.attempt == 1
            && l.message == "discarded 3 attestation(s) and 0 child job(s) of the failed attempt"),
        "{logs:?}"
    );
}

#[test]
fn guest_queries_are_bounded_and_checked() {
    let env = Env::with_plugins(&[&guests().probe]);
    {
        let mut conn = env.store();
        let tx = qntx::storage::Connection::transaction(&mut conn).unwrap();
        for i in 0..1005 {
            let mut a = NewAttestation {
                subjects: vec!["many".into()],
                actors: vec!["test".into()],
                timestamp: Some(i),
                source: "test".into(),
                ..NewAttestation::default()
            }
            .validate(&Limits::default(), 1)
            .unwrap();
            ats::store::insert(tx.store(), &mut a).unwrap();
        }
        tx.commit().unwrap();
    }
    let node = env.start();
    let huge = env.enqueue(
        "probe/query",
        json!({ "subject": "many", "limit": 1_000_000 }),
    );
    let forged_key = env.enqueue("probe/query", json!({ "subject": "many", "key": "a\"]" }));
    node.notify();
    let huge = env.wait_final(&huge);
    assert_eq!(
        huge.result,
        Some(json!({ "count": 1000, "more": true })),
        "{huge:?}"
    );
    let forged_key = env.wait_final(&forged_key);
    let error = forged_key.result.unwrap()["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        error.starts_with("InvalidArgument(")
            && error.contains("keys of attribute conditions cannot"),
        "{error}"
    );
}

fn visible(env: &Env, subject: &str) -> Vec<ats::Attestation> {
    ats::store::query(
        &env.store(),
        &ats::Query {
            subjects: vec![subject.into()],
            ..ats::Query::default()
        },
    )
    .unwrap()
    .attestations
}

fn discarded_one(env: &Env, id: &str) -> bool {
    qntx::pulse::store::logs(&env.store(), id, 0)
        .unwrap()
        .iter()
        .any(|(_, l)| {
            l.message == "discarded 1 attestation(s) and 0 child job(s) of the failed attempt"
        })
}

#[test]
fn a_timed_out_attempt_leaves_no_attestations() {
    let env = Env::with_plugins(&[&guests().probe]);
    let node = env.start();
    let id = env.enqueue_job(&NewJob {
        max_attempts: 1,
        timeout_ms: Some(300),
        ..NewJob::new("probe/attest-then-spin", json!({ "subject": "slow" }))
    });
    node.notify();
    let job = env.wait_final(&id);
    assert_eq!(job.status, JobStatus::Failed, "{job:?}");
    assert!(visible(&env, "slow").is_empty());
    assert!(discarded_one(&env, &id));
}

#[test]
fn a_cancelled_attempt_leaves_no_attestations() {
    let env = Env::with_plugins(&[&guests().probe]);
    let node = env.start();
    let id = env.enqueue("probe/attest-then-spin", json!({ "subject": "cancelled" }));
    node.notify();
    // The guest reports progress only after it attested.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while env.job(&id).progress.current != 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the guest never attested"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    qntx::pulse::store::cancel(&env.store(), &id, qntx::clock::now_ms()).unwrap();
    let job = env.wait_final(&id);
    assert_eq!(job.status, JobStatus::Cancelled, "{job:?}");
    node.shutdown(Duration::from_secs(10));
    assert!(visible(&env, "cancelled").is_empty());
}

#[test]
fn a_job_reads_its_own_writes_before_they_are_visible_to_others() {
    let env = Env::with_plugins(&[&guests().probe]);
    let node = env.start();
    let id = env.enqueue("probe/read-own-writes", json!({ "subject": "mine" }));
    node.notify();
    let job = env.wait_final(&id);
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    let result = job.result.unwrap();
    assert_eq!(result["found"], json!([result["written"]]));
    let stored = visible(&env, "mine");
    assert_eq!(stored.len(), 1, "stored once, with the id the guest saw");
    assert_eq!(json!(stored[0].id), result["written"]);
}

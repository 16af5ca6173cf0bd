//! The live streams of the HTTP API (Server-Sent Events), over real HTTP on loopback: a job's
//! own stream, the job event feed with filters, the attestation feed with an `ax` query, and
//! resuming with `Last-Event-ID` (or `?after=`) without losing or repeating an event.

use std::io::{BufRead, BufReader, Lines};
use std::time::Duration;

use serde_json::{Value, json};

use crate::api::{ApiNode, token};
use crate::fixtures::{Env, eventually, guests};

/// One event of a stream.
#[derive(Debug, Clone, PartialEq)]
struct SseEvent {
    id: Option<String>,
    kind: String,
    data: Value,
}

/// An open stream; the connection closes when dropped.
struct SseStream {
    lines: Lines<BufReader<ureq::BodyReader<'static>>>,
}

impl SseStream {
    /// The next event; `None` when the server ended the stream. Comments (keep-alives) are
    /// skipped; a stream silent for a minute fails the test.
    fn next(&mut self) -> Option<SseEvent> {
        let (mut id, mut kind, mut data) = (None, String::from("message"), String::new());
        loop {
            let line = match self.lines.next() {
                None => return None,
                Some(line) => line.expect("the stream reads"),
            };
            if line.is_empty() {
                if data.is_empty() {
                    continue;
                }
                let data = serde_json::from_str(&data).expect("event data is JSON");
                return Some(SseEvent { id, kind, data });
            }
            if let Some(value) = line.strip_prefix("id:") {
                id = Some(value.trim_start().to_owned());
            } else if let Some(value) = line.strip_prefix("event:") {
                value.trim_start().clone_into(&mut kind);
            } else if let Some(value) = line.strip_prefix("data:") {
                data.push_str(value.trim_start());
            }
        }
    }

    /// The next `count` events.
    fn take(&mut self, count: usize) -> Vec<SseEvent> {
        (0..count)
            .map(|i| {
                self.next()
                    .unwrap_or_else(|| panic!("the stream ended after {i} of {count} events"))
            })
            .collect()
    }
}

/// `GET PATH` as a stream: its status, and the stream when it is 200 or the JSON body when not.
fn open(
    node: &ApiNode,
    path: &str,
    token: Option<&str>,
    last_event_id: Option<&str>,
) -> Result<SseStream, (u16, Value)> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut request = agent.get(format!("{}{path}", node.base));
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    if let Some(id) = last_event_id {
        request = request.header("Last-Event-ID", id);
    }
    let mut response = request.call().expect("the request is answered");
    let status = response.status().as_u16();
    if status != 200 {
        let body = response.body_mut().read_to_string().unwrap();
        return Err((status, serde_json::from_str(&body).unwrap()));
    }
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert_eq!(content_type, "text/event-stream");
    let reader = BufReader::new(response.into_body().into_reader());
    Ok(SseStream {
        lines: reader.lines(),
    })
}

fn stream(node: &ApiNode, path: &str, token: &str, last_event_id: Option<&str>) -> SseStream {
    open(node, path, Some(token), last_event_id)
        .unwrap_or_else(|(status, body)| panic!("GET {path}: {status} {body}"))
}

fn enqueue(node: &ApiNode, token: &str, job: &Value) -> String {
    let (status, enqueued) = node.call("POST", "/api/v1/jobs", Some(token), Some(job));
    assert_eq!(status, 201, "{enqueued}");
    enqueued["id"].as_str().unwrap().to_owned()
}

fn wait_final(node: &ApiNode, token: &str, id: &str) {
    eventually("the job finishes", || {
        let (_, job) = node.call("GET", &format!("/api/v1/jobs/{id}"), Some(token), None);
        ["completed", "failed", "cancelled"]
            .contains(&job["status"].as_str().unwrap())
            .then_some(())
    });
}

/// (job id, status) of job events.
fn changes(events: &[SseEvent]) -> Vec<(String, String)> {
    events
        .iter()
        .map(|event| {
            assert_eq!(event.kind, "job", "{event:?}");
            (
                event.data["job_id"].as_str().unwrap().to_owned(),
                event.data["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn lifecycle(id: &str, statuses: &[&str]) -> Vec<(String, String)> {
    statuses
        .iter()
        .map(|status| (id.to_owned(), (*status).to_owned()))
        .collect()
}

fn error_message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap()
}

#[test]
fn a_jobs_stream_sends_its_changes_and_log_lines_in_order_then_ends() {
    let env = Env::with_plugins(&[&guests().probe]);
    let secret = token(&env, "ci", "enqueue");
    let node = ApiNode::start(&env, &[]);

    let slow = enqueue(
        &node,
        &secret,
        &json!({"handler": "probe/sleep", "payload": {"ms": 1500}}),
    );
    let mut events = stream(&node, &format!("/api/v1/jobs/{slow}/events"), &secret, None);
    let mut seen = Vec::new();
    while let Some(event) = events.next() {
        seen.push(event);
    }
    let (end, changes_seen) = seen.split_last().expect("events came");
    assert_eq!(end.kind, "end");
    assert_eq!(end.data, json!({"status": "completed"}));
    let statuses: Vec<&str> = changes_seen
        .iter()
        .filter(|e| e.kind == "job")
        .map(|e| e.data["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.first(), Some(&"queued"), "{seen:?}");
    assert_eq!(statuses.last(), Some(&"completed"), "{seen:?}");
    assert!(
        statuses.iter().filter(|s| **s == "running").count() >= 2,
        "progress of the running job arrives while it runs: {seen:?}"
    );
    let progress: Vec<u64> = changes_seen
        .iter()
        .filter(|e| e.kind == "job")
        .map(|e| e.data["progress"]["current"].as_u64().unwrap())
        .collect();
    assert!(progress.is_sorted(), "progress only grows: {progress:?}");
    assert_eq!(progress.last(), Some(&1500));

    let logged = enqueue(
        &node,
        &secret,
        &json!({"handler": "probe/log", "payload": {"lines": 3}}),
    );
    wait_final(&node, &secret, &logged);
    let mut events = stream(
        &node,
        &format!("/api/v1/jobs/{logged}/events"),
        &secret,
        None,
    );
    let mut seen = Vec::new();
    while let Some(event) = events.next() {
        seen.push(event);
    }
    let guest_lines: Vec<&str> = seen
        .iter()
        .filter(|e| e.kind == "log")
        .map(|e| e.data["message"].as_str().unwrap())
        .filter(|message| message.starts_with("line "))
        .collect();
    assert_eq!(guest_lines, ["line 0", "line 1", "line 2"], "{seen:?}");
    let completed = seen
        .iter()
        .position(|e| e.kind == "job" && e.data["status"] == "completed")
        .expect("the completion is sent");
    let last_line = seen.iter().rposition(|e| e.kind == "log").unwrap();
    assert!(last_line < completed, "lines come before the end: {seen:?}");
    assert_eq!(seen.last().unwrap().kind, "end");

    // Resuming after the completion: only the end.
    let id = seen[completed].id.clone().unwrap();
    let mut rest = stream(
        &node,
        &format!("/api/v1/jobs/{logged}/events?after={id}"),
        &secret,
        None,
    );
    assert_eq!(rest.next().map(|e| e.kind), Some("end".to_owned()));
    assert_eq!(rest.next(), None);
}

#[test]
fn the_job_feed_resumes_after_last_event_id_with_nothing_lost_or_repeated() {
    let env = Env::with_plugins(&[&guests().probe]);
    let secret = token(&env, "ci", "enqueue");
    let node = ApiNode::start(&env, &[]);
    let ok = |n: u32| json!({"handler": "probe/ok", "payload": {"n": n}});

    let mut feed = stream(&node, "/api/v1/events/jobs?handler=probe/ok", &secret, None);
    let first = enqueue(&node, &secret, &ok(1));
    let before = feed.take(3);
    assert_eq!(
        changes(&before),
        lifecycle(&first, &["queued", "running", "completed"])
    );
    let last_seen = before.last().unwrap().id.clone().unwrap();
    drop(feed);

    // While nobody listens: two more jobs of the handler, and one of another handler.
    let second = enqueue(&node, &secret, &ok(2));
    let other = enqueue(
        &node,
        &secret,
        &json!({"handler": "probe/fail", "payload": {"message": "no"}}),
    );
    let third = enqueue(&node, &secret, &ok(3));
    for id in [&second, &other, &third] {
        wait_final(&node, &secret, id);
    }
    // A job after them: the event that shows nothing else came in between.
    let sentinel = enqueue(&node, &secret, &ok(4));

    let expected: Vec<(String, String)> = [&second, &third]
        .iter()
        .flat_map(|id| lifecycle(id, &["queued", "running", "completed"]))
        .chain([(sentinel.clone(), "queued".to_owned())])
        .collect();
    let mut by_header = stream(
        &node,
        "/api/v1/events/jobs?handler=probe/ok",
        &secret,
        Some(&last_seen),
    );
    let resumed = by_header.take(7);
    let mut got = changes(&resumed);
    got.sort_by_key(|(id, _)| id.clone());
    let mut want = expected.clone();
    want.sort_by_key(|(id, _)| id.clone());
    assert_eq!(got, want, "exactly the events after {last_seen}");
    let ids: Vec<&str> = resumed.iter().map(|e| e.id.as_deref().unwrap()).collect();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(unique, ids, "no event twice");
    assert!(!ids.contains(&last_seen.as_str()));

    let mut by_query = stream(
        &node,
        &format!("/api/v1/events/jobs?handler=probe/ok&after={last_seen}"),
        &secret,
        None,
    );
    assert_eq!(
        by_query.take(7),
        resumed,
        "?after= resumes as Last-Event-ID does"
    );

    let mut completions = stream(
        &node,
        &format!("/api/v1/events/jobs?status=completed&after={last_seen}"),
        &secret,
        None,
    );
    let done = changes(&completions.take(2));
    assert_eq!(
        done,
        [
            (second.clone(), "completed".to_owned()),
            (third.clone(), "completed".to_owned())
        ],
        "the failed job is no completion"
    );
}

#[test]
fn streams_refuse_bad_cursors_unknown_jobs_and_missing_tokens() {
    let env = Env::with_plugins(&[&guests().probe]);
    let secret = token(&env, "reader", "read");
    let node = ApiNode::start(&env, &[]);
    let auth = Some(secret.as_str());

    for path in [
        "/api/v1/events/jobs",
        "/api/v1/attestations/feed",
        "/api/v1/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV/events",
    ] {
        let (status, body) = open(&node, path, None, None).err().expect("refused");
        assert_eq!(status, 401, "{path}: {body}");
    }
    let (status, body) = open(
        &node,
        "/api/v1/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV/events",
        auth,
        None,
    )
    .err()
    .expect("refused");
    assert_eq!(status, 404, "{body}");

    for (path, header, says) in [
        (
            "/api/v1/events/jobs?after=abc",
            None,
            "'abc' is no event id",
        ),
        ("/api/v1/events/jobs", Some("1-x"), "'1-x' is no event id"),
        ("/api/v1/events/jobs?after=-1-2", None, "expected XID-SEQ"),
        (
            "/api/v1/events/jobs?status=done",
            None,
            "unknown job status 'done'",
        ),
        ("/api/v1/events/jobs?colour=red", None, "unknown field"),
        (
            "/api/v1/attestations/feed?after=x",
            None,
            "'x' is no event id",
        ),
        ("/api/v1/attestations/feed?ax=since%20whenever", None, "ax:"),
    ] {
        let (status, body) = open(&node, path, auth, header).err().expect("refused");
        assert_eq!(status, 400, "{path}: {body}");
        assert!(error_message(&body).contains(says), "{path}: {body}");
    }

    let (status, enqueued) = node.call(
        "POST",
        "/api/v1/jobs",
        Some(&token(&env, "ci", "enqueue")),
        Some(&json!({"handler": "probe/ok"})),
    );
    assert_eq!(status, 201, "{enqueued}");
    let id = enqueued["id"].as_str().unwrap();
    let (status, body) = open(
        &node,
        &format!("/api/v1/jobs/{id}/events?after=0-1"),
        auth,
        None,
    )
    .err()
    .expect("refused");
    assert_eq!(status, 400, "{body}");
    assert!(error_message(&body).contains("XID-SEQ.LINE"), "{body}");
}

#[test]
fn the_attestation_feed_sends_what_matches_its_ax_query_and_resumes() {
    let env = Env::with_plugins(&[&guests().probe]);
    let secret = token(&env, "bob", "enqueue");
    let node = ApiNode::start(&env, &[]);
    let attest = |subject: &str, predicate: &str| {
        let claim = json!({"subjects": [subject], "predicates": [predicate]});
        let (status, stored) =
            node.call("POST", "/api/v1/attestations", Some(&secret), Some(&claim));
        assert_eq!(status, 201, "{stored}");
        stored["id"].as_str().unwrap().to_owned()
    };
    let before = attest("ALICE", "author");

    let path = "/api/v1/attestations/feed?ax=ALICE%20is%20author";
    let mut feed = stream(&node, path, &secret, None);
    let first = attest("ALICE", "author");
    attest("BOB", "author");
    attest("ALICE", "reader");
    let second = attest("ALICE", "author");
    let events = feed.take(2);
    let ids: Vec<&str> = events
        .iter()
        .map(|e| {
            assert_eq!(e.kind, "attestation");
            e.data["id"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        ids,
        [first.as_str(), second.as_str()],
        "not {before}, nor the others"
    );
    drop(feed);

    let third = attest("ALICE", "author");
    let mut resumed = stream(&node, path, &secret, events[0].id.as_deref());
    let ids: Vec<String> = resumed
        .take(2)
        .iter()
        .map(|e| e.data["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, [second, third]);
}

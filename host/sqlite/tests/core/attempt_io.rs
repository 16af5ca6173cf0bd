//! The attempt's reads against the store's own answers, and its reports, on real database
//! files.

use std::collections::HashMap;

use serde_json::{Value, json};

use std::sync::Arc;

use qntx_core::ats;
use qntx_core::ats::overlay::PENDING_SEQ;
use qntx_core::ats::{Attestation, Cursor, NewAttestation, Page, Query};
use qntx_core::pulse::store::{self, Lease};
use qntx_core::pulse::{AttemptIo, ProgressReport};
use qntx_core::pulse::{JobStatus, LogLevel, LogLine, NewJob, Progress};
use qntx_core::storage::Pool;
use qntx_core::storage::{Backend, Store};
use qntx_sqlite::SqliteBackend;

use crate::backends::on_each_backend;

/// The attempt's calls on a pool of `backend`'s connections.
fn pooled(backend: Arc<dyn Backend>) -> AttemptIo {
    AttemptIo::pooled(&Pool::new(backend, 2))
}

/// A small deterministic generator, so that a failure repeats.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % sides as u64) as usize
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.roll(from.len())]
    }
}

const SUBJECTS: &[&str] = &["alice", "Bob", "carol"];
const PREDICATES: &[&str] = &["knows", "owns"];
const ACTORS: &[&str] = &["plugin:a", "plugin:b"];
const SOURCES: &[&str] = &["a@1", "b@1"];

/// An attestation with values drawn from small sets, so that filters match some; timestamps
/// from a few values, so that many tie. `big` ones carry 900 KB of attributes: five make a
/// page end early ([`ats::store::MAX_PAGE_BYTES`]).
fn draw(dice: &mut Dice, big: bool) -> Attestation {
    let mut attributes = json!({ "n": dice.roll(3) });
    if big {
        attributes["blob"] = json!("x".repeat(900_000));
    }
    let subjects = (0..=dice.roll(2)).map(|_| dice.pick(SUBJECTS).to_owned());
    NewAttestation {
        subjects: subjects.collect(),
        predicates: vec![dice.pick(PREDICATES).into()],
        contexts: Vec::new(),
        actors: vec![dice.pick(ACTORS).into()],
        timestamp: Some(1000 + dice.roll(6) as i64),
        source: dice.pick(SOURCES).into(),
        attributes,
    }
    .validate(&ats::Limits::default(), 7)
    .unwrap()
}

fn queries() -> Vec<Query> {
    let strings = |values: &[&str]| values.iter().map(|v| (*v).to_owned()).collect();
    let filters = [
        Query::default(),
        Query {
            subjects: strings(&["ALICE"]),
            ..Query::default()
        },
        Query {
            subjects: strings(&["bob", "carol"]),
            predicates: strings(&["knows"]),
            ..Query::default()
        },
        Query {
            actors: strings(&["plugin:b"]),
            since: Some(1002),
            ..Query::default()
        },
        Query {
            until: Some(1003),
            source: Some("a@1".into()),
            ..Query::default()
        },
        Query {
            attributes: vec![("n".into(), json!(1))],
            ..Query::default()
        },
        Query {
            subjects: strings(&["nobody"]),
            ..Query::default()
        },
    ];
    let mut queries = Vec::new();
    for filter in filters {
        for limit in [0, 1, 2, 3, 7] {
            queries.push(Query {
                limit,
                ..filter.clone()
            });
        }
    }
    queries
}

/// Every page of `query` from `read`, following its cursors, with each page's cursor.
fn all_pages(query: &Query, read: impl Fn(&Query) -> Page) -> Vec<(Vec<String>, Option<Cursor>)> {
    let mut pages = Vec::new();
    let mut query = query.clone();
    loop {
        let page = read(&query);
        pages.push((
            page.attestations.iter().map(|a| a.id.clone()).collect(),
            page.next_cursor,
        ));
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => return pages,
        }
        assert!(pages.len() < 1000, "paging does not end");
    }
}

/// Page through each of `queries` over `committed` and `pending` both ways: with the
/// pending attestations stored for real after the rest (the store's answer), and laid over a
/// store of only the committed ones (an attempt's read). Returns how many pages ended at the
/// byte limit.
fn compare(committed: &[Attestation], pending: &[Attestation], queries: &[Query]) -> usize {
    let written = SqliteBackend::temporary().unwrap();
    let written_conn = written.connection().unwrap();
    let mut last_committed_seq = 0;
    for attestation in committed {
        last_committed_seq = ats::store::insert(&written_conn, &mut attestation.clone()).unwrap();
    }
    let mut pending_seq = HashMap::new();
    for (index, attestation) in pending.iter().enumerate() {
        let seq = ats::store::insert(&written_conn, &mut attestation.clone()).unwrap();
        assert!(seq > last_committed_seq);
        pending_seq.insert(seq, PENDING_SEQ + index as i64);
    }
    // A stored pending attestation's cursor, as the overlay numbers it.
    let renumber = |cursor: Option<Cursor>| {
        cursor.map(|cursor| Cursor {
            seq: pending_seq.get(&cursor.seq).copied().unwrap_or(cursor.seq),
            ..cursor
        })
    };

    let stored = Arc::new(SqliteBackend::temporary().unwrap());
    let stored_conn = stored.connection().unwrap();
    for attestation in committed {
        ats::store::insert(&stored_conn, &mut attestation.clone()).unwrap();
    }
    let io = pooled(stored.clone());

    let mut cut_by_bytes = 0;
    for query in queries {
        query.validate().unwrap();
        let expected: Vec<_> = all_pages(query, |q| ats::store::query(&written_conn, q).unwrap())
            .into_iter()
            .map(|(ids, cursor)| (ids, renumber(cursor)))
            .collect();
        let got = all_pages(query, |q| io.attestations.query_over(q, pending).unwrap());
        assert_eq!(got, expected, "{query:?}");
        let limit = query.effective_limit() as usize;
        cut_by_bytes += expected
            .iter()
            .filter(|(ids, cursor)| cursor.is_some() && ids.len() < limit)
            .count();
    }

    // The pages hold the attestations as the store returns them, not only their ids.
    let first = Query {
        limit: 4,
        ..Query::default()
    };
    assert_eq!(
        io.attestations
            .query_over(&first, pending)
            .unwrap()
            .attestations,
        ats::store::query(&written_conn, &first)
            .unwrap()
            .attestations
    );
    // With nothing pending, a query is the store's.
    assert_eq!(
        io.attestations.query_over(&first, &[]).unwrap(),
        ats::store::query(&stored_conn, &first).unwrap()
    );
    cut_by_bytes
}

#[test]
fn pending_attestations_page_exactly_as_if_stored_last() {
    let mut dice = Dice(0x9e37_79b9_7f4a_7c15);
    let committed: Vec<Attestation> = (0..45).map(|i| draw(&mut dice, i % 9 == 4)).collect();
    let pending: Vec<Attestation> = (0..30).map(|i| draw(&mut dice, i % 10 == 3)).collect();
    let cut_by_bytes = compare(&committed, &pending, &queries());
    assert!(cut_by_bytes > 0, "some pages end at the byte limit");
}

#[test]
fn a_page_that_ends_with_the_stores_page_continues_where_the_store_would() {
    // The store's first page ends at the byte limit on its fifth attestation; a newer pending
    // one comes first, and the page still ends there, with the store's cursor.
    let mut dice = Dice(7);
    let at = |timestamp, big: bool, dice: &mut Dice| Attestation {
        timestamp,
        ..draw(dice, big)
    };
    let mut committed: Vec<Attestation> = (0..5).map(|_| at(1000, true, &mut dice)).collect();
    committed.push(at(999, false, &mut dice));
    let pending = [at(1001, false, &mut dice)];
    assert_eq!(compare(&committed, &pending, &[Query::default()]), 1);
}

on_each_backend! {
    fn a_report_saves_progress_and_logs_together_or_not_at_all(backend) {
        let conn = backend.connect().unwrap();
        let conn = &**conn;
        let now = 1_000;
        store::enqueue(conn, &NewJob::new("p/h", Value::Null), now).unwrap();
        let job = store::claim_in(
            conn,
            &store::ClaimParams {
                handlers: &["p/h".to_owned()],
                owner: "node",
                lease_until: now + 60_000,
                limit: 1,
                limits: &qntx_core::pulse::HandlerLimits::new(),
                room: None,
                now,
            },
        )
        .unwrap()
        .jobs
        .pop()
        .unwrap();
        let io = pooled(backend.clone());
        let line = |message: &str| LogLine {
            attempt: job.attempt,
            time: now,
            level: LogLevel::Info,
            stage: "guest".into(),
            message: message.into(),
        };
        let lease = Lease {
            id: &job.id,
            attempt: job.attempt,
            claim: job.claims,
            owner: "node",
        };
        let progress = Progress {
            current: 3,
            total: 10,
        };
        io.progress
            .report(
                lease,
                ProgressReport {
                    progress,
                    cost: 1.5,
                    logs: &[line("one"), line("two")],
                    now: now + 1,
                },
            )
            .unwrap();
        let running = store::get(conn, &job.id).unwrap();
        assert_eq!(running.status, JobStatus::Running);
        assert_eq!((running.progress, running.cost_actual), (progress, 1.5));
        let logged = |conn: &dyn Store| -> Vec<String> {
            store::logs(conn, &job.id, 0)
                .unwrap()
                .into_iter()
                .map(|(_, line)| line.message)
                .collect()
        };
        assert_eq!(logged(conn), ["one", "two"]);

        let stolen = Lease {
            owner: "another node",
            ..lease
        };
        let lost = io
            .progress
            .report(
                stolen,
                ProgressReport {
                    progress: Progress::default(),
                    cost: 9.0,
                    logs: &[line("three")],
                    now: now + 2,
                },
            )
            .unwrap_err();
        assert!(
            matches!(lost, qntx_core::pulse::Error::LeaseLost { .. }),
            "{lost:?}"
        );
        assert_eq!(
            logged(conn),
            ["one", "two"],
            "nothing of a lost lease's report is kept"
        );
        assert_eq!(store::get(conn, &job.id).unwrap().cost_actual, 1.5);

        assert_eq!(io.tree.descendants(&job.id).unwrap(), 0);
    }
}

#[test]
fn an_attempt_reads_while_its_worker_holds_the_workers_connection() {
    let backend = Arc::new(SqliteBackend::temporary().unwrap());
    let mut worker = backend.connect().unwrap();
    let io = pooled(backend.clone());
    let _held = worker.transaction().unwrap();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let page = io.attestations.query(&Query::default()).unwrap();
        let count = io.tree.descendants("none").unwrap();
        done.send((page, count)).unwrap();
    });
    let answered = finished.recv_timeout(std::time::Duration::from_secs(10));
    assert_eq!(answered.unwrap(), (Page::default(), 0));
}

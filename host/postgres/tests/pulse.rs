//! Pulse's own operations (`qntx_core::pulse::store`) on PostgreSQL, where writers are not
//! serialised: two connections deciding at once (budgets, limits, unique enqueues, resumers,
//! rescuers) never decide on what the other is about to change.

use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::thread;

use qntx_core::pulse::listing::JobQuery;
use qntx_core::pulse::store::{self, ClaimParams, Completion};
use qntx_core::pulse::{
    HandlerLimits, JobStatus, Lease, NewJob, PauseReason, Period, Progress, Report,
};
use qntx_core::storage::{Connection, Jobs as _};
use qntx_postgres::{Options, PostgresBackend, PostgresConnection};
use serde_json::json;

const HANDLER: &str = "h/a";

fn backend() -> PostgresBackend {
    PostgresBackend::open(&qntx_pgtest::shared().database(), Options::default()).unwrap()
}

fn connect(backend: &PostgresBackend) -> Box<dyn Connection> {
    Box::new(backend.connection().unwrap())
}

fn priced(estimate: f64) -> NewJob {
    NewJob {
        cost_estimate: estimate,
        ..NewJob::new(HANDLER, json!({}))
    }
}

fn claim(conn: &mut dyn Connection, owner: &str, limits: &HandlerLimits) -> store::Claimed {
    store::claim(
        conn,
        &ClaimParams {
            handlers: &[HANDLER.to_owned()],
            owner,
            lease_until: 60_000,
            limit: 10,
            limits,
            room: None,
            now: 1_000,
        },
    )
    .unwrap()
}

/// Two connections claim at once, batch after batch, until each gets nothing more; every job
/// claimed, by either.
fn race(backend: &PostgresBackend, limits: &HandlerLimits) -> Vec<String> {
    let start = Arc::new(Barrier::new(2));
    let claimers: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|owner| {
            let (backend, start, limits) = (backend.clone(), start.clone(), limits.clone());
            thread::spawn(move || {
                let mut conn = connect(&backend);
                let mut mine = Vec::new();
                start.wait();
                loop {
                    let claimed = claim(conn.as_mut(), owner, &limits);
                    if claimed.jobs.is_empty() && claimed.paused.is_empty() {
                        return mine;
                    }
                    mine.extend(claimed.jobs.into_iter().map(|job| job.id));
                }
            })
        })
        .collect();
    claimers
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect()
}

fn count(conn: &PostgresConnection, status: JobStatus) -> usize {
    conn.job_list(&JobQuery {
        statuses: vec![status],
        ..JobQuery::new(10_000)
    })
    .unwrap()
    .len()
}

#[test]
fn two_connections_claiming_at_once_never_overspend_a_budget() {
    let backend = backend();
    let conn = backend.connection().unwrap();
    store::set_budget(&conn, Period::Daily, Some(10.0), 0).unwrap();
    for round in 0..20 {
        let jobs: Vec<NewJob> = (0..40).map(|_| priced(1.0)).collect();
        store::enqueue_batch(connect(&backend).as_mut(), &jobs, 0).unwrap();
        let running = race(&backend, &HandlerLimits::new());
        assert_eq!(
            running.len(),
            10,
            "round {round}: the budget holds 10 estimates"
        );
        assert_eq!(count(&conn, JobStatus::Running), 10);
        assert_eq!(count(&conn, JobStatus::Paused), 30);
        assert_eq!(store::spend(&conn, 1_000).unwrap().reserved, 10.0);
        // Cancelled, the round's jobs cost nothing: the next round starts with the whole budget.
        for job in conn.job_list(&JobQuery::new(100)).unwrap() {
            let _ = store::cancel(&conn, &job.id, 1_000);
        }
    }
}

#[test]
fn a_concurrency_limit_holds_when_two_connections_claim_at_once() {
    let backend = backend();
    let jobs: Vec<NewJob> = (0..30).map(|_| NewJob::new(HANDLER, json!({}))).collect();
    store::enqueue_batch(connect(&backend).as_mut(), &jobs, 0).unwrap();
    let mut limits = HandlerLimits::new();
    limits.set_concurrency(HANDLER, 3);
    let running = race(&backend, &limits);
    assert_eq!(running.len(), 3);
    let conn = backend.connection().unwrap();
    assert_eq!(count(&conn, JobStatus::Running), 3);
    assert_eq!(
        count(&conn, JobStatus::Queued),
        27,
        "given back, not paused"
    );
    let job = conn
        .job_list(&JobQuery {
            statuses: vec![JobStatus::Queued],
            ..JobQuery::new(1)
        })
        .unwrap()
        .remove(0);
    assert_eq!((job.attempt, job.claims, job.nodes.len()), (0, 0, 0));
}

#[test]
fn unique_enqueues_from_two_connections_at_once_make_one_job() {
    let backend = backend();
    for round in 0..20 {
        let start = Arc::new(Barrier::new(2));
        let enqueuers: Vec<_> = (0..2)
            .map(|_| {
                let (backend, start) = (backend.clone(), start.clone());
                thread::spawn(move || {
                    let conn = backend.connection().unwrap();
                    let job = NewJob {
                        source: format!("round {round}"),
                        unique: true,
                        ..NewJob::new(HANDLER, json!({}))
                    };
                    start.wait();
                    store::enqueue(&conn, &job, 0).unwrap()
                })
            })
            .collect();
        let enqueued: Vec<_> = enqueuers.into_iter().map(|e| e.join().unwrap()).collect();
        assert_eq!(enqueued[0].id, enqueued[1].id, "round {round}");
        assert_eq!(
            enqueued.iter().filter(|e| e.existing).count(),
            1,
            "round {round}"
        );
    }
    assert_eq!(count(&backend.connection().unwrap(), JobStatus::Queued), 20);
}

#[test]
fn two_resumers_and_two_rescuers_at_once_move_each_job_once() {
    let backend = backend();
    let conn = backend.connection().unwrap();
    for round in 0..10 {
        let jobs: Vec<NewJob> = (0..20).map(|_| NewJob::new(HANDLER, json!({}))).collect();
        let ids: Vec<String> = store::enqueue_batch(connect(&backend).as_mut(), &jobs, 0)
            .unwrap()
            .into_iter()
            .map(|e| e.id)
            .collect();
        for id in &ids[..10] {
            store::pause(&conn, id, PauseReason::BudgetExceeded, 1).unwrap();
        }
        let claimed = store::claim(
            connect(&backend).as_mut(),
            &ClaimParams {
                handlers: &[HANDLER.to_owned()],
                owner: "dead",
                lease_until: 10,
                limit: 10,
                limits: &HandlerLimits::new(),
                room: None,
                now: 1,
            },
        )
        .unwrap();
        assert_eq!(claimed.jobs.len(), 10);

        let start = Arc::new(Barrier::new(2));
        let movers: Vec<_> = (0..2)
            .map(|_| {
                let (backend, start) = (backend.clone(), start.clone());
                thread::spawn(move || {
                    let mut conn = connect(&backend);
                    start.wait();
                    let resumed = store::resume_within_budget(conn.as_mut(), 100, 50).unwrap();
                    let rescued = store::rescue_expired(conn.as_mut(), 50).unwrap();
                    (resumed.resumed, rescued.requeued)
                })
            })
            .collect();
        let (mut resumed, mut rescued) = (Vec::new(), Vec::new());
        for mover in movers {
            let (r, q) = mover.join().unwrap();
            resumed.extend(r);
            rescued.extend(q);
        }
        let distinct = |ids: &[String]| ids.iter().collect::<HashSet<_>>().len();
        assert_eq!(
            (resumed.len(), distinct(&resumed)),
            (10, 10),
            "round {round}"
        );
        assert_eq!(
            (rescued.len(), distinct(&rescued)),
            (10, 10),
            "round {round}"
        );
        assert_eq!(count(&conn, JobStatus::Queued), 20);
        for id in &ids {
            store::cancel(&conn, id, 60).unwrap();
        }
    }
}

#[test]
fn a_completion_stores_its_children_with_it_and_a_late_one_stores_nothing() {
    let backend = backend();
    let mut conn = connect(&backend);
    let parent = store::enqueue(&**conn, &NewJob::new(HANDLER, json!({})), 0)
        .unwrap()
        .id;
    let running = claim(conn.as_mut(), "n", &HandlerLimits::new())
        .jobs
        .remove(0);
    let lease = Lease {
        id: &running.id,
        attempt: running.attempt,
        claim: running.claims,
        owner: "n",
    };
    let report = Report {
        progress: Progress::default(),
        cost_actual: 0.0,
        plugin_version: "1",
    };
    let child = NewJob {
        parent_job_id: Some(parent.clone()),
        root_job_id: Some(parent.clone()),
        depth: 1,
        source: "child".into(),
        unique: true,
        ..NewJob::new("h/b", json!({}))
    };
    let children = [child.clone(), child];
    let completion = Completion {
        result: &json!({"ok": 1}),
        attestations: &[],
        children: &children,
        logs: &[],
    };
    store::complete(conn.as_mut(), lease, &report, completion.clone(), 5).unwrap();
    assert_eq!(
        store::get(&**conn, &parent).unwrap().status,
        JobStatus::Completed
    );
    assert_eq!(
        store::descendants(&**conn, &parent).unwrap(),
        1,
        "the unique child once"
    );

    // Cancelled meanwhile: the outcome is refused and none of its writes stay.
    let other = store::enqueue(&**conn, &NewJob::new(HANDLER, json!({})), 0)
        .unwrap()
        .id;
    let running = claim(conn.as_mut(), "n", &HandlerLimits::new())
        .jobs
        .remove(0);
    assert_eq!(running.id, other);
    store::cancel(&**conn, &other, 6).unwrap();
    let lease = Lease {
        id: &running.id,
        attempt: 1,
        claim: 1,
        owner: "n",
    };
    let fresh = [NewJob {
        parent_job_id: Some(other.clone()),
        root_job_id: Some(other.clone()),
        depth: 1,
        ..NewJob::new("h/b", json!({}))
    }];
    let late = Completion {
        children: &fresh,
        ..completion
    };
    let error = store::complete(conn.as_mut(), lease, &report, late, 7).unwrap_err();
    assert!(
        matches!(error, qntx_core::pulse::Error::LeaseLost { .. }),
        "{error:?}"
    );
    assert_eq!(store::descendants(&**conn, &other).unwrap(), 0);
    assert_eq!(
        store::get(&**conn, &other).unwrap().status,
        JobStatus::Cancelled
    );
}

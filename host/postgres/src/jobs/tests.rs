//! The job statements on a real PostgreSQL server: each guard, the claim's order and limit,
//! and two connections claiming from one queue at once.

use std::collections::HashSet;
use std::sync::{Arc, Barrier};

use serde_json::{Value, json};

use crate::pulse::listing::JobQuery;
use crate::pulse::{JobStatus, Lease, NewJob, PauseReason, Progress, Report, store};
use crate::storage::{self, AttemptEnd, AttemptFailure, ClaimWrite, JobLogs as _, Jobs as _};
use crate::{Options, PostgresBackend, PostgresConnection};

fn backend() -> PostgresBackend {
    PostgresBackend::open(&qntx_pgtest::shared().database(), Options::default()).unwrap()
}

fn enqueue(conn: &PostgresConnection, id: &str, priority: i32, run_at: i64) {
    let job = NewJob {
        id: Some(id.into()),
        priority,
        run_at: Some(run_at),
        ..NewJob::new("h/a", json!({ "id": id }))
    };
    store::enqueue(conn, &job, 0).unwrap();
}

fn claim(conn: &PostgresConnection, owner: &str, limit: u32, now: i64) -> Vec<String> {
    let handler = "h/a".to_owned();
    conn.job_claim(&ClaimWrite {
        handlers: &[&handler],
        owner,
        lease_until: now + 1_000,
        limit,
        now,
    })
    .unwrap()
    .into_iter()
    .map(|job| job.id)
    .collect()
}

const REPORT: Report<'static> = Report {
    progress: Progress {
        current: 1,
        total: 2,
    },
    cost_actual: 0.5,
    plugin_version: "1.0",
};

fn lease<'a>(id: &'a str, attempt: u32, claim: u32, owner: &'a str) -> Lease<'a> {
    Lease {
        id,
        attempt,
        claim,
        owner,
    }
}

fn end(lease: Lease<'_>) -> AttemptEnd<'_> {
    AttemptEnd {
        lease,
        report: &REPORT,
        now: 10,
    }
}

fn status(conn: &PostgresConnection, id: &str) -> JobStatus {
    conn.job_get(id).unwrap().unwrap().status
}

#[test]
fn a_claim_takes_the_most_urgent_first_then_the_earliest_then_in_enqueue_order() {
    let backend = backend();
    let conn = backend.connection().unwrap();
    // Ids sort against enqueue order, so only the enqueue order (seq) can break the tie.
    for (id, priority, run_at) in [
        ("Z_LOW", 0, 5),
        ("Y_LOW", 0, 5),
        ("X_EARLY", 0, 1),
        ("W_HIGH", 5, 9),
        ("V_LATER", 9, 50),
    ] {
        enqueue(&conn, id, priority, run_at);
    }
    assert_eq!(
        claim(&conn, "n", 10, 10),
        ["W_HIGH", "X_EARLY", "Z_LOW", "Y_LOW"],
        "V_LATER is not due yet"
    );
    let job = conn.job_get("W_HIGH").unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Running);
    assert_eq!((job.attempt, job.claims, job.started_at), (1, 1, Some(10)));
    assert_eq!(job.nodes.len(), 1);
    assert_eq!((job.nodes[0].attempt, job.nodes[0].node.as_str()), (1, "n"));
    assert_eq!(job.payload, json!({ "id": "W_HIGH" }));
}

#[test]
fn a_claim_with_a_limit_takes_exactly_that_many_of_many() {
    let backend = backend();
    let conn = backend.connection().unwrap();
    for i in 0..50 {
        enqueue(&conn, &format!("J{i:02}"), 0, 0);
    }
    let first = claim(&conn, "n", 7, 1);
    assert_eq!(
        first,
        (0..7).map(|i| format!("J{i:02}")).collect::<Vec<_>>()
    );
    assert_eq!(claim(&conn, "n", 0, 1).len(), 0);
    assert_eq!(claim(&conn, "n", 40, 1).len(), 40);
    assert_eq!(claim(&conn, "n", 40, 1).len(), 3);
    let activity = conn.job_count_active(&["h/a".to_owned()], 1).unwrap();
    assert_eq!((activity.runnable, activity.running), (0, 50));
}

#[test]
fn two_connections_claiming_from_one_queue_never_get_the_same_job() {
    let backend = backend();
    let conn = backend.connection().unwrap();
    let jobs: Vec<NewJob> = (0..600)
        .map(|i| NewJob {
            priority: i % 3,
            ..NewJob::new("h/a", json!(i))
        })
        .collect();
    let mut batch: Box<dyn storage::Connection> = Box::new(backend.connection().unwrap());
    store::enqueue_batch(batch.as_mut(), &jobs, 0).unwrap();
    let start = Arc::new(Barrier::new(2));
    let claimers: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|owner| {
            let backend = backend.clone();
            let start = start.clone();
            std::thread::spawn(move || {
                let conn = backend.connection().unwrap();
                start.wait();
                let mut mine = Vec::new();
                loop {
                    let batch = claim(&conn, owner, 3, 1);
                    if batch.is_empty() {
                        return mine;
                    }
                    mine.extend(batch);
                }
            })
        })
        .collect();
    let claimed: Vec<Vec<String>> = claimers.into_iter().map(|c| c.join().unwrap()).collect();
    let all: HashSet<&String> = claimed.iter().flatten().collect();
    assert_eq!(claimed.iter().map(Vec::len).sum::<usize>(), 600);
    assert_eq!(all.len(), 600, "no job claimed twice");
    assert!(
        claimed.iter().all(|mine| !mine.is_empty()),
        "both connections claimed"
    );
    for owner in ["a", "b"] {
        let running = conn
            .job_list(&JobQuery {
                statuses: vec![JobStatus::Running],
                ..JobQuery::new(1_000)
            })
            .unwrap();
        let owned = running
            .iter()
            .filter(|job| job.nodes.iter().any(|n| n.node == owner))
            .count();
        let index = usize::from(owner == "b");
        assert_eq!(owned, claimed[index].len());
    }
}

#[test]
fn every_transition_of_a_running_job_is_guarded_on_its_lease_and_claim() {
    let backend = backend();
    let conn = backend.connection().unwrap();
    enqueue(&conn, "J", 0, 0);
    assert_eq!(claim(&conn, "n", 1, 1), ["J"]);
    let failure = AttemptFailure {
        message: "boom",
        details: &["boom".to_owned()],
    };
    for stale in [
        lease("J", 1, 1, "other"),
        lease("J", 2, 1, "n"),
        lease("J", 1, 2, "n"),
        lease("NONE", 1, 1, "n"),
    ] {
        assert!(!conn.job_complete(&end(stale), &Value::Null).unwrap());
        assert!(!conn.job_fail(&end(stale), &failure).unwrap());
        assert!(!conn.job_retry(&end(stale), &failure, 5).unwrap());
        assert!(!conn.job_release(stale, 5).unwrap());
        assert!(
            !conn
                .job_progress_update(stale, Progress::default(), 1.0, 5)
                .unwrap()
        );
    }
    assert_eq!(status(&conn, "J"), JobStatus::Running);
    let held = lease("J", 1, 1, "n");
    assert!(
        conn.job_progress_update(
            held,
            Progress {
                current: 3,
                total: 4
            },
            0.25,
            5
        )
        .unwrap()
    );
    assert!(conn.job_retry(&end(held), &failure, 20).unwrap());
    let retried = conn.job_get("J").unwrap().unwrap();
    assert_eq!(retried.status, JobStatus::Queued);
    assert_eq!(
        (retried.run_at, retried.error.as_deref()),
        (20, Some("boom"))
    );
    assert_eq!(retried.error_details, Some(json!(["boom"])));
    assert!(
        claim(&conn, "n", 1, 19).is_empty(),
        "not due before its retry"
    );
    assert_eq!(claim(&conn, "n", 1, 20), ["J"]);
    assert!(
        !conn.job_complete(&end(held), &Value::Null).unwrap(),
        "the first claim's lease no longer holds"
    );
    let second = lease("J", 2, 2, "n");
    assert!(
        conn.job_complete(&end(second), &json!({"ok": true}))
            .unwrap()
    );
    let done = conn.job_get("J").unwrap().unwrap();
    assert_eq!(done.status, JobStatus::Completed);
    assert_eq!(done.result, Some(json!({"ok": true})));
    assert_eq!((done.progress, done.cost_actual), (REPORT.progress, 0.5));
    assert_eq!((done.error, done.completed_at), (None, Some(10)));
    assert!(
        !conn.job_complete(&end(second), &Value::Null).unwrap(),
        "a completed job is not running"
    );
}

#[test]
fn a_rescued_jobs_old_lease_cannot_complete_it_and_the_last_attempt_fails() {
    let backend = backend();
    let conn = backend.connection().unwrap();
    let job = NewJob {
        id: Some("J".into()),
        max_attempts: 2,
        ..NewJob::new("h/a", json!({}))
    };
    store::enqueue(&conn, &job, 0).unwrap();
    assert_eq!(claim(&conn, "dead", 1, 1), ["J"]);
    assert!(
        conn.job_rescue_requeue(500).unwrap().is_empty(),
        "lease holds"
    );
    assert_eq!(conn.job_rescue_requeue(5_000).unwrap(), ["J"]);
    assert!(conn.job_rescue_fail(5_000).unwrap().is_empty());
    assert!(
        !conn
            .job_complete(&end(lease("J", 1, 1, "dead")), &Value::Null)
            .unwrap(),
        "the stale lease's completion is refused"
    );
    assert_eq!(claim(&conn, "alive", 1, 5_000), ["J"]);
    assert!(
        conn.job_rescue_requeue(9_000).unwrap().is_empty(),
        "no attempt left"
    );
    assert_eq!(conn.job_rescue_fail(9_000).unwrap(), ["J"]);
    let failed = conn.job_get("J").unwrap().unwrap();
    assert_eq!((failed.status, failed.attempt), (JobStatus::Failed, 2));
    assert!(conn.job_requeue_failed("J", 1, 9_001).unwrap());
    let requeued = conn.job_get("J").unwrap().unwrap();
    assert_eq!(
        (
            requeued.status,
            requeued.max_attempts,
            requeued.completed_at
        ),
        (JobStatus::Queued, 3, None)
    );
    assert!(
        !conn.job_requeue_failed("J", 1, 9_002).unwrap(),
        "not failed"
    );
}

#[test]
fn cancelling_a_job_cancels_its_unfinished_descendants_and_nothing_else() {
    let backend = backend();
    let conn = backend.connection().unwrap();
    let child = |id: &str, parent: &str| NewJob {
        id: Some(id.into()),
        parent_job_id: Some(parent.into()),
        root_job_id: Some("ROOT".into()),
        depth: 1,
        ..NewJob::new("h/a", json!({}))
    };
    enqueue(&conn, "ROOT", 0, 0);
    enqueue(&conn, "OTHER", 0, 0);
    for (id, parent) in [("A", "ROOT"), ("B", "ROOT"), ("A1", "A"), ("A2", "A")] {
        store::enqueue(&conn, &child(id, parent), 0).unwrap();
    }
    assert_eq!(conn.job_count_descendants("ROOT").unwrap(), 4);
    // A2 finished before the cancel: it stays completed.
    let a2 = conn.job_get("A2").unwrap().unwrap();
    conn.job_pause("B", PauseReason::User, 1).unwrap();
    let handler = "h/a".to_owned();
    let claimed = conn
        .job_claim(&ClaimWrite {
            handlers: &[&handler],
            owner: "n",
            lease_until: 100,
            limit: 10,
            now: 1,
        })
        .unwrap();
    assert_eq!(claimed.len(), 5);
    assert!(
        conn.job_complete(&end(lease("A2", 1, a2.claims + 1, "n")), &Value::Null)
            .unwrap()
    );
    let mut cancelled = store::cancel(&conn, "ROOT", 2).unwrap();
    assert_eq!(cancelled.remove(0), "ROOT", "the job's own id first");
    cancelled.sort();
    assert_eq!(cancelled, ["A", "A1", "B"]);
    assert_eq!(status(&conn, "A2"), JobStatus::Completed);
    assert_eq!(status(&conn, "OTHER"), JobStatus::Running);
    let a = conn.job_get("A").unwrap().unwrap();
    assert_eq!(
        (a.error.as_deref(), a.completed_at),
        (Some("cancelled"), Some(2))
    );
    assert!(
        conn.job_cancel("ROOT", 3).unwrap().is_empty(),
        "already cancelled"
    );
    let error = store::cancel(&conn, "A2", 3).unwrap_err();
    assert!(error.to_string().contains("completed"), "{error}");
}

#[test]
fn pause_resume_unclaim_renew_and_interruptions_keep_their_guards() {
    let backend = backend();
    let conn = backend.connection().unwrap();
    for id in ["P", "Q", "R"] {
        enqueue(&conn, id, 0, 0);
    }
    assert!(!conn.job_resume("P", 1).unwrap(), "not paused");
    assert!(conn.job_pause("P", PauseReason::User, 1).unwrap());
    assert!(
        !conn.job_pause("P", PauseReason::User, 1).unwrap(),
        "paused already"
    );
    assert_eq!(claim(&conn, "n", 10, 2), ["Q", "R"]);
    assert!(conn.job_resume("P", 3).unwrap());
    let p = conn.job_get("P").unwrap().unwrap();
    assert_eq!((p.status, p.pause_reason), (JobStatus::Queued, None));

    let r = conn.job_get("R").unwrap().unwrap();
    assert!(!conn.job_unclaim(&r, "other").unwrap());
    assert!(conn.job_unclaim(&r, "n").unwrap());
    let r = conn.job_get("R").unwrap().unwrap();
    assert_eq!((r.status, r.attempt, r.claims), (JobStatus::Queued, 0, 0));
    assert_eq!((r.started_at, r.nodes.len()), (None, 0));

    // Q runs under claim 1; paused while running, it loses its lease and its attempt.
    let held = [("Q".to_owned(), 1), ("R".to_owned(), 1)];
    assert_eq!(conn.job_leases_renew(&held, "n", 9_999).unwrap(), 1);
    assert_eq!(conn.job_leases_renew(&held, "other", 9_999).unwrap(), 0);
    let until: i64 = conn
        .query_one("SELECT lease_expires_at FROM jobs WHERE id = 'Q'", &[])
        .unwrap()
        .get(0);
    assert_eq!(until, 9_999);
    assert_eq!(conn.job_ids_interrupted(&held, "n").unwrap(), ["R"]);
    assert!(conn.job_pause("Q", PauseReason::RateLimited, 4).unwrap());
    let q = conn.job_get("Q").unwrap().unwrap();
    assert_eq!((q.status, q.attempt), (JobStatus::Paused, 0));
    assert_eq!(q.pause_reason, Some(PauseReason::RateLimited));
    let mut interrupted = conn.job_ids_interrupted(&held, "n").unwrap();
    interrupted.sort();
    assert_eq!(interrupted, ["Q", "R"]);
    assert!(conn.job_leases_renew(&[], "n", 1).unwrap() == 0);
}

#[test]
fn reads_find_by_prefix_list_newest_first_and_count_what_no_node_serves() {
    let backend = backend();
    let conn = backend.connection().unwrap();
    for id in ["01AB", "01AC", "02AA"] {
        enqueue(&conn, id, 0, 0);
    }
    let other = NewJob {
        id: Some("03ZZ".into()),
        source: "src".into(),
        unique: true,
        ..NewJob::new("h/b", json!({}))
    };
    assert!(!store::enqueue(&conn, &other, 0).unwrap().existing);
    let again = NewJob {
        id: None,
        ..other.clone()
    };
    let found = store::enqueue(&conn, &again, 0).unwrap();
    assert_eq!((found.id.as_str(), found.existing), ("03ZZ", true));
    assert_eq!(
        conn.job_find_active("h/b", "src").unwrap().as_deref(),
        Some("03ZZ")
    );
    assert_eq!(conn.job_find_active("h/b", "else").unwrap(), None);

    assert_eq!(conn.job_ids_with_prefix("01A").unwrap(), ["01AB", "01AC"]);
    assert_eq!(conn.job_ids_with_prefix("02").unwrap(), ["02AA"]);
    assert!(conn.job_ids_with_prefix("04").unwrap().is_empty());
    assert_eq!(store::resolve_id(&conn, "02a").unwrap(), "02AA");

    let ids = |jobs: Vec<crate::pulse::Job>| jobs.into_iter().map(|j| j.id).collect::<Vec<_>>();
    assert_eq!(
        ids(conn.job_list(&JobQuery::new(10)).unwrap()),
        ["03ZZ", "02AA", "01AC", "01AB"]
    );
    assert_eq!(
        ids(conn
            .job_list(&JobQuery {
                handler: Some("h/b".into()),
                ..JobQuery::new(10)
            })
            .unwrap()),
        ["03ZZ"]
    );
    assert_eq!(
        ids(conn
            .job_list(&JobQuery {
                statuses: vec![JobStatus::Queued],
                ..JobQuery::new(2)
            })
            .unwrap()),
        ["03ZZ", "02AA"]
    );
    assert!(
        conn.job_list(&JobQuery {
            statuses: vec![JobStatus::Failed],
            ..JobQuery::new(10)
        })
        .unwrap()
        .is_empty()
    );

    assert_eq!(
        conn.job_count_unserved(&["h/a".to_owned()]).unwrap(),
        [("h/b".to_owned(), 1)]
    );
    assert_eq!(
        conn.job_count_unserved(&[]).unwrap(),
        [("h/a".to_owned(), 3), ("h/b".to_owned(), 1)]
    );
    enqueue(&conn, "04LATE", 0, 500);
    let activity = conn.job_count_active(&["h/a".to_owned()], 10).unwrap();
    assert_eq!(
        (activity.runnable, activity.running, activity.next_run_at),
        (3, 0, Some(500))
    );
}

#[test]
fn pruning_keeps_jobs_with_a_cost_in_the_spend_window_and_takes_their_logs() {
    let backend = backend();
    let conn = backend.connection().unwrap();
    let month = crate::pulse::Period::Monthly.window_ms();
    let now = 10 * month;
    for id in ["FREE", "PAID", "OLD_PAID", "LIVE"] {
        enqueue(&conn, id, 0, 0);
    }
    let handler = "h/a".to_owned();
    conn.job_claim(&ClaimWrite {
        handlers: &[&handler],
        owner: "n",
        lease_until: i64::MAX,
        limit: 3,
        now: 0,
    })
    .unwrap();
    for (id, cost, finished) in [
        ("FREE", 0.0, now - 100),
        ("PAID", 2.0, now - 100),
        ("OLD_PAID", 1.0, now - month - 1),
    ] {
        let report = Report {
            cost_actual: cost,
            ..REPORT
        };
        let end = AttemptEnd {
            lease: lease(id, 1, 1, "n"),
            report: &report,
            now: finished,
        };
        assert!(conn.job_complete(&end, &Value::Null).unwrap());
        store::append_logs(
            &conn,
            id,
            &[crate::pulse::LogLine {
                attempt: 1,
                time: 0,
                level: crate::pulse::LogLevel::Info,
                stage: "guest".into(),
                message: "hi".into(),
            }],
        )
        .unwrap();
    }
    let mut boxed: Box<dyn storage::Connection> = Box::new(backend.connection().unwrap());
    let mut pruned = store::prune(boxed.as_mut(), now - 50, 10, now).unwrap();
    pruned.sort();
    assert_eq!(pruned, ["FREE", "OLD_PAID"]);
    assert!(conn.job_get("FREE").unwrap().is_none());
    assert!(conn.job_logs_after("FREE", 0).unwrap().is_empty());
    assert_eq!(conn.job_logs_after("PAID", 0).unwrap().len(), 1);
    assert_eq!(status(&conn, "PAID"), JobStatus::Completed);
    assert_eq!(status(&conn, "LIVE"), JobStatus::Queued);
    assert!(
        store::prune(boxed.as_mut(), now - 50, 10, now)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn bad_values_are_refused_and_leave_the_stored_job_as_it_was() {
    let backend = backend();
    let conn = backend.connection().unwrap();
    let job = NewJob::new("h/a", json!({}));
    let insert = |payload: &str, priority: i32| {
        let job = NewJob {
            priority,
            ..job.clone()
        };
        conn.job_insert(&storage::JobInsert {
            id: "BAD",
            job: &job,
            payload,
            now: 0,
        })
    };
    let error = insert("{not json", 0).unwrap_err();
    assert!(error.is_refusal(), "{error:?}");
    let error = insert("{}", 5_000).unwrap_err();
    assert!(error.is_refusal(), "{error:?}");
    assert!(conn.job_get("BAD").unwrap().is_none());
    insert("{}", 0).unwrap();
    let error = insert("{}", 0).unwrap_err();
    assert!(
        error.is_refusal(),
        "a second job with the same id: {error:?}"
    );

    // A guest's message with a NUL (which PostgreSQL's text cannot hold) still fails its job.
    assert_eq!(claim(&conn, "n", 1, 1), ["BAD"]);
    let failure = AttemptFailure {
        message: "bad\0byte",
        details: &["bad\0byte".to_owned()],
    };
    assert!(
        conn.job_fail(&end(lease("BAD", 1, 1, "n")), &failure)
            .unwrap()
    );
    let failed = conn.job_get("BAD").unwrap().unwrap();
    assert_eq!(failed.status, JobStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("bad\u{fffd}byte"));
    assert_eq!(failed.error_details, Some(json!(["bad\0byte"])));

    // A row this build cannot read is reported as corrupt, not as a failing server.
    conn.execute(
        "UPDATE jobs SET attempt_nodes = 'nope' WHERE id = 'BAD'",
        &[],
    )
    .unwrap();
    let error = conn.job_get("BAD").unwrap_err();
    assert!(matches!(error, storage::Error::Corrupt(_)), "{error:?}");
}

#[test]
fn a_new_job_and_a_cancel_wake_a_waiter_on_another_connection() {
    use storage::Connection as _;
    let backend = backend();
    let mut waiter = backend.connection().unwrap();
    let writer = backend.connection().unwrap();
    assert!(
        !waiter
            .wait_for_change(std::time::Duration::from_millis(10))
            .unwrap()
    );
    enqueue(&writer, "J", 0, 0);
    assert!(
        waiter
            .wait_for_change(std::time::Duration::from_secs(10))
            .unwrap()
    );
    store::cancel(&writer, "J", 1).unwrap();
    assert!(
        waiter
            .wait_for_change(std::time::Duration::from_secs(10))
            .unwrap()
    );
    assert!(
        !waiter
            .wait_for_change(std::time::Duration::from_millis(50))
            .unwrap()
    );
}

#[test]
fn the_claim_walks_the_partial_index_even_as_a_generic_plan_over_a_long_history() {
    let backend = backend();
    let conn = backend.connection().unwrap();
    conn.batch(
        "INSERT INTO jobs (id, handler, payload, status, run_at, created_at, updated_at,
                           completed_at, result)
         SELECT 'F' || g, 'h/a', '{}', 'completed', 0, 0, 0, 0, 'null'
         FROM generate_series(1, 60000) AS g;
         INSERT INTO jobs (id, handler, payload, status, run_at, created_at, updated_at)
         SELECT 'Q' || g, 'h/' || (g % 7), '{}', 'queued', g, 0, 0
         FROM generate_series(1, 60000) AS g;
         ANALYZE jobs;
         SET plan_cache_mode = force_generic_plan",
    )
    .unwrap();
    // A prepared statement is planned once for any parameters after a few executions; that
    // plan must still walk jobs_runnable in order and stop at the limit.
    let sql = include_str!("../sql/job_claim.sql");
    conn.batch(&format!(
        "PREPARE claim (text, bigint, bigint, text[], bigint) AS {sql}"
    ))
    .unwrap();
    let plan: Vec<String> = conn
        .query("EXPLAIN EXECUTE claim ('n', 10, 100, ARRAY['h/1'], 8)", &[])
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let plan = plan.join("\n");
    assert!(!plan.contains("Seq Scan"), "{plan}");
    let (_, picked) = plan.split_once("CTE picked").expect("the fence stays");
    let (picked, claimed) = picked.split_once("CTE claimed").unwrap();
    assert!(picked.contains("Index Scan using jobs_runnable"), "{plan}");
    assert!(
        !picked.contains("Sort"),
        "the index gives the order: {plan}"
    );
    assert!(claimed.contains("Index Scan using jobs_pkey"), "{plan}");
}

#[test]
fn a_bulk_enqueue_keeps_batch_order_around_unique_jobs_and_leaves_the_claim_a_walk_of_its_index() {
    let backend = backend();
    let mut conn = backend.connection().unwrap();
    let mut batch: Vec<NewJob> = (0..2_500)
        .map(|n| NewJob {
            id: Some(format!("J{n:05}")),
            ..NewJob::new("h/a", json!({ "n": n }))
        })
        .collect();
    batch[1_000].unique = true;
    batch[1_000].source = "once".into();
    let enqueued = store::enqueue_batch(&mut conn, &batch, 0).unwrap();
    assert_eq!(enqueued.len(), 2_500);
    assert!(enqueued.iter().all(|e| !e.existing));
    let claimed = claim(&conn, "n", 2_500, 1);
    let expected: Vec<String> = (0..2_500).map(|n| format!("J{n:05}")).collect();
    assert_eq!(
        claimed, expected,
        "claimed in batch order, the unique job in its place"
    );

    let more: Vec<NewJob> = (0..2_000).map(|_| NewJob::new("h/a", json!({}))).collect();
    store::enqueue_batch(&mut conn, &more, 0).unwrap();
    let plan: Vec<String> = conn
        .query(
            "EXPLAIN SELECT id FROM jobs WHERE status = 'queued' AND run_at <= 1 \
             AND handler = ANY(ARRAY['h/a']) ORDER BY priority DESC, run_at, seq LIMIT 32",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(
        plan.iter()
            .any(|line| line.contains("Index Scan using jobs_runnable"))
            && !plan.iter().any(|line| line.contains("Sort")),
        "after a bulk load the statistics know the rows: {plan:#?}"
    );
}

#[test]
fn a_bulk_enqueue_with_one_bad_job_stores_none() {
    let backend = backend();
    let mut conn = backend.connection().unwrap();
    let mut batch: Vec<NewJob> = (0..10).map(|_| NewJob::new("h/a", json!({}))).collect();
    batch[3].id = Some("TWICE".into());
    batch[7].id = Some("TWICE".into());
    assert!(store::enqueue_batch(&mut conn, &batch, 0).is_err());
    assert!(claim(&conn, "n", 100, 1).is_empty(), "all or nothing");
}

#[test]
fn a_page_of_one_handlers_failed_jobs_walks_an_index_over_a_long_history() {
    let backend = backend();
    let conn = backend.connection().unwrap();
    conn.batch(
        "INSERT INTO jobs (id, handler, payload, status, run_at, created_at, updated_at,
                           completed_at, result)
         SELECT 'C' || lpad(g::text, 6, '0'), 'h/' || (g % 7), '{}', 'completed', 0, g, 0, g,
                'null'
         FROM generate_series(1, 60000) AS g;
         INSERT INTO jobs (id, handler, payload, status, run_at, created_at, updated_at,
                           completed_at, error)
         SELECT 'F' || lpad(g::text, 6, '0'), 'h/' || (g % 7), '{}', 'failed', 0, g, 0, g, 'no'
         FROM generate_series(1, 700) AS g;
         ANALYZE jobs",
    )
    .unwrap();
    let page = |statuses: &[JobStatus], handler: Option<&str>| JobQuery {
        statuses: statuses.to_vec(),
        handler: handler.map(str::to_owned),
        before_id: Some("Z".into()),
        since: Some(5),
        ..JobQuery::new(51)
    };
    let cases = [
        (
            page(&[JobStatus::Failed], Some("h/3")),
            "jobs_finished_by_handler",
        ),
        (
            page(&[JobStatus::Failed, JobStatus::Cancelled], Some("h/3")),
            "jobs_finished_by_handler",
        ),
        (page(&[JobStatus::Failed], None), "jobs_finished"),
    ];
    for (query, index) in cases {
        let plan = super::list::plan(&query);
        let steps: Vec<String> = conn
            .query_planned(&format!("EXPLAIN {}", plan.sql), &plan.params())
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect();
        let steps = steps.join("\n");
        assert!(
            steps.contains(&format!("using {index} ")),
            "{query:?}:\n{steps}"
        );
        assert!(!steps.contains("Seq Scan"), "{query:?} scans:\n{steps}");
        // A Merge Append of several walks names its sort key; a Sort node would sort rows.
        let sorts = steps.lines().any(|step| {
            let node = step.trim_start().trim_start_matches("->").trim_start();
            node.starts_with("Sort  (") || node.starts_with("Incremental Sort")
        });
        assert!(!sorts, "{query:?} sorts:\n{steps}");
        let jobs = conn.job_list(&query).unwrap();
        assert_eq!(jobs.len(), 51);
        assert!(jobs.iter().all(|job| query.matches(job)), "{query:?}");
    }
}

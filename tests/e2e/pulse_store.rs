//! Pulse without wasm: every transition and guard of the job store, the races between them,
//! and the services (rescuer, budget resumer, pruner) driven by a manual clock.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use qntx::clock::{Clock, ManualClock};
use qntx::pulse::store::{self, AttemptError, ClaimParams, Lease, Report};
use qntx::pulse::{
    BudgetResumer, Error, HandlerLimits, Job, JobStatus, NewJob, PauseReason, Period, Progress,
    Pruner, PrunerConfig, Rescuer, RescuerConfig, ResumerConfig, nodes,
};
use serde_json::json;
use tempfile::TempDir;

use crate::Connection;
use crate::database::{Database, TestConnection};

const START: i64 = 1_700_000_000_000;
const LEASE_MS: i64 = 30_000;
const OWNER: &str = "node-a";

/// A database and a clock that moves only when told.
struct Setup {
    _dir: TempDir,
    database: Database,
    clock: Arc<ManualClock>,
}

fn setup() -> (Setup, Connection) {
    let dir = tempfile::tempdir().unwrap();
    let database = Database::new(dir.path());
    let conn = Connection::open(&database);
    (
        Setup {
            _dir: dir,
            database,
            clock: Arc::new(ManualClock::new(START)),
        },
        conn,
    )
}

impl Setup {
    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    fn advance(&self, ms: u64) {
        self.clock.advance(Duration::from_millis(ms));
    }

    /// A connection of its own, as another process's would be (its own backend: writers
    /// meet only in the database).
    fn conn(&self) -> Connection {
        Connection::open(&self.database)
    }

    fn enqueue(&self, conn: &Connection, job: NewJob) -> String {
        store::enqueue(conn, &job, self.now()).unwrap().id
    }

    fn claim(&self, conn: &mut Connection, limit: u32) -> Vec<Job> {
        self.claim_with(conn, limit, &HandlerLimits::new(), OWNER)
    }

    fn claim_with(
        &self,
        conn: &mut Connection,
        limit: u32,
        limits: &HandlerLimits,
        owner: &str,
    ) -> Vec<Job> {
        store::claim(
            conn,
            &ClaimParams {
                handlers: &["h/a".into(), "h/b".into()],
                owner,
                lease_until: self.now() + LEASE_MS,
                limit,
                limits,
                room: None,
                now: self.now(),
            },
        )
        .unwrap()
        .jobs
    }
}

fn job(handler: &str) -> NewJob {
    NewJob::new(handler, json!({}))
}

fn lease(job: &Job) -> Lease<'_> {
    Lease {
        id: &job.id,
        attempt: job.attempt,
        claim: job.claims,
        owner: OWNER,
    }
}

fn report(cost: f64) -> Report<'static> {
    Report {
        progress: Progress::default(),
        cost_actual: cost,
        plugin_version: "1.0.0",
    }
}

fn complete(setup: &Setup, conn: &mut Connection, job: &Job, cost: f64) -> Result<(), Error> {
    store::complete(
        conn,
        lease(job),
        &report(cost),
        store::Completion {
            result: &json!("done"),
            attestations: &[],
            children: &[],
            logs: &[],
        },
        setup.now(),
    )
    .map(drop)
}

fn status(conn: &Connection, id: &str) -> (JobStatus, u32) {
    let job = store::get(conn, id).unwrap();
    (job.status, job.attempt)
}

#[test]
fn claim_takes_priority_then_run_at_then_enqueue_order_for_registered_handlers_only() {
    let (s, mut conn) = setup();
    let late = s.enqueue(
        &conn,
        NewJob {
            run_at: Some(START - 10),
            ..job("h/a")
        },
    );
    let first_fifo = s.enqueue(&conn, job("h/b"));
    let second_fifo = s.enqueue(&conn, job("h/a"));
    let urgent = s.enqueue(
        &conn,
        NewJob {
            priority: 5,
            ..job("h/b")
        },
    );
    let future = s.enqueue(
        &conn,
        NewJob {
            run_at: Some(START + 1000),
            ..job("h/a")
        },
    );
    let unregistered = s.enqueue(&conn, job("other/x"));

    let claimed: Vec<String> = s.claim(&mut conn, 10).into_iter().map(|j| j.id).collect();
    assert_eq!(claimed, [urgent, late, first_fifo, second_fifo]);
    assert_eq!(status(&conn, &future), (JobStatus::Queued, 0));
    assert_eq!(status(&conn, &unregistered), (JobStatus::Queued, 0));
    s.advance(1000);
    let claimed = s.claim(&mut conn, 10);
    assert_eq!(
        claimed.len(),
        1,
        "claims can be batched; only the due job is left"
    );
    assert_eq!(
        (claimed[0].id.as_str(), claimed[0].attempt),
        (future.as_str(), 1)
    );
}

#[test]
fn a_completion_after_cancel_is_refused_and_the_job_stays_cancelled() {
    let (s, mut conn) = setup();
    let id = s.enqueue(&conn, job("h/a"));
    let running = s.claim(&mut conn, 1).remove(0);
    assert_eq!(store::cancel(&conn, &id, s.now()).unwrap(), [id.as_str()]);
    let late = complete(&s, &mut conn, &running, 1.0);
    assert!(matches!(late, Err(Error::LeaseLost { .. })), "{late:?}");
    let failed = store::fail(
        &conn,
        lease(&running),
        3,
        &AttemptError {
            message: "late",
            details: &[],
            retry_at: Some(s.now()),
        },
        &report(0.0),
        &[],
        s.now(),
    );
    assert!(matches!(failed, Err(Error::LeaseLost { .. })), "{failed:?}");
    assert_eq!(status(&conn, &id).0, JobStatus::Cancelled);
    assert!(matches!(
        store::cancel(&conn, &id, s.now()),
        Err(Error::WrongState {
            status: JobStatus::Cancelled,
            ..
        })
    ));
}

#[test]
fn cancel_reaches_queued_and_running_descendants_but_not_finished_ones() {
    let (s, mut conn) = setup();
    let parent = s.enqueue(&conn, job("h/a"));
    let child = |conn: &Connection, parent: &str| {
        s.enqueue(
            conn,
            NewJob {
                parent_job_id: Some(parent.to_owned()),
                ..job("h/b")
            },
        )
    };
    let running_child = child(&conn, &parent);
    let grandchild = child(&conn, &running_child);
    let done_child = child(&conn, &parent);
    let unrelated = s.enqueue(&conn, job("h/b"));
    // Claim everything, then requeue all but the running child and complete the done child.
    let claimed = s.claim(&mut conn, 10);
    for job in &claimed {
        if job.id == done_child {
            complete(&s, &mut conn, job, 0.0).unwrap();
        } else if job.id != running_child {
            store::release(&conn, lease(job), &[], s.now()).unwrap();
        }
    }
    let mut cancelled = store::cancel(&conn, &parent, s.now()).unwrap();
    assert_eq!(cancelled[0], parent, "the job's own id comes first");
    cancelled.sort();
    let mut expected = vec![parent.clone(), running_child.clone(), grandchild.clone()];
    expected.sort();
    assert_eq!(cancelled, expected);
    assert_eq!(status(&conn, &done_child).0, JobStatus::Completed);
    assert_eq!(status(&conn, &unrelated).0, JobStatus::Queued);
}

#[test]
fn a_rescued_job_is_requeued_with_its_attempt_counted_and_never_completed_twice() {
    let (s, mut conn) = setup();
    let id = s.enqueue(&conn, job("h/a"));
    let dead = s.claim(&mut conn, 1).remove(0);
    let mut rescuer = Rescuer::new(
        Box::new(s.conn()),
        s.clock.clone(),
        RescuerConfig::default(),
    );
    assert!(
        rescuer.run_once().unwrap().requeued.is_empty(),
        "lease still valid"
    );
    s.advance(LEASE_MS as u64 + 1);
    assert_eq!(rescuer.run_once().unwrap().requeued, [id.as_str()]);
    assert_eq!(status(&conn, &id), (JobStatus::Queued, 1));

    let again = s.claim(&mut conn, 1).remove(0);
    assert_eq!((again.attempt, again.claims), (2, 2));
    // The dead node wakes up and reports: refused, whether the job runs again or is done.
    assert!(matches!(
        complete(&s, &mut conn, &dead, 0.0),
        Err(Error::LeaseLost { .. })
    ));
    complete(&s, &mut conn, &again, 0.0).unwrap();
    assert!(matches!(
        complete(&s, &mut conn, &dead, 0.0),
        Err(Error::LeaseLost { .. })
    ));
    assert!(matches!(
        complete(&s, &mut conn, &again, 0.0),
        Err(Error::LeaseLost { .. })
    ));
    let job = store::get(&conn, &id).unwrap();
    assert_eq!((job.status, job.attempt), (JobStatus::Completed, 2));
}

#[test]
fn the_rescuer_fails_a_job_whose_last_attempt_lost_its_node() {
    let (s, mut conn) = setup();
    let id = s.enqueue(
        &conn,
        NewJob {
            max_attempts: 1,
            ..job("h/a")
        },
    );
    s.claim(&mut conn, 1);
    s.advance(LEASE_MS as u64 + 1);
    let mut rescuer = Rescuer::new(
        Box::new(s.conn()),
        s.clock.clone(),
        RescuerConfig::default(),
    );
    assert_eq!(rescuer.run_once().unwrap().failed, [id.as_str()]);
    let job = store::get(&conn, &id).unwrap();
    assert_eq!(job.status, JobStatus::Failed);
    assert!(job.error.unwrap().contains("lease expired"));
}

#[test]
fn failures_retry_until_attempts_run_out_and_a_permanent_one_fails_at_once() {
    let (s, mut conn) = setup();
    let id = s.enqueue(
        &conn,
        NewJob {
            max_attempts: 2,
            ..job("h/a")
        },
    );
    let fail = |conn: &Connection, job: &Job, retry_at: Option<i64>| {
        store::fail(
            conn,
            lease(job),
            job.max_attempts,
            &AttemptError {
                message: "flaky",
                details: &["cause".into()],
                retry_at,
            },
            &report(0.0),
            &[],
            s.now(),
        )
        .unwrap()
    };
    let first = s.claim(&mut conn, 1).remove(0);
    assert_eq!(fail(&conn, &first, Some(START + 500)), JobStatus::Queued);
    assert!(
        s.claim(&mut conn, 1).is_empty(),
        "backoff: not before run_at"
    );
    s.advance(500);
    let second = s.claim(&mut conn, 1).remove(0);
    assert_eq!(fail(&conn, &second, Some(START + 1000)), JobStatus::Failed);
    let failed = store::get(&conn, &id).unwrap();
    assert_eq!(
        (failed.attempt, failed.error.as_deref()),
        (2, Some("flaky"))
    );
    assert_eq!(failed.error_details, Some(json!(["cause"])));

    let permanent = s.enqueue(&conn, job("h/a"));
    let running = s.claim(&mut conn, 1).remove(0);
    assert_eq!(fail(&conn, &running, None), JobStatus::Failed);
    assert_eq!(status(&conn, &permanent), (JobStatus::Failed, 1));

    // `qntx job retry`: a failed job goes back with more attempts; a queued one cannot.
    store::retry_failed(&conn, &id, 1, s.now()).unwrap();
    let requeued = store::get(&conn, &id).unwrap();
    assert_eq!(
        (
            requeued.status,
            requeued.max_attempts,
            requeued.completed_at
        ),
        (JobStatus::Queued, 3, None)
    );
    assert!(matches!(
        store::retry_failed(&conn, &id, 1, s.now()),
        Err(Error::WrongState {
            status: JobStatus::Queued,
            ..
        })
    ));
    assert!(matches!(
        store::retry_failed(&conn, &id, 0, s.now()),
        Err(Error::Invalid(_))
    ));
}

#[test]
fn release_at_shutdown_gives_the_attempt_back_uncounted() {
    let (s, mut conn) = setup();
    let id = s.enqueue(&conn, job("h/a"));
    let running = s.claim(&mut conn, 1).remove(0);
    store::release(&conn, lease(&running), &[], s.now()).unwrap();
    assert_eq!(status(&conn, &id), (JobStatus::Queued, 0));
    assert!(matches!(
        store::release(&conn, lease(&running), &[], s.now()),
        Err(Error::LeaseLost { .. })
    ));
}

#[test]
fn a_paused_running_job_loses_its_claim_and_resumes_without_counting_the_attempt() {
    let (s, mut conn) = setup();
    let id = s.enqueue(&conn, job("h/a"));
    let old = s.claim(&mut conn, 1).remove(0);
    store::pause(&conn, &id, PauseReason::User, s.now()).unwrap();
    let paused = store::get(&conn, &id).unwrap();
    assert_eq!(
        (paused.status, paused.pause_reason, paused.attempt),
        (JobStatus::Paused, Some(PauseReason::User), 0)
    );
    assert!(
        s.claim(&mut conn, 1).is_empty(),
        "a paused job is not claimed"
    );
    assert!(matches!(
        store::pause(&conn, &id, PauseReason::User, s.now()),
        Err(Error::WrongState {
            status: JobStatus::Paused,
            ..
        })
    ));
    store::resume(&conn, &id, s.now()).unwrap();
    assert!(matches!(
        store::resume(&conn, &id, s.now()),
        Err(Error::WrongState {
            status: JobStatus::Queued,
            ..
        })
    ));
    // The same node claims it again: same attempt number, but a new claim.
    let new = s.claim(&mut conn, 1).remove(0);
    assert_eq!((new.attempt, new.claims), (1, 2));
    assert!(matches!(
        complete(&s, &mut conn, &old, 0.0),
        Err(Error::LeaseLost { .. })
    ));
    assert!(matches!(
        store::update_progress(&conn, lease(&old), Progress::default(), 0.0, s.now()),
        Err(Error::LeaseLost { .. })
    ));
    let held = [(id.clone(), old.claims), (id.clone(), new.claims)];
    assert_eq!(
        store::interrupted(&conn, &held, OWNER).unwrap(),
        [id.as_str()]
    );
    complete(&s, &mut conn, &new, 0.0).unwrap();
    assert_eq!(status(&conn, &id), (JobStatus::Completed, 1));
}

#[test]
fn a_unique_enqueue_returns_the_active_job_with_the_same_handler_and_source() {
    let (s, mut conn) = setup();
    let unique = |source: &str| NewJob {
        unique: true,
        source: source.into(),
        ..job("h/a")
    };
    let first = store::enqueue(&conn, &unique("feed"), s.now()).unwrap();
    let again = store::enqueue(&conn, &unique("feed"), s.now()).unwrap();
    assert_eq!(
        (again.id.as_str(), again.existing),
        (first.id.as_str(), true)
    );
    assert!(
        !store::enqueue(&conn, &unique("other"), s.now())
            .unwrap()
            .existing
    );
    let running = s.claim(&mut conn, 1).remove(0);
    assert!(
        store::enqueue(&conn, &unique("feed"), s.now())
            .unwrap()
            .existing
    );
    complete(&s, &mut conn, &running, 0.0).unwrap();
    let after = store::enqueue(&conn, &unique("feed"), s.now()).unwrap();
    assert!(!after.existing, "a finished job does not block a new one");
}

#[test]
fn two_connections_racing_never_claim_the_same_job() {
    let (s, mut conn) = setup();
    let jobs: Vec<NewJob> = (0..2000)
        .map(|i| job(if i % 2 == 0 { "h/a" } else { "h/b" }))
        .collect();
    store::enqueue_batch(&mut conn, &jobs, s.now()).unwrap();
    // Both racers start together and each makes its first claim before either goes on, so
    // the race cannot be won outright by the thread the scheduler happens to run first.
    let start = Arc::new(std::sync::Barrier::new(2));
    let first_claimed = Arc::new(std::sync::Barrier::new(2));
    let racers: Vec<_> = (0..2)
        .map(|n| {
            let mut conn = s.conn();
            let now = s.now();
            let (start, first_claimed) = (start.clone(), first_claimed.clone());
            std::thread::spawn(move || {
                let owner = format!("racer-{n}");
                let mut got = Vec::new();
                start.wait();
                loop {
                    let claimed = store::claim(
                        &mut conn,
                        &ClaimParams {
                            handlers: &["h/a".into(), "h/b".into()],
                            owner: &owner,
                            lease_until: now + LEASE_MS,
                            limit: 1 + (got.len() % 4) as u32,
                            limits: &HandlerLimits::new(),
                            room: None,
                            now,
                        },
                    )
                    .unwrap();
                    if got.is_empty() {
                        first_claimed.wait();
                    }
                    if claimed.jobs.is_empty() {
                        return got;
                    }
                    got.extend(claimed.jobs.into_iter().map(|j| j.id));
                }
            })
        })
        .collect();
    let results: Vec<Vec<String>> = racers.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(results.iter().all(|r| !r.is_empty()), "both racers claimed");
    let all: Vec<&String> = results.iter().flatten().collect();
    let unique: HashSet<&String> = all.iter().copied().collect();
    assert_eq!((all.len(), unique.len()), (2000, 2000));
}

#[test]
fn a_job_over_budget_is_paused_and_resumes_when_the_window_slides() {
    let (s, mut conn) = setup();
    store::set_budget(&conn, Period::Daily, Some(10.0), s.now()).unwrap();
    let costly = |estimate: f64| NewJob {
        cost_estimate: estimate,
        ..job("h/a")
    };
    s.enqueue(&conn, costly(8.0));
    let first = s.claim(&mut conn, 1).remove(0);
    complete(&s, &mut conn, &first, 8.0).unwrap();

    let second = s.enqueue(&conn, costly(5.0));
    let free = s.enqueue(&conn, job("h/a"));
    s.advance(1);
    let claimed = s.claim(&mut conn, 1);
    assert!(claimed.is_empty(), "the claim paused it: {claimed:?}");
    let paused = store::get(&conn, &second).unwrap();
    assert_eq!(
        (paused.status, paused.pause_reason, paused.attempt),
        (JobStatus::Paused, Some(PauseReason::BudgetExceeded), 0)
    );
    let logs = store::logs(&conn, &second, 0).unwrap();
    assert!(
        logs[0]
            .1
            .message
            .starts_with("paused: cost estimate 5 does not fit the budget"),
        "{logs:?}"
    );
    let unpriced = s.claim(&mut conn, 1).remove(0);
    assert_eq!(unpriced.id, free, "a job with no estimate is never held");
    complete(&s, &mut conn, &unpriced, 0.0).unwrap();

    let mut resumer = BudgetResumer::new(
        Box::new(s.conn()),
        s.clock.clone(),
        ResumerConfig::default(),
    );
    s.advance(23 * 3600 * 1000);
    let report = resumer.run_once().unwrap();
    assert_eq!((report.resumed.len(), report.waiting), (0, 1));
    s.advance(3600 * 1000);
    assert_eq!(resumer.run_once().unwrap().resumed, [second.as_str()]);
    let running = s.claim(&mut conn, 1).remove(0);
    assert_eq!((running.id.as_str(), running.attempt), (second.as_str(), 1));
}

#[test]
fn running_jobs_reserve_their_estimates_and_the_tightest_window_wins() {
    let (s, mut conn) = setup();
    store::set_budget(&conn, Period::Daily, Some(100.0), s.now()).unwrap();
    store::set_budget(&conn, Period::Weekly, Some(10.0), s.now()).unwrap();
    // Spent 3 days ago: outside the daily window, inside the weekly one.
    s.enqueue(&conn, job("h/a"));
    let old = s.claim(&mut conn, 1).remove(0);
    complete(&s, &mut conn, &old, 3.0).unwrap();
    s.advance(3 * 24 * 3600 * 1000);
    assert_eq!(store::spend(&conn, s.now()).unwrap().daily, 0.0);
    assert_eq!(store::spend(&conn, s.now()).unwrap().weekly, 3.0);

    for _ in 0..3 {
        s.enqueue(
            &conn,
            NewJob {
                cost_estimate: 3.0,
                ..job("h/a")
            },
        );
    }
    let running = s.claim(&mut conn, 3);
    assert_eq!(
        running.len(),
        2,
        "3 spent + 2 × 3 reserved fit in 10; a third does not"
    );
    assert_eq!(store::spend(&conn, s.now()).unwrap().reserved, 6.0);
    assert_eq!(
        store::list_all(
            &conn,
            &qntx::pulse::JobFilter::default().status(JobStatus::Paused)
        )
        .unwrap()
        .len(),
        1
    );
    store::set_budget(&conn, Period::Weekly, None, s.now()).unwrap();
    let mut resumer = BudgetResumer::new(
        Box::new(s.conn()),
        s.clock.clone(),
        ResumerConfig::default(),
    );
    assert_eq!(
        resumer.run_once().unwrap().resumed.len(),
        1,
        "no limit left"
    );
    assert!(matches!(
        store::set_budget(&conn, Period::Daily, Some(-1.0), s.now()),
        Err(Error::Invalid(_))
    ));
}

#[test]
fn a_rate_limited_handler_is_not_claimed_until_its_minute_has_room() {
    let (s, mut conn) = setup();
    let mut limits = HandlerLimits::new();
    limits.set_per_minute("h/a", 2);
    for _ in 0..4 {
        s.enqueue(&conn, job("h/a"));
    }
    let other = s.enqueue(&conn, job("h/b"));
    let claimed = s.claim_with(&mut conn, 10, &limits, OWNER);
    assert_eq!(claimed.len(), 3, "two of h/a, and h/b which has no limit");
    for job in &claimed {
        complete(&s, &mut conn, job, 0.0).unwrap();
    }
    assert_eq!(status(&conn, &other).0, JobStatus::Completed);
    s.advance(30_000);
    assert!(s.claim_with(&mut conn, 10, &limits, OWNER).is_empty());
    let queued = store::list_all(
        &conn,
        &qntx::pulse::JobFilter::default().status(JobStatus::Queued),
    )
    .unwrap();
    assert!(
        queued.iter().all(|j| j.attempt == 0 && j.claims <= 1),
        "held back, not claimed: {queued:?}"
    );
    s.advance(30_001);
    assert_eq!(s.claim_with(&mut conn, 10, &limits, OWNER).len(), 2);
}

#[test]
fn a_concurrency_limit_holds_jobs_while_others_of_the_handler_run_on_any_node() {
    let (s, mut conn) = setup();
    let mut limits = HandlerLimits::new();
    limits.set_concurrency("h/a", 1);
    for _ in 0..3 {
        s.enqueue(&conn, job("h/a"));
    }
    let running = s.claim_with(&mut conn, 1, &limits, "node-b");
    assert_eq!(running.len(), 1);
    assert!(s.claim_with(&mut conn, 5, &limits, OWNER).is_empty());
    store::cancel(&conn, &running[0].id, s.now()).unwrap();
    let next = s.claim_with(&mut conn, 5, &limits, OWNER);
    assert_eq!(next.len(), 1, "one at a time, even in a batch");
    assert_eq!(
        store::list_all(
            &conn,
            &qntx::pulse::JobFilter::default().status(JobStatus::Queued)
        )
        .unwrap()[0]
            .attempt,
        0,
        "a job taken past the limit by a batch goes back uncounted"
    );
}

#[test]
fn the_pruner_deletes_old_finished_jobs_and_logs_but_keeps_spend_for_budgets() {
    let (s, mut conn) = setup();
    let cheap = s.enqueue(&conn, job("h/a"));
    let costly = s.enqueue(&conn, job("h/a"));
    let waiting = s.enqueue(
        &conn,
        NewJob {
            run_at: Some(START + 365 * 24 * 3600 * 1000),
            ..job("h/b")
        },
    );
    for job in s.claim(&mut conn, 2) {
        let cost = if job.id == costly { 2.0 } else { 0.0 };
        complete(&s, &mut conn, &job, cost).unwrap();
        store::append_logs(
            &conn,
            &job.id,
            &[qntx::pulse::LogLine {
                attempt: 1,
                time: s.now(),
                level: qntx::pulse::LogLevel::Info,
                stage: "guest".into(),
                message: "hello".into(),
            }],
        )
        .unwrap();
    }
    let config = PrunerConfig {
        retention: Duration::from_secs(24 * 3600),
        ..PrunerConfig::default()
    };
    nodes::heartbeat(&conn, "node-gone", 1000, &[], s.now()).unwrap();
    let mut pruner = Pruner::new(Box::new(s.conn()), s.clock.clone(), config);
    assert!(pruner.run_once().unwrap().deleted.is_empty());
    s.advance(2 * 24 * 3600 * 1000);
    let report = pruner.run_once().unwrap();
    assert_eq!(report.deleted, [cheap.as_str()]);
    assert_eq!(report.nodes, 0, "a kept job with a cost may name it");
    assert!(matches!(store::get(&conn, &cheap), Err(Error::NotFound(_))));
    assert!(store::logs(&conn, &cheap, 0).unwrap().is_empty());
    assert_eq!(store::logs(&conn, &costly, 0).unwrap().len(), 1);
    s.advance(30 * 24 * 3600 * 1000);
    nodes::heartbeat(&conn, "node-live", 1000, &[], s.now()).unwrap();
    let report = pruner.run_once().unwrap();
    assert_eq!(report.deleted, [costly]);
    assert_eq!(report.nodes, 1);
    assert_eq!(nodes::get(&conn, "node-gone").unwrap(), None);
    assert!(
        nodes::get(&conn, "node-live").unwrap().is_some(),
        "a live node stays"
    );
    assert_eq!(
        status(&conn, &waiting).0,
        JobStatus::Queued,
        "never unfinished jobs"
    );
}

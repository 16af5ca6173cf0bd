//! Job events ([`qntx_core::pulse::events`]) on each backend: the triggers record every
//! insert and every change of status or progress, in order, readable after a cursor with
//! filters, and pruned with their job; on PostgreSQL, a transaction still open holds back the
//! events after it rather than letting a reader pass them.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use qntx_core::pulse::events::{EventCursor, EventFilter, JobEvent};
use qntx_core::pulse::store::{self, Lease, Report};
use qntx_core::pulse::{JobStatus, NewJob, Progress};
use qntx_core::storage::{AttemptEnd, ClaimWrite, Store};

use crate::backends::{on_each_backend, postgres};

const LATER: i64 = 100_000_000_000_000;

fn all(store: &dyn Store, after: EventCursor, filter: &EventFilter) -> Vec<JobEvent> {
    store.job_events_after(after, filter, 1000).unwrap()
}

/// The `count` events after `after`, once readable: on PostgreSQL an event waits for every
/// older transaction of the server to end, and the tests that run meanwhile have some open.
fn settled(store: &dyn Store, after: EventCursor, count: usize) -> Vec<JobEvent> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let events = all(store, after, &EventFilter::default());
        if events.len() >= count || Instant::now() > deadline {
            assert_eq!(events.len(), count, "{events:?}");
            return events;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn enqueue(store: &dyn Store, id: &str, handler: &str, source: &str, now: i64) {
    let job = NewJob {
        id: Some(id.to_owned()),
        source: source.to_owned(),
        run_at: Some(now),
        ..NewJob::new(handler, json!({}))
    };
    store::enqueue(store, &job, now).unwrap();
}

/// Claim, report progress twice (the second the same), renew the lease, complete.
fn run_job(store: &dyn Store, id: &str, handler: &str, now: i64) {
    let handler = handler.to_owned();
    let claimed = store
        .job_claim(&ClaimWrite {
            handlers: &[&handler],
            owner: "n",
            lease_until: LATER,
            limit: 1,
            now,
        })
        .unwrap();
    assert_eq!(claimed[0].id, id);
    let lease = Lease {
        id,
        attempt: 1,
        claim: 1,
        owner: "n",
    };
    let half = Progress {
        current: 1,
        total: 2,
    };
    assert!(
        store
            .job_progress_update(lease, half, 0.5, now + 1)
            .unwrap()
    );
    assert!(
        store
            .job_progress_update(lease, half, 0.7, now + 2)
            .unwrap()
    );
    let held = [(id.to_owned(), 1)];
    assert_eq!(store.job_leases_renew(&held, "n", LATER + 1).unwrap(), 1);
    let report = Report {
        progress: Progress {
            current: 2,
            total: 2,
        },
        cost_actual: 1.0,
        plugin_version: "1",
    };
    let end = AttemptEnd {
        lease,
        report: &report,
        now: now + 3,
    };
    assert!(store.job_complete(&end, &Value::Null).unwrap());
}

fn summary(events: &[JobEvent]) -> Vec<(&str, JobStatus, u64, i64)> {
    events
        .iter()
        .map(|e| (e.job_id.as_str(), e.status, e.progress.current, e.at))
        .collect()
}

on_each_backend!(
    fn every_change_is_recorded_once_in_order_and_read_after_a_cursor(backend) {
        let conn = backend.connect().unwrap();
        let store = conn.store();
        assert_eq!(store.job_events_head().unwrap(), EventCursor::START);
        enqueue(store, "01JA", "h/a", "cli", 1000);
        run_job(store, "01JA", "h/a", 2000);
        enqueue(store, "01JB", "h/b", "api", 3000);
        store::cancel(store, "01JB", 3500).unwrap();

        let events = settled(store, EventCursor::START, 6);
        assert_eq!(
            summary(&events),
            [
                ("01JA", JobStatus::Queued, 0, 1000),
                ("01JA", JobStatus::Running, 0, 2000),
                // The second report kept the progress and the renewal moved only the lease:
                // no events for them.
                ("01JA", JobStatus::Running, 1, 2001),
                ("01JA", JobStatus::Completed, 2, 2003),
                ("01JB", JobStatus::Queued, 0, 3000),
                ("01JB", JobStatus::Cancelled, 0, 3500),
            ]
        );
        assert!(events.windows(2).all(|w| w[0].cursor < w[1].cursor));
        assert_eq!(events[0].handler, "h/a");
        assert_eq!(events[4].source, "api");
        assert_eq!(store.job_events_head().unwrap(), events[5].cursor);

        let rest = all(store, events[2].cursor, &EventFilter::default());
        assert_eq!(rest, events[3..]);
        let two = store
            .job_events_after(events[0].cursor, &EventFilter::default(), 2)
            .unwrap();
        assert_eq!(two, events[1..3]);
        assert_eq!(all(store, events[5].cursor, &EventFilter::default()), []);

        let text = events[3].cursor.to_string();
        assert_eq!(text.parse::<EventCursor>().unwrap(), events[3].cursor);
    }
);

on_each_backend!(
    fn a_claim_undone_in_its_transaction_leaves_no_event(backend) {
        let mut conn = backend.connect().unwrap();
        enqueue(conn.store(), "01JA", "h/a", "cli", 1000);
        let handler = "h/a".to_owned();
        let tx = conn.transaction().unwrap();
        let claimed = tx
            .job_claim(&ClaimWrite {
                handlers: &[&handler],
                owner: "n",
                lease_until: LATER,
                limit: 1,
                now: 2000,
            })
            .unwrap();
        assert!(tx.job_unclaim(&claimed[0], "n").unwrap());
        tx.commit().unwrap();
        run_job(conn.store(), "01JA", "h/a", 3000);
        let events = settled(conn.store(), EventCursor::START, 4);
        let statuses: Vec<JobStatus> = events.iter().map(|e| e.status).collect();
        assert_eq!(
            statuses,
            [
                JobStatus::Queued,
                JobStatus::Running,
                JobStatus::Running,
                JobStatus::Completed
            ]
        );
        assert_eq!(events[1].at, 3000, "the kept claim's event");
    }
);

on_each_backend!(
    fn filters_by_job_handler_status_and_source(backend) {
        let conn = backend.connect().unwrap();
        let store = conn.store();
        enqueue(store, "01JA", "h/a", "cli", 1000);
        run_job(store, "01JA", "h/a", 2000);
        enqueue(store, "01JB", "h/b", "api", 3000);
        run_job(store, "01JB", "h/b", 4000);
        enqueue(store, "01JC", "h/a", "api", 5000);
        let everything = settled(store, EventCursor::START, 9);
        let filters = [
            EventFilter {
                job_id: Some("01JB".into()),
                ..EventFilter::default()
            },
            EventFilter {
                handler: Some("h/a".into()),
                ..EventFilter::default()
            },
            EventFilter {
                status: Some(JobStatus::Completed),
                ..EventFilter::default()
            },
            EventFilter {
                source: Some("api".into()),
                status: Some(JobStatus::Queued),
                ..EventFilter::default()
            },
            EventFilter {
                handler: Some("h/none".into()),
                ..EventFilter::default()
            },
        ];
        for filter in filters {
            let expected: Vec<JobEvent> = everything
                .iter()
                .filter(|e| filter.matches(e))
                .cloned()
                .collect();
            assert_eq!(all(store, EventCursor::START, &filter), expected, "{filter:?}");
        }
        let completed = EventFilter {
            status: Some(JobStatus::Completed),
            ..EventFilter::default()
        };
        assert_eq!(all(store, EventCursor::START, &completed).len(), 2);
    }
);

on_each_backend!(
    fn events_go_with_their_pruned_job(backend) {
        let conn = backend.connect().unwrap();
        let store = conn.store();
        enqueue(store, "01JA", "h/a", "cli", 1000);
        run_job(store, "01JA", "h/a", 2000);
        enqueue(store, "01JB", "h/a", "cli", 3000);
        let before = settled(store, EventCursor::START, 5);
        assert_eq!(store.job_prune(10_000, 10_000, 100).unwrap(), ["01JA"]);
        let after = all(store, EventCursor::START, &EventFilter::default());
        assert_eq!(summary(&after), [("01JB", JobStatus::Queued, 0, 3000)]);
        assert_eq!(after[0].cursor, before.last().unwrap().cursor);

        // A number is never given again after the newest events are deleted.
        store::cancel(store, "01JB", 4000).unwrap();
        assert_eq!(store.job_prune(10_000, 10_000, 100).unwrap(), ["01JB"]);
        enqueue(store, "01JC", "h/a", "cli", 5000);
        let last = settled(store, EventCursor::START, 1);
        assert!(last[0].cursor > after[0].cursor, "{last:?}");
    }
);

/// A transaction that wrote an event and is still open holds back the events of transactions
/// that began after it, so that a reader never passes an event that commits later.
#[test]
fn an_open_transaction_holds_back_later_events_on_postgres() {
    let backend = postgres();
    let mut open = backend.connect().unwrap();
    let other = backend.connect().unwrap();
    let reader = backend.connect().unwrap();
    let tx = open.transaction().unwrap();
    enqueue(tx.store(), "01JA", "h/a", "cli", 1000);
    enqueue(other.store(), "01JB", "h/a", "cli", 2000);

    let seen = all(reader.store(), EventCursor::START, &EventFilter::default());
    assert_eq!(seen, [], "01JB's event waits for the older transaction");
    assert_eq!(
        reader.store().job_events_head().unwrap(),
        EventCursor::START
    );

    tx.commit().unwrap();
    let seen = settled(reader.store(), EventCursor::START, 2);
    let ids: Vec<&str> = seen.iter().map(|e| e.job_id.as_str()).collect();
    assert_eq!(ids, ["01JA", "01JB"], "in transaction order");
}

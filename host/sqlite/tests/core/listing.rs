//! Listing jobs ([`qntx_core::pulse::store::list`]) on each backend: filters combined, pages
//! that visit every match once in order while jobs are enqueued, the filter errors, and the
//! counts by handler and status, all checked against the filter's own [`JobQuery::matches`].

use serde_json::{Value, json};

use qntx_core::pulse::listing::{JobQuery, encode_cursor, parse_statuses};
use qntx_core::pulse::store::{self, Lease, Report};
use qntx_core::pulse::{
    Error, Job, JobFilter, JobStatus, NewJob, PauseReason, Progress, SourceMatch,
};
use qntx_core::storage::{AttemptEnd, AttemptFailure, ClaimWrite, Store};

use crate::backends::on_each_backend;

const HANDLERS: [&str; 3] = ["h/a", "h/b", "h/c"];
const SOURCES: [&str; 4] = ["cli", "job:01P", "job:01Q", "schedule:s1"];
/// Far enough ahead that the claims of [`seed`] never take a job meant to stay queued.
const LATER: i64 = 100_000_000_000_000;

const REPORT: Report<'static> = Report {
    progress: Progress {
        current: 0,
        total: 0,
    },
    cost_actual: 0.0,
    plugin_version: "1",
};

/// `n` jobs `01J00000`, `01J00001`, …, created at 1000 + i, spread over handlers, sources and
/// every status; each is moved to its status before the next is enqueued.
fn seed(store: &dyn Store, from: usize, n: usize) {
    for i in from..from + n {
        let status = JobStatus::ALL[i % 6];
        let handler = HANDLERS[(i / 6) % 3];
        let id = format!("01J{i:05}");
        let now = 1000 + i as i64;
        let claims = matches!(
            status,
            JobStatus::Running | JobStatus::Completed | JobStatus::Failed
        );
        let job = NewJob {
            id: Some(id.clone()),
            source: SOURCES[i % 4].into(),
            run_at: Some(if claims { now } else { LATER }),
            ..NewJob::new(handler, json!({ "i": i }))
        };
        store::enqueue(store, &job, now).unwrap();
        let lease = Lease {
            id: &id,
            attempt: 1,
            claim: 1,
            owner: "n",
        };
        let end = AttemptEnd {
            lease,
            report: &REPORT,
            now,
        };
        if claims {
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
            assert_eq!(claimed.len(), 1);
            assert_eq!(claimed[0].id, id);
        }
        match status {
            JobStatus::Completed => assert!(store.job_complete(&end, &Value::Null).unwrap()),
            JobStatus::Failed => {
                let failure = AttemptFailure {
                    message: "no",
                    details: &[],
                };
                assert!(store.job_fail(&end, &failure).unwrap());
            }
            JobStatus::Paused => store::pause(store, &id, PauseReason::User, now).unwrap(),
            JobStatus::Cancelled => {
                store::cancel(store, &id, now).unwrap();
            }
            JobStatus::Queued | JobStatus::Running => {}
        }
    }
}

/// Every stored job, newest first.
fn everything(store: &dyn Store) -> Vec<Job> {
    store.job_list(&JobQuery::new(100_000)).unwrap()
}

/// The ids of every page of `filter`, followed by cursors; `between` runs after each page.
fn pages(store: &dyn Store, filter: &JobFilter, mut between: impl FnMut()) -> Vec<Vec<String>> {
    let mut filter = filter.clone();
    let mut pages = Vec::new();
    loop {
        let page = store::list(store, &filter).unwrap();
        let limit = filter.page_size().unwrap() as usize;
        assert!(page.jobs.len() <= limit);
        pages.push(page.jobs.iter().map(|job| job.id.clone()).collect());
        between();
        match page.next_cursor {
            Some(cursor) => {
                assert_eq!(page.jobs.len(), limit, "a page before the last is full");
                filter.cursor = Some(cursor);
            }
            None => return pages,
        }
    }
}

fn filters() -> Vec<JobFilter> {
    let f = JobFilter::default;
    vec![
        f(),
        JobFilter {
            statuses: vec![JobStatus::Failed],
            handler: Some("h/b".into()),
            ..f()
        },
        JobFilter {
            statuses: vec![
                JobStatus::Cancelled,
                JobStatus::Queued,
                JobStatus::Completed,
            ],
            ..f()
        },
        JobFilter {
            statuses: vec![JobStatus::Running, JobStatus::Paused],
            handler: Some("h/a".into()),
            source: Some(SourceMatch::Prefix("job:".into())),
            ..f()
        },
        JobFilter {
            handler: Some("h/c".into()),
            source: Some(SourceMatch::Exact("cli".into())),
            since: Some(1010),
            until: Some(1080),
            ..f()
        },
        JobFilter {
            source: Some(SourceMatch::Prefix("schedule:".into())),
            statuses: vec![JobStatus::Completed, JobStatus::Failed],
            since: Some(1030),
            ..f()
        },
        JobFilter {
            until: Some(1050),
            ..f()
        },
    ]
}

on_each_backend! {
    fn pages_of_combined_filters_hold_every_match_once_newest_first(backend) {
        let conn = backend.connect().unwrap();
        let store = conn.store();
        seed(store, 0, 120);
        let all = everything(store);
        assert_eq!(all.len(), 120);
        for status in JobStatus::ALL {
            assert_eq!(all.iter().filter(|job| job.status == status).count(), 20);
        }
        for filter in filters() {
            let query = filter.query().unwrap();
            let wanted: Vec<String> = all
                .iter()
                .filter(|job| query.matches(job))
                .map(|job| job.id.clone())
                .collect();
            assert!(!wanted.is_empty(), "{filter:?} matches some");
            for limit in [1, 7, 50, 1000] {
                let filter = JobFilter {
                    limit: Some(limit),
                    ..filter.clone()
                };
                let pages = pages(store, &filter, || {});
                assert_eq!(pages.concat(), wanted, "{filter:?}");
                let expected = wanted.len().div_ceil(limit as usize).max(1);
                assert_eq!(pages.len(), expected, "{filter:?}");
            }
        }
    }
}

on_each_backend! {
    fn jobs_enqueued_between_pages_leave_the_later_pages_as_they_were(backend) {
        let conn = backend.connect().unwrap();
        let store = conn.store();
        seed(store, 0, 60);
        let mut next = 60;
        for filter in [
            JobFilter::default(),
            JobFilter {
                statuses: vec![JobStatus::Queued, JobStatus::Failed],
                ..JobFilter::default()
            },
        ] {
            let query = filter.query().unwrap();
            let before: Vec<String> = everything(store)
                .iter()
                .filter(|job| query.matches(job))
                .map(|job| job.id.clone())
                .collect();
            let filter = JobFilter {
                limit: Some(4),
                ..filter
            };
            let pages = pages(store, &filter, || {
                seed(store, next, 6);
                next += 6;
            });
            assert_eq!(pages.concat(), before, "{filter:?}");
        }
    }
}

on_each_backend! {
    fn bad_filters_get_specific_errors(backend) {
        let conn = backend.connect().unwrap();
        let store = conn.store();
        seed(store, 0, 6);
        let f = JobFilter::default;
        let refused = |filter: JobFilter| store::list(store, &filter).unwrap_err();
        for limit in [0, 1001] {
            let error = refused(JobFilter {
                limit: Some(limit),
                ..f()
            });
            assert!(matches!(error, Error::InvalidFilter(_)), "{error:?}");
        }
        let error = refused(JobFilter {
            since: Some(5),
            until: Some(4),
            ..f()
        });
        assert_eq!(
            error.to_string(),
            "the time range is reversed: since 5 is after until 4"
        );
        for cursor in ["", "xyz", "01J00003", "0a0b"] {
            let error = refused(JobFilter {
                cursor: Some(cursor.into()),
                ..f()
            });
            assert!(matches!(error, Error::BadCursor(_)), "{cursor}: {error:?}");
        }
        assert!(matches!(
            parse_statuses("failed,done"),
            Err(Error::InvalidFilter(message)) if message.starts_with("unknown job status 'done'")
        ));
        // A well-formed cursor past every job is the end, not an error.
        let page = store::list(
            store,
            &JobFilter {
                cursor: Some(encode_cursor("00")),
                ..f()
            },
        )
        .unwrap();
        assert!(page.jobs.is_empty() && page.next_cursor.is_none());
    }
}

on_each_backend! {
    fn counts_by_handler_and_status_match_the_stored_jobs(backend) {
        let conn = backend.connect().unwrap();
        let store = conn.store();
        seed(store, 0, 90);
        let all = everything(store);
        let counts = store::counts(store).unwrap();
        for entry in &counts.by_handler {
            let stored = all
                .iter()
                .filter(|job| job.handler == entry.handler && job.status == entry.status)
                .count() as u64;
            assert_eq!(entry.count, stored, "{entry:?}");
        }
        assert_eq!(counts.by_handler.len(), 18, "every pair of 3 handlers and 6 statuses");
        assert_eq!(counts.by_status(), JobStatus::ALL.map(|status| (status, 15)));
        assert_eq!(counts.busiest(1), [("h/a".to_string(), 30)]);
        assert_eq!(counts.by_handler[0].handler, "h/a");
        assert_eq!(counts.by_handler[0].status, JobStatus::Queued);
    }
}

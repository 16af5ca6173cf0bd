//! Job logs, registrations, budgets and node records on a real PostgreSQL server.

use serde_json::json;

use crate::pulse::{HandlerRecord, LogLevel, LogLine, NewJob, Period, Progress, Report, store};
use crate::storage::{
    AttemptEnd, Budgets as _, ClaimWrite, Heartbeat, JobLogs as _, Jobs as _, Nodes as _,
    Registrations as _,
};
use crate::{Options, PostgresBackend, PostgresConnection};

fn connection() -> PostgresConnection {
    PostgresBackend::open(&qntx_pgtest::shared().database(), Options::default())
        .unwrap()
        .connection()
        .unwrap()
}

fn line(message: &str) -> LogLine {
    LogLine {
        attempt: 1,
        time: 7,
        level: LogLevel::Warn,
        stage: "guest".into(),
        message: message.into(),
    }
}

#[test]
fn log_lines_come_back_numbered_in_order_after_a_line_and_go_with_their_job() {
    let conn = connection();
    conn.job_logs_append("A", &[line("one"), line("two"), line("three")])
        .unwrap();
    conn.job_logs_append("B", &[line("other")]).unwrap();
    conn.job_logs_append("A", &[]).unwrap();
    conn.job_logs_append("A", &[line("four\0nul")]).unwrap();
    let all = conn.job_logs_after("A", 0).unwrap();
    let messages: Vec<&str> = all.iter().map(|(_, l)| l.message.as_str()).collect();
    assert_eq!(messages, ["one", "two", "three", "four\u{fffd}nul"]);
    assert!(all.windows(2).all(|w| w[0].0 < w[1].0), "numbered in order");
    assert_eq!(all[0].1, line("one"));
    let after_two = conn.job_logs_after("A", all[1].0).unwrap();
    assert_eq!(after_two.len(), 2);
    conn.job_logs_delete(&["A".to_owned()]).unwrap();
    assert!(conn.job_logs_after("A", 0).unwrap().is_empty());
    assert_eq!(conn.job_logs_after("B", 0).unwrap().len(), 1);
}

#[test]
fn a_registration_is_replaced_by_the_next_and_names_sort_bytewise() {
    let conn = connection();
    let record = |handler: &str, version: &str| HandlerRecord {
        handler: handler.into(),
        plugin: "p".into(),
        plugin_version: version.into(),
        description: "d".into(),
        registered_at: 1,
    };
    for handler in ["p/b", "P/a", "p/a"] {
        conn.handler_register(&record(handler, "1")).unwrap();
    }
    conn.handler_register(&record("p/a", "2")).unwrap();
    assert_eq!(conn.handler_get("p/a").unwrap(), Some(record("p/a", "2")));
    assert_eq!(conn.handler_get("p/z").unwrap(), None);
    assert_eq!(conn.handler_names().unwrap(), ["P/a", "p/a", "p/b"]);
}

#[test]
fn budgets_sum_settled_spend_by_window_and_reserve_what_runs() {
    let conn = connection();
    assert!(conn.budget_limits().unwrap().is_empty());
    conn.budget_set(Period::Daily, 5.0, 1).unwrap();
    conn.budget_set(Period::Daily, 3.0, 2).unwrap();
    conn.budget_set(Period::Monthly, 50.0, 2).unwrap();
    let limits = conn.budget_limits().unwrap();
    assert_eq!(
        (limits.daily, limits.weekly, limits.monthly),
        (Some(3.0), None, Some(50.0))
    );
    assert!(
        conn.budget_set(Period::Weekly, -1.0, 3)
            .unwrap_err()
            .is_refusal()
    );
    conn.budget_clear(Period::Monthly).unwrap();
    assert_eq!(conn.budget_limits().unwrap().monthly, None);

    let now = 100 * Period::Monthly.window_ms();
    let day = Period::Daily.window_ms();
    // Finished a day, a week and two months ago, and one still running.
    for (id, estimate) in [
        ("D", 0.0),
        ("W", 0.0),
        ("OLD", 0.0),
        ("RUN", 4.0),
        ("P", 9.0),
    ] {
        let job = NewJob {
            id: Some(id.into()),
            cost_estimate: estimate,
            ..NewJob::new("h/a", json!({}))
        };
        store::enqueue(&conn, &job, 0).unwrap();
    }
    let handler = "h/a".to_owned();
    let claimed = conn
        .job_claim(&ClaimWrite {
            handlers: &[&handler],
            owner: "n",
            lease_until: i64::MAX,
            limit: 5,
            now: 0,
        })
        .unwrap();
    assert_eq!(claimed.len(), 5);
    for (id, cost, finished) in [
        ("D", 1.0, now - day / 2),
        ("W", 2.0, now - 3 * day),
        ("OLD", 4.0, now - 60 * day),
    ] {
        let report = Report {
            progress: Progress::default(),
            cost_actual: cost,
            plugin_version: "1",
        };
        let end = AttemptEnd {
            lease: store::Lease {
                id,
                attempt: 1,
                claim: 1,
                owner: "n",
            },
            report: &report,
            now: finished,
        };
        assert!(conn.job_complete(&end, &json!(null)).unwrap());
    }
    assert!(
        conn.job_pause("P", crate::pulse::PauseReason::BudgetExceeded, 1)
            .unwrap()
    );
    let spend = conn.budget_spend(now).unwrap();
    assert_eq!(
        (spend.daily, spend.weekly, spend.monthly, spend.reserved),
        (1.0, 3.0, 3.0, 4.0)
    );
    assert_eq!(conn.budget_paused(10).unwrap(), [("P".to_owned(), 9.0)]);
    assert!(conn.budget_paused(0).unwrap().is_empty());
    assert_eq!(conn.handler_load("h/a", now - day).unwrap(), (1, 0));
    assert_eq!(conn.handler_load("h/a", -1).unwrap(), (1, 5));
    assert_eq!(conn.handler_load("h/b", -1).unwrap(), (0, 0));
}

#[test]
fn a_node_serves_its_handlers_while_its_lease_lasts_and_until_it_stops() {
    let conn = connection();
    let handlers = ["h/a".to_owned(), "h/b".to_owned()];
    let beat = |id, now| Heartbeat {
        id,
        host: "box",
        pid: 42,
        lease_ms: 100,
        handlers: &handlers,
        now,
    };
    conn.node_heartbeat(&beat("N2", 10)).unwrap();
    conn.node_heartbeat(&beat("N1", 10)).unwrap();
    conn.node_heartbeat(&beat("N1", 50)).unwrap();
    assert_eq!(conn.nodes_serving("h/b", 110).unwrap(), ["N1", "N2"]);
    assert_eq!(conn.nodes_serving("h/b", 111).unwrap(), ["N1"]);
    assert!(conn.nodes_serving("h/c", 60).unwrap().is_empty());
    let record = conn.node_get("N1").unwrap().unwrap();
    assert_eq!(
        (
            record.host.as_str(),
            record.pid,
            record.started_at,
            record.seen_at
        ),
        ("box", 42, 10, 50)
    );
    conn.node_stop("N1", 60).unwrap();
    assert_eq!(conn.node_get("N1").unwrap().unwrap().stopped_at, Some(60));
    assert_eq!(conn.nodes_serving("h/a", 60).unwrap(), ["N2"]);
    assert_eq!(conn.nodes_prune(20).unwrap(), 1);
    assert_eq!(conn.node_get("N2").unwrap(), None);
    assert!(conn.node_get("N1").unwrap().is_some());
}

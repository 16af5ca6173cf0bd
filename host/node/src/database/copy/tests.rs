//! Copies between real SQLite files: every kind of value, the refusal of a non-empty target,
//! replacing one, and the numbering after a copy.

use super::*;
use crate::pulse::{NewJob, Period, store as jobs};
use crate::sqlite::SqliteBackend;
use crate::storage::Backend;
use crate::storage::dump::{ATTESTATIONS, COMPONENTS, JOBS, SCHEDULES, Value};

const NOW: i64 = 1_700_000_000_000;

fn attestation(seq: i64, id: &str) -> Row {
    vec![
        Value::Int(seq),
        Value::Text(id.into()),
        Value::Text(r#"["ALICE"]"#.into()),
        Value::Text(r#"["author"]"#.into()),
        Value::Text(r#"["_"]"#.into()),
        Value::Text(r#"["bob"]"#.into()),
        Value::Int(NOW),
        Value::Text("test".into()),
        Value::Text("{}".into()),
        Value::Int(NOW),
    ]
}

/// A store with an attestation numbered 7, a job, a component, a budget and a paused schedule.
fn source() -> (SqliteBackend, Box<dyn Connection>) {
    let backend = SqliteBackend::temporary().unwrap();
    let conn = backend.connect().unwrap();
    conn.dump_write(&ATTESTATIONS, &[attestation(7, "AS-SEVEN")])
        .unwrap();
    jobs::enqueue(
        conn.store(),
        &NewJob::new("text/echo", serde_json::json!({"a": 1})),
        NOW,
    )
    .unwrap();
    conn.component_put(&"ab".repeat(32), &[0, 1, 2, 255], NOW)
        .unwrap();
    conn.budget_set(Period::Daily, 2.5, NOW).unwrap();
    let schedule = vec![
        Value::Text("user:tick".into()),
        Value::Text("user".into()),
        Value::Text("text/echo".into()),
        Value::Text("{}".into()),
        Value::Int(60_000),
        Value::Bool(false),
        Value::Int(NOW),
        Value::Null,
        Value::Int(NOW),
        Value::Int(NOW),
    ];
    conn.dump_write(&SCHEDULES, &[schedule]).unwrap();
    (backend, conn)
}

#[test]
fn a_copy_holds_every_row_and_value_and_numbers_on_after_them() {
    let (_source_db, mut from) = source();
    let target_db = SqliteBackend::temporary().unwrap();
    let mut to = target_db.connect().unwrap();
    let mut pages = Vec::new();
    let copied = copy(
        from.as_mut(),
        to.as_mut(),
        false,
        &mut |table, done, total| {
            pages.push((table.name, done, total));
        },
    )
    .unwrap();
    assert!(copied.cleared.is_empty());
    let count = |name| copied.tables.iter().find(|t| t.0 == name).unwrap().1;
    assert_eq!(count("attestations"), 1);
    assert_eq!(count("jobs"), 1);
    assert!(
        copied
            .tables
            .iter()
            .all(|(_, source, target)| source == target)
    );
    assert!(pages.contains(&("components", 1, 1)), "{pages:?}");
    for table in [&ATTESTATIONS, &COMPONENTS, &SCHEDULES, &JOBS] {
        assert_eq!(
            to.dump_read(table, None, 10).unwrap(),
            from.dump_read(table, None, 10).unwrap(),
            "{}",
            table.name
        );
    }
    assert_eq!(
        to.component_get(&"ab".repeat(32)).unwrap(),
        Some(vec![0, 1, 2, 255])
    );
    assert!(!to.schedule_list().unwrap()[0].enabled);
    assert_eq!(to.budget_limits().unwrap().daily, Some(2.5));
    let job = &to
        .job_list(&qntx_core::pulse::listing::JobQuery::new(10))
        .unwrap()[0];
    assert_eq!(job.payload, serde_json::json!({"a": 1}));
    assert_eq!(to.attestation_head().unwrap(), 7, "the seq is kept");
}

#[test]
fn pages_continue_after_the_key_of_the_last_row() {
    let backend = SqliteBackend::temporary().unwrap();
    let conn = backend.connect().unwrap();
    let rows: Vec<Row> = (1..=5)
        .map(|seq| attestation(seq * 10, &format!("AS-{seq}")))
        .collect();
    conn.dump_write(&ATTESTATIONS, &rows).unwrap();
    let first = conn.dump_read(&ATTESTATIONS, None, 2).unwrap();
    assert_eq!(first, rows[..2]);
    let next = conn
        .dump_read(&ATTESTATIONS, Some(&first[1][..1]), 2)
        .unwrap();
    assert_eq!(next, rows[2..4]);
    let last = conn
        .dump_read(&ATTESTATIONS, Some(&next[1][..1]), 2)
        .unwrap();
    assert_eq!(last, rows[4..]);
    assert_eq!(conn.dump_count(&ATTESTATIONS).unwrap(), 5);
}

#[test]
fn a_target_with_rows_is_refused_unless_replaced_and_replacing_leaves_only_the_source() {
    let (_source_db, mut from) = source();
    let target_db = SqliteBackend::temporary().unwrap();
    let mut to = target_db.connect().unwrap();
    to.dump_write(&ATTESTATIONS, &[attestation(3, "AS-OLD")])
        .unwrap();
    to.budget_set(Period::Weekly, 9.0, NOW).unwrap();

    let error = copy(from.as_mut(), to.as_mut(), false, &mut |_, _, _| {}).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the target is not empty (attestations: 1, budgets: 1); nothing was copied"
    );
    assert!(to.attestation_get("AS-OLD").unwrap().is_some(), "untouched");

    let copied = copy(from.as_mut(), to.as_mut(), true, &mut |_, _, _| {}).unwrap();
    assert_eq!(copied.cleared, vec![("attestations", 1), ("budgets", 1)]);
    assert!(to.attestation_get("AS-OLD").unwrap().is_none());
    assert!(to.attestation_get("AS-SEVEN").unwrap().is_some());
    let limits = to.budget_limits().unwrap();
    assert_eq!(
        (limits.daily, limits.weekly),
        (Some(2.5), None),
        "replaced, not merged"
    );
}

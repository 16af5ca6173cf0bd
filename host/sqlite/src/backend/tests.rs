use std::sync::mpsc;

use super::*;
use crate::pulse::{NewJob, store};
use crate::storage::{Backend, Connection};

fn count(conn: &SqliteConnection) -> i64 {
    conn.sql()
        .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
        .unwrap()
}

fn backend_with_table() -> (SqliteBackend, SqliteConnection) {
    let backend = SqliteBackend::temporary().unwrap();
    let conn = backend.connection().unwrap();
    conn.sql().execute_batch("CREATE TABLE t (x)").unwrap();
    (backend, conn)
}

#[test]
fn a_transaction_dropped_uncommitted_keeps_nothing_and_a_committed_one_everything() {
    let (_backend, mut conn) = backend_with_table();
    let tx = conn.transaction().unwrap();
    drop(tx);
    conn.sql().execute("INSERT INTO t VALUES (1)", []).unwrap();
    {
        let _tx = conn.transaction().unwrap();
    }
    assert_eq!(count(&conn), 1);
    let tx = conn.transaction().unwrap();
    tx.commit().unwrap();
    assert!(
        conn.sql().is_autocommit(),
        "the commit ended the transaction"
    );
}

#[test]
fn a_failed_atomic_step_inside_a_transaction_undoes_only_itself() {
    let (_backend, conn) = backend_with_table();
    conn.sql().execute_batch("BEGIN IMMEDIATE").unwrap();
    conn.atomic(|sql| sql.execute("INSERT INTO t VALUES (1)", []).or_storage())
        .unwrap();
    let failed = conn.atomic(|sql| {
        sql.execute("INSERT INTO t VALUES (2)", []).or_storage()?;
        Err::<(), _>(storage::Error::Corrupt("stop".into()))
    });
    assert!(failed.is_err());
    conn.sql().execute_batch("COMMIT").unwrap();
    assert_eq!(count(&conn), 1);
}

#[test]
fn another_connections_commit_is_seen_as_a_change_and_silence_is_not() {
    let (backend, mut watcher) = backend_with_table();
    assert!(!watcher.wait_for_change(Duration::from_millis(5)).unwrap());
    let writer = backend.connect().unwrap();
    drop(writer);
    let other = backend.connection().unwrap();
    other.sql().execute("INSERT INTO t VALUES (1)", []).unwrap();
    assert!(watcher.wait_for_change(Duration::from_secs(5)).unwrap());
    assert!(!watcher.wait_for_change(Duration::from_millis(5)).unwrap());
    assert!(
        backend
            .describe()
            .contains(&backend.path().display().to_string())
    );
}

fn enqueue(store: &dyn Store, id: &str) {
    let job = NewJob {
        id: Some(id.into()),
        ..NewJob::new("h/a", serde_json::json!({}))
    };
    store::enqueue(store, &job, 0).unwrap();
}

#[test]
fn a_writer_of_the_same_backend_waits_at_the_gate_until_the_other_commits() {
    let backend = SqliteBackend::temporary().unwrap();
    let mut first = backend.connect().unwrap();
    let mut second = backend.connect().unwrap();
    let tx = first.transaction().unwrap();
    enqueue(&**tx, "A");
    let (began, waited) = mpsc::channel();
    let writer = std::thread::spawn(move || {
        let tx = second.transaction().unwrap();
        began.send(()).unwrap();
        enqueue(&**tx, "B");
        tx.commit().unwrap();
    });
    assert!(
        waited.recv_timeout(Duration::from_millis(200)).is_err(),
        "the second writer begins only when the first is done"
    );
    tx.commit().unwrap();
    waited.recv_timeout(Duration::from_secs(10)).unwrap();
    writer.join().unwrap();
    let ids: Vec<String> = store::list_all(&**first, &crate::pulse::JobFilter::default())
        .unwrap()
        .into_iter()
        .map(|job| job.id)
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
}

#[test]
fn a_gate_held_on_the_same_thread_ends_in_the_busy_error_not_a_deadlock() {
    let backend = SqliteBackend::temporary()
        .unwrap()
        .with_limits(Duration::from_millis(50), WalWatch::THRESHOLD);
    let mut first = backend.connect().unwrap();
    let mut second = backend.connect().unwrap();
    let _held = first.transaction().unwrap();
    let started = Instant::now();
    let error = second.transaction().err().expect("the store is locked");
    assert!(matches!(error, storage::Error::Backend(_)), "{error:?}");
    assert!(
        second.explain(&error).contains("SQLITE_BUSY"),
        "{}",
        second.explain(&error)
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn writes_a_caller_discards_are_rolled_back_alone() {
    let backend = SqliteBackend::temporary().unwrap();
    let mut conn = backend.connect().unwrap();
    conn.atomically(&mut |store| {
        enqueue(store, "KEPT");
        true
    })
    .unwrap();
    let tx = conn.transaction().unwrap();
    enqueue(&**tx, "OUTER");
    tx.atomically(&mut |store| {
        enqueue(store, "DISCARDED");
        false
    })
    .unwrap();
    assert!(tx.in_transaction());
    tx.commit().unwrap();
    conn.atomically(&mut |store| {
        enqueue(store, "ALSO-DISCARDED");
        false
    })
    .unwrap();
    let mut ids: Vec<String> = store::list_all(&**conn, &crate::pulse::JobFilter::default())
        .unwrap()
        .into_iter()
        .map(|job| job.id)
        .collect();
    ids.sort();
    assert_eq!(ids, ["KEPT", "OUTER"]);
    assert!(!conn.in_transaction());
}

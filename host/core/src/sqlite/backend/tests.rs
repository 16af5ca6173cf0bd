use super::*;
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

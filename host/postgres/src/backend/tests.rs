use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::*;
use crate::storage::Connection;

fn backend() -> PostgresBackend {
    PostgresBackend::open(&qntx_pgtest::shared().database(), Options::default()).unwrap()
}

fn with_table(backend: &PostgresBackend) -> PostgresConnection {
    let conn = backend.connection().unwrap();
    conn.batch("CREATE TABLE IF NOT EXISTS t (x BIGINT)")
        .unwrap();
    conn
}

fn count(conn: &PostgresConnection) -> i64 {
    conn.query_one("SELECT count(*) FROM t", &[])
        .unwrap()
        .get(0)
}

#[test]
fn a_transaction_dropped_uncommitted_keeps_nothing_and_a_committed_one_everything() {
    let backend = backend();
    let mut conn = with_table(&backend);
    {
        let tx = conn.transaction().unwrap();
        assert!(tx.in_transaction());
    }
    assert!(!conn.in_transaction(), "dropped: rolled back");
    conn.begin("BEGIN").unwrap();
    conn.execute("INSERT INTO t VALUES (1)", &[]).unwrap();
    conn.rollback();
    assert_eq!(count(&conn), 0);
    conn.begin("BEGIN").unwrap();
    conn.execute("INSERT INTO t VALUES (2)", &[]).unwrap();
    conn.commit().unwrap();
    assert_eq!(count(&conn), 1);
    let tx = conn.transaction().unwrap();
    tx.commit().unwrap();
    assert!(!conn.in_transaction());
}

#[test]
fn a_failed_statement_in_a_transaction_makes_its_commit_fail_instead_of_vanishing() {
    let backend = backend();
    let conn = with_table(&backend);
    conn.begin("BEGIN").unwrap();
    conn.execute("INSERT INTO t VALUES (1)", &[]).unwrap();
    assert!(conn.execute("INSERT INTO t VALUES ('x')", &[]).is_err());
    let error = conn.commit().unwrap_err();
    assert!(error.to_string().contains("rolled it back"), "{error}");
    assert_eq!(count(&conn), 0);
    conn.execute("INSERT INTO t VALUES (1)", &[]).unwrap();
    assert_eq!(
        count(&conn),
        1,
        "the connection works after the failed transaction"
    );
}

#[test]
fn atomically_nests_in_a_savepoint_and_discards_only_its_own_writes() {
    let backend = backend();
    let conn = with_table(&backend);
    conn.atomic(|conn| -> storage::Result<()> {
        conn.execute("INSERT INTO t VALUES (1)", &[])?;
        conn.atomically(&mut |_| {
            conn.execute("INSERT INTO t VALUES (2)", &[]).unwrap();
            false
        })?;
        conn.atomically(&mut |_| conn.execute("INSERT INTO t VALUES ('x')", &[]).is_ok())?;
        Ok(())
    })
    .unwrap();
    assert_eq!(count(&conn), 1);
}

#[test]
fn a_snapshot_sees_the_store_as_of_its_first_read() {
    let backend = backend();
    let reader = with_table(&backend);
    let writer = backend.connection().unwrap();
    reader
        .begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .unwrap();
    assert_eq!(count(&reader), 0);
    writer.execute("INSERT INTO t VALUES (1)", &[]).unwrap();
    assert_eq!(count(&reader), 0);
    reader.commit().unwrap();
    assert_eq!(count(&reader), 1);
}

#[test]
fn a_change_committed_on_one_connection_wakes_a_waiter_on_another() {
    let backend = backend();
    let mut waiter = with_table(&backend);
    assert!(!waiter.wait_for_change(Duration::from_millis(20)).unwrap());
    let (done, woke) = mpsc::channel();
    let writer_backend = backend.clone();
    let writer = std::thread::spawn(move || {
        let conn = writer_backend.connection().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        conn.atomic(|conn| -> storage::Result<()> {
            conn.execute("INSERT INTO t VALUES (1)", &[])?;
            conn.changed()
        })
        .unwrap();
        done.send(Instant::now()).unwrap();
    });
    assert!(waiter.wait_for_change(Duration::from_secs(10)).unwrap());
    let woken = Instant::now();
    writer.join().unwrap();
    let committed = woke.recv().unwrap();
    assert!(
        woken.saturating_duration_since(committed) < Duration::from_secs(1),
        "woken by the notification, not by the timeout"
    );
    assert!(!waiter.wait_for_change(Duration::from_millis(20)).unwrap());
}

#[test]
fn transactions_naming_the_same_key_run_one_after_the_other() {
    let backend = backend();
    let mut first = with_table(&backend);
    let tx = first.transaction().unwrap();
    tx.exclusive("budget").unwrap();
    let (started, waited) = mpsc::channel();
    let other = backend.clone();
    let second = std::thread::spawn(move || {
        let mut conn = other.connection().unwrap();
        let tx = conn.transaction().unwrap();
        let before = Instant::now();
        tx.exclusive("budget").unwrap();
        started.send(before.elapsed()).unwrap();
        tx.commit().unwrap();
    });
    std::thread::sleep(Duration::from_millis(300));
    tx.commit().unwrap();
    second.join().unwrap();
    assert!(waited.recv().unwrap() >= Duration::from_millis(250));
}

#[test]
fn a_malformed_url_a_wrong_password_and_no_server_each_say_what_is_wrong() {
    let url_error = PostgresBackend::open(
        "postgres://qntx:pw@127.0.0.1:notaport/x",
        Options::default(),
    )
    .unwrap_err();
    assert!(matches!(url_error, Error::Url { .. }), "{url_error}");
    assert!(
        !url_error.to_string().contains(":pw@"),
        "the password is hidden: {url_error}"
    );

    let server = qntx_pgtest::shared();
    let wrong = server.url("postgres").replace("qntx-test", "wrong");
    let error = PostgresBackend::open(&wrong, Options::default()).unwrap_err();
    let chain = crate::error_chain(&error);
    assert!(chain.contains("password authentication failed"), "{chain}");
    assert!(!chain.contains("wrong"), "the password is hidden: {chain}");

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let error = PostgresBackend::open(
        &format!("postgres://qntx@127.0.0.1:{port}/x"),
        Options::default(),
    )
    .unwrap_err();
    let chain = crate::error_chain(&error);
    assert!(
        chain.contains(&format!("connecting to postgres://qntx@127.0.0.1:{port}/x")),
        "{chain}"
    );
}

#[test]
fn a_database_of_a_newer_schema_is_refused_and_left_alone() {
    let url = qntx_pgtest::shared().database();
    let backend = PostgresBackend::open(&url, Options::default()).unwrap();
    let conn = backend.connection().unwrap();
    conn.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)",
        &[],
    )
    .unwrap();
    let error = PostgresBackend::open(&url, Options::default()).unwrap_err();
    assert!(matches!(error, Error::TooNew { found: 999, .. }), "{error}");
    assert_eq!(super::super::migrations::current(&conn).unwrap(), 999);
}

#[test]
fn a_connection_outlives_a_restart_of_its_server_and_a_transaction_cut_by_it_fails() {
    let server = qntx_pgtest::Server::start().unwrap();
    let backend = PostgresBackend::open(&server.database(), Options::default()).unwrap();
    let conn = with_table(&backend);
    conn.execute("INSERT INTO t VALUES (1)", &[]).unwrap();
    conn.begin("BEGIN").unwrap();
    conn.execute("INSERT INTO t VALUES (2)", &[]).unwrap();
    server.stop();
    server.resume().unwrap();
    assert!(conn.execute("INSERT INTO t VALUES (3)", &[]).is_err());
    let error = conn.commit().unwrap_err();
    assert!(error.to_string().contains("rolled it back"), "{error}");
    assert_eq!(
        count(&conn),
        1,
        "the committed row is there, the cut transaction's is not"
    );
    server.stop();
    assert!(
        conn.execute("INSERT INTO t VALUES (4)", &[]).is_err(),
        "no server: an error"
    );
    server.resume().unwrap();
    conn.execute("INSERT INTO t VALUES (5)", &[]).unwrap();
    assert_eq!(count(&conn), 2);
}

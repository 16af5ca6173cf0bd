//! The attestation feed ([`qntx_core::ats::feed`]) on SQLite.

use qntx_core::ats::feed::Feed;
use qntx_core::ats::{Attestation, Limits, NewAttestation, store};
use qntx_sqlite::{SqliteBackend, SqliteConnection};

fn db() -> (SqliteBackend, SqliteConnection) {
    let backend = SqliteBackend::temporary().unwrap();
    let conn = backend.connection().unwrap();
    (backend, conn)
}

fn put(conn: &SqliteConnection, subject: &str) {
    let mut a = NewAttestation {
        subjects: vec![subject.into()],
        actors: vec!["me".into()],
        source: "test".into(),
        ..NewAttestation::default()
    }
    .validate(&Limits::default(), 1)
    .unwrap();
    store::insert(conn, &mut a).unwrap();
}

fn subjects(attestations: Vec<Attestation>) -> Vec<String> {
    attestations.into_iter().flat_map(|a| a.subjects).collect()
}

#[test]
fn a_feed_returns_each_new_attestation_once_in_order() {
    let (_backend, conn) = db();
    put(&conn, "old");
    let mut feed = Feed::from_now(&conn).unwrap();
    assert!(feed.poll(&conn).unwrap().is_empty());
    put(&conn, "a");
    put(&conn, "b");
    assert_eq!(subjects(feed.poll(&conn).unwrap()), ["a", "b"]);
    assert!(feed.poll(&conn).unwrap().is_empty());
    put(&conn, "c");
    let resumed = Feed::after(feed.cursor());
    assert_eq!(subjects(feed.poll(&conn).unwrap()), ["c"]);
    assert_eq!(
        subjects(Feed::after(0).poll(&conn).unwrap()),
        ["old", "a", "b", "c"]
    );
    assert_eq!(subjects({ resumed }.poll(&conn).unwrap()), ["c"]);
}

#[test]
fn a_poll_returns_at_most_a_batch() {
    let (_backend, conn) = db();
    let mut feed = Feed::from_now(&conn).unwrap().with_batch(2);
    for s in ["a", "b", "c"] {
        put(&conn, s);
    }
    assert_eq!(subjects(feed.poll(&conn).unwrap()), ["a", "b"]);
    assert_eq!(subjects(feed.poll(&conn).unwrap()), ["c"]);
}

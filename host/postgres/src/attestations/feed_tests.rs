//! The feed with concurrent writers: sequence order is commit order, so a reader following
//! `attestation_after` sees every attestation exactly once, in order, and a watcher's
//! compare-and-set cursor fires each match once however many nodes run it.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use super::*;
use crate::PostgresBackend;
use crate::ats::{Limits, NewAttestation};
use crate::pulse::triggers::{WatcherFilter, WatcherSpec};
use crate::storage::{WatcherUpsert, Watchers};

fn backend() -> PostgresBackend {
    PostgresBackend::open(&qntx_pgtest::shared().database(), crate::Options::default()).unwrap()
}

fn attestation(subject: &str) -> Attestation {
    NewAttestation {
        subjects: vec![subject.to_owned()],
        actors: vec!["writer".into()],
        source: "test".into(),
        ..NewAttestation::default()
    }
    .validate(&Limits::default(), 1)
    .unwrap()
}

/// The raw insert, without the feed's lock: what the lock prevents.
const UNLOCKED_INSERT: &str = "INSERT INTO attestations
    (id, subjects, predicates, contexts, actors, timestamp, source, attributes, created_at)
    VALUES ($1, '[\"s\"]', '[\"_\"]', '[\"_\"]', '[\"a\"]', 1, 't', '{}', 1)";

#[test]
fn without_the_lock_a_reader_would_skip_a_row_committed_late() {
    let backend = backend();
    let (early, late, reader) = (
        backend.connection().unwrap(),
        backend.connection().unwrap(),
        backend.connection().unwrap(),
    );
    let cursor = early
        .atomic(|early| -> storage::Result<i64> {
            early.execute(UNLOCKED_INSERT, &[&"AS-early"])?;
            late.execute(UNLOCKED_INSERT, &[&"AS-late"])?;
            let seen = reader.attestation_after(0, 10)?;
            assert_eq!(seen.len(), 1, "only the late row has committed");
            Ok(seen[0].0)
        })
        .unwrap();
    assert_eq!(reader.attestation_count().unwrap(), 2);
    assert!(
        reader.attestation_after(cursor, 10).unwrap().is_empty(),
        "the early row's sequence is below the cursor: skipped for good"
    );
}

#[test]
fn an_insert_waits_for_an_open_transaction_that_inserted_before_it() {
    let backend = backend();
    let first = backend.connection().unwrap();
    let (first_seq, second) = first
        .atomic(|tx| -> storage::Result<_> {
            let seq = tx.attestation_insert(&attestation("first"))?.unwrap();
            let other = backend.clone();
            let second = std::thread::spawn(move || {
                let conn = other.connection().unwrap();
                let started = Instant::now();
                let seq = conn.attestation_insert(&attestation("second")).unwrap();
                (seq.unwrap(), started.elapsed())
            });
            std::thread::sleep(Duration::from_millis(300));
            Ok((seq, second))
        })
        .unwrap();
    let (second_seq, waited) = second.join().unwrap();
    assert!(waited >= Duration::from_millis(250), "waited {waited:?}");
    assert!(
        second_seq > first_seq,
        "the later commit has the later sequence"
    );
}

#[test]
fn a_follower_sees_every_attestation_once_in_order_while_transactions_commit_out_of_order() {
    const WRITERS: usize = 6;
    const ROUNDS: usize = 15;
    let backend = backend();
    let done = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(WRITERS + 1));

    let follower = {
        let (backend, done) = (backend.clone(), done.clone());
        std::thread::spawn(move || {
            let conn = backend.connection().unwrap();
            let mut cursor = 0;
            let mut seen = Vec::new();
            loop {
                let finished = done.load(Ordering::SeqCst);
                let rows = conn.attestation_after(cursor, 7).unwrap();
                if rows.is_empty() && finished {
                    return seen;
                }
                for (seq, attestation) in rows {
                    assert!(seq > cursor, "in order");
                    cursor = seq;
                    seen.push((seq, attestation.id));
                }
            }
        })
    };
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let (backend, start) = (backend.clone(), start.clone());
            std::thread::spawn(move || {
                let conn = backend.connection().unwrap();
                start.wait();
                let mut written = Vec::new();
                for round in 0..ROUNDS {
                    // Transactions begin in one order, reach their inserts in another, and
                    // some roll back (their sequences are gaps the feed skips).
                    let pause = |salt: usize| {
                        let ms = (writer * 7 + round * 3 + salt) % 11;
                        std::thread::sleep(Duration::from_millis(ms as u64));
                    };
                    let ids = conn
                        .atomic(|tx| -> storage::Result<Option<Vec<String>>> {
                            tx.query_one("SELECT 1", &[])?;
                            pause(0);
                            let mut ids = Vec::new();
                            for n in 0..2 {
                                let mut a = attestation(&format!("w{writer}r{round}n{n}"));
                                crate::ats::store::insert(tx, &mut a).unwrap();
                                ids.push(a.id);
                                pause(n + 1);
                            }
                            if (writer + round) % 5 == 0 {
                                return Err(storage::Error::Backend("rolled back".into()));
                            }
                            Ok(Some(ids))
                        })
                        .unwrap_or(None);
                    written.extend(ids.into_iter().flatten());
                }
                written
            })
        })
        .collect();
    start.wait();
    let mut committed = BTreeSet::new();
    for writer in writers {
        committed.extend(writer.join().unwrap());
    }
    done.store(true, Ordering::SeqCst);
    let seen = follower.join().unwrap();

    let seen_ids: Vec<&String> = seen.iter().map(|(_, id)| id).collect();
    let unique: BTreeSet<&String> = seen_ids.iter().copied().collect();
    assert_eq!(unique.len(), seen_ids.len(), "no attestation twice");
    assert_eq!(
        unique,
        committed.iter().collect(),
        "every committed attestation, nothing rolled back"
    );
    let stored = backend
        .connection()
        .unwrap()
        .attestation_after(0, 10_000)
        .unwrap();
    assert_eq!(
        stored
            .into_iter()
            .map(|(seq, a)| (seq, a.id))
            .collect::<Vec<_>>(),
        seen,
        "the follower saw the store's order"
    );
}

#[test]
fn three_nodes_firing_one_watcher_fire_each_match_exactly_once() {
    const NODES: usize = 3;
    const ATTESTATIONS: usize = 150;
    let backend = backend();
    let setup = backend.connection().unwrap();
    // What the watcher's jobs would be: one row per fire, in the firing transaction.
    setup
        .batch("CREATE TABLE fired (seq BIGINT NOT NULL)")
        .unwrap();
    setup
        .watcher_upsert(&WatcherUpsert {
            id: "h#1",
            owner: "p",
            spec: &WatcherSpec {
                handler: "p/h".into(),
                filter: WatcherFilter {
                    subjects: vec!["Match".into()],
                    ..WatcherFilter::default()
                },
                max_fires_per_second: 1e9,
                include_own_writes: true,
            },
            cursor_seq: 0,
            now: 1,
        })
        .unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let nodes: Vec<_> = (0..NODES)
        .map(|_| {
            let (backend, done) = (backend.clone(), done.clone());
            std::thread::spawn(move || {
                let conn = backend.connection().unwrap();
                let (mut won, mut lost) = (0, 0);
                loop {
                    let finished = done.load(Ordering::SeqCst);
                    // As the watcher service does: read the cursor, examine what follows it,
                    // and move the cursor by compare-and-set with the fires, all or nothing.
                    let watcher = conn.watcher_list().unwrap().remove(0);
                    let rows = conn.attestation_after(watcher.cursor_seq, 10).unwrap();
                    let Some((last, _)) = rows.last() else {
                        if finished {
                            return (won, lost);
                        }
                        continue;
                    };
                    let advanced = conn
                        .atomic(|tx| -> storage::Result<bool> {
                            if !tx.watcher_advance(&watcher.id, watcher.cursor_seq, *last, 2)? {
                                return Ok(false);
                            }
                            for (seq, attestation) in &rows {
                                if watcher.fires_on(attestation) {
                                    tx.execute("INSERT INTO fired (seq) VALUES ($1)", &[seq])?;
                                }
                            }
                            Ok(true)
                        })
                        .unwrap();
                    if !advanced {
                        lost += 1;
                        continue;
                    }
                    won += 1;
                }
            })
        })
        .collect();
    let mut matches = BTreeSet::new();
    for i in 0..ATTESTATIONS {
        let subject = if i % 3 == 0 { "match" } else { "other" };
        let seq = setup
            .attestation_insert(&attestation(subject))
            .unwrap()
            .unwrap();
        if i % 3 == 0 {
            matches.insert(seq);
        }
    }
    done.store(true, Ordering::SeqCst);
    let rounds: Vec<(usize, usize)> = nodes.into_iter().map(|n| n.join().unwrap()).collect();
    let fired: Vec<i64> = setup
        .query("SELECT seq FROM fired ORDER BY seq", &[])
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(
        fired,
        matches.into_iter().collect::<Vec<_>>(),
        "each match once"
    );
    assert!(
        rounds.iter().filter(|(won, _)| *won > 0).count() > 1,
        "several nodes fired: {rounds:?}"
    );
    assert!(!setup.watchers_behind().unwrap());
}

//! Schedules, watchers, components and plugin load records on a real PostgreSQL database.

use std::path::PathBuf;

use serde_json::json;

use super::*;
use crate::PostgresBackend;
use crate::pulse::triggers::{ScheduleSpec, WatcherSpec, store::sync_plugin};
use crate::storage::{Components, Connection, FileKey, PluginLoads, Record};

fn db() -> (PostgresBackend, PostgresConnection) {
    let backend =
        PostgresBackend::open(&qntx_pgtest::shared().database(), crate::Options::default())
            .unwrap();
    let conn = backend.connection().unwrap();
    (backend, conn)
}

fn spec(handler: &str, interval_ms: i64) -> ScheduleSpec {
    ScheduleSpec {
        handler: handler.into(),
        interval_ms,
        enabled: true,
        payload: json!({ "n": 1 }),
    }
}

fn upsert(conn: &PostgresConnection, id: &str, spec: &ScheduleSpec, next_run_at: i64) {
    conn.schedule_upsert(&ScheduleUpsert {
        id,
        owner: "p",
        spec,
        next_run_at,
        now: 5,
    })
    .unwrap();
}

#[test]
fn a_schedule_keeps_its_next_run_and_pause_unless_its_interval_changes() {
    let (_backend, conn) = db();
    upsert(&conn, "s", &spec("p/h", 1000), 100);
    let stored = conn.schedule_get("s").unwrap().unwrap();
    assert_eq!(
        (stored.payload.clone(), stored.next_run_at, stored.enabled),
        (json!({ "n": 1 }), 100, true)
    );
    assert!(conn.schedule_set_enabled("s", false, 0).unwrap());
    upsert(&conn, "s", &spec("p/h2", 1000), 999);
    let same = conn.schedule_get("s").unwrap().unwrap();
    assert_eq!((same.handler.as_str(), same.next_run_at), ("p/h2", 100));
    assert!(!same.enabled, "a user's pause stays");
    upsert(&conn, "s", &spec("p/h2", 2000), 999);
    assert_eq!(conn.schedule_get("s").unwrap().unwrap().next_run_at, 999);
    assert!(conn.schedule_set_enabled("s", true, 4000).unwrap());
    assert_eq!(conn.schedule_get("s").unwrap().unwrap().next_run_at, 4000);
    assert!(!conn.schedule_set_enabled("nope", true, 1).unwrap());
}

#[test]
fn due_schedules_come_earliest_first_and_paused_ones_never() {
    let (_backend, conn) = db();
    for (id, next) in [("c", 30), ("a", 10), ("b", 20), ("late", 1000)] {
        upsert(&conn, id, &spec("p/h", 1000), next);
    }
    upsert(&conn, "paused", &spec("p/h", 1000), 5);
    conn.schedule_set_enabled("paused", false, 0).unwrap();
    let due: Vec<String> = conn
        .schedule_due(100, 10)
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(due, ["a", "b", "c"]);
    assert_eq!(conn.schedule_due(100, 2).unwrap().len(), 2);
    let ids: Vec<String> = conn
        .schedule_list()
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, ["a", "b", "c", "late", "paused"]);
}

#[test]
fn of_three_connections_advancing_one_schedule_exactly_one_wins() {
    let (backend, conn) = db();
    upsert(&conn, "s", &spec("p/h", 1000), 100);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(3));
    let racers: Vec<_> = (0..3)
        .map(|n| {
            let (backend, barrier) = (backend.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut conn = backend.connection().unwrap();
                let tx = conn.transaction().unwrap();
                barrier.wait();
                let job_id = format!("job-{n}");
                let won = tx
                    .schedule_advance(&ScheduleAdvance {
                        id: "s",
                        seen_next_run_at: 100,
                        next_run_at: 1100,
                        job_id: &job_id,
                        now: 100,
                    })
                    .unwrap();
                std::thread::sleep(std::time::Duration::from_millis(50));
                tx.commit().unwrap();
                won.then_some(job_id)
            })
        })
        .collect();
    let winners: Vec<String> = racers
        .into_iter()
        .filter_map(|r| r.join().unwrap())
        .collect();
    assert_eq!(winners.len(), 1, "{winners:?}");
    let stored = conn.schedule_get("s").unwrap().unwrap();
    assert_eq!(stored.next_run_at, 1100);
    assert_eq!(stored.last_job_id.as_deref(), Some(winners[0].as_str()));
    conn.schedule_record_job("s", "manual", 200).unwrap();
    assert_eq!(
        conn.schedule_get("s")
            .unwrap()
            .unwrap()
            .last_job_id
            .as_deref(),
        Some("manual")
    );
    assert!(conn.schedule_delete("s").unwrap());
    assert!(!conn.schedule_delete("s").unwrap());
}

#[test]
fn a_plugin_sync_keeps_cursors_and_prunes_what_it_no_longer_announces() {
    let (_backend, mut conn) = db();
    let watcher = |handler: &str| WatcherSpec {
        handler: handler.into(),
        filter: WatcherFilter {
            subjects: vec!["x".into()],
            ..WatcherFilter::default()
        },
        max_fires_per_second: 2.5,
        include_own_writes: false,
    };
    sync_plugin(
        &mut conn,
        "p",
        &[spec("p/a", 1000), spec("p/a", 1000)],
        &[watcher("p/w")],
        10,
    )
    .unwrap();
    let ids = |conn: &PostgresConnection| -> Vec<String> {
        conn.schedule_list()
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect()
    };
    assert_eq!(ids(&conn), ["p/a@1s", "p/a@1s~2"]);
    assert!(conn.watcher_advance("p/w#1", 0, 42, 11).unwrap());
    assert!(
        !conn.watcher_advance("p/w#1", 0, 43, 11).unwrap(),
        "moved already"
    );
    sync_plugin(
        &mut conn,
        "p",
        &[spec("p/a", 1000)],
        &[watcher("p/w"), watcher("p/v")],
        20,
    )
    .unwrap();
    assert_eq!(ids(&conn), ["p/a@1s"]);
    let watchers = conn.watcher_list().unwrap();
    assert_eq!(
        watchers
            .iter()
            .map(|w| (w.id.as_str(), w.cursor_seq))
            .collect::<Vec<_>>(),
        [("p/v#1", 0), ("p/w#1", 42)],
        "an existing watcher keeps its cursor"
    );
    assert_eq!(watchers[1].filter.subjects, ["x"]);
    assert_eq!(watchers[1].max_fires_per_second, 2.5);
    assert!(!watchers[1].include_own_writes);
    assert!(!conn.watchers_behind().unwrap(), "no attestations yet");
    let error = sync_plugin(&mut conn, "p", &[spec("p/b", 10)], &[], 30).unwrap_err();
    assert!(error.to_string().contains("1 s to 366 days"), "{error}");
    assert_eq!(ids(&conn), ["p/a@1s"], "a refused sync changes nothing");
    assert_eq!(conn.watcher_prune("p", &[]).unwrap(), 2);
}

#[test]
fn a_schedule_of_bad_values_is_refused_and_stores_nothing() {
    let (_backend, conn) = db();
    let error = conn
        .schedule_upsert(&ScheduleUpsert {
            id: "s",
            owner: "p",
            spec: &spec("p/h", 10),
            next_run_at: 1,
            now: 1,
        })
        .unwrap_err();
    assert!(matches!(error, storage::Error::Refused(_)), "{error}");
    assert!(conn.schedule_list().unwrap().is_empty());
}

#[test]
fn components_are_stored_once_by_sha256() {
    let (_backend, conn) = db();
    let sha = "ab".repeat(32);
    conn.component_put(&sha, b"\0wasm\xff", 1).unwrap();
    conn.component_put(&sha, b"other", 2).unwrap();
    assert_eq!(conn.component_get(&sha).unwrap().unwrap(), b"\0wasm\xff");
    assert_eq!(conn.component_count().unwrap(), 1);
    assert!(conn.component_get(&"cd".repeat(32)).unwrap().is_none());
    let error = conn.component_put("short", b"x", 1).unwrap_err();
    assert!(matches!(error, storage::Error::Refused(_)), "{error}");
    assert_eq!(conn.component_count().unwrap(), 1);
}

fn record(name: &str) -> Record {
    Record {
        path: PathBuf::from(format!("/plugins/{name}.wasm")),
        size: 123,
        name: Some(name.into()),
        version: Some("1.0.0".into()),
        description: None,
        handlers: vec![("h".into(), "does h".into())],
        notes: vec!["a note".into()],
        refusal: None,
        loaded_at: 9,
    }
}

#[test]
fn plugin_load_records_replace_older_ones_and_save_all_or_nothing() {
    let (_backend, conn) = db();
    let key = FileKey {
        sha256: "aa".repeat(32),
        manifest_sha256: String::new(),
    };
    conn.plugin_load_save(&key, &record("one")).unwrap();
    let newer = Record {
        refusal: Some("refused".into()),
        ..record("two")
    };
    conn.plugin_load_save(&key, &newer).unwrap();
    assert_eq!(conn.plugin_load_find(&key).unwrap(), Some(newer));
    let other = FileKey {
        sha256: "bb".repeat(32),
        manifest_sha256: "cc".repeat(32),
    };
    assert_eq!(conn.plugin_load_find(&other).unwrap(), None);
    let bad = FileKey {
        sha256: "bb".repeat(32),
        manifest_sha256: "short".into(),
    };
    let error = conn
        .plugin_load_save_all(&[(other.clone(), record("three")), (bad, record("four"))])
        .unwrap_err();
    assert!(matches!(error, storage::Error::Refused(_)), "{error}");
    assert_eq!(conn.plugin_load_find(&other).unwrap(), None, "nothing kept");
    conn.plugin_load_save_all(&[(other.clone(), record("three"))])
        .unwrap();
    assert_eq!(
        conn.plugin_load_find(&other).unwrap(),
        Some(record("three"))
    );
}

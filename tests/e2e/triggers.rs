//! Schedules and watchers on a manual clock, without guests: firing on time, no double fire
//! across restarts or nodes, pause, and watcher loops prevented or bounded.

use std::sync::Arc;
use std::time::Duration;

use qntx::ats::{self, NewAttestation};
use qntx::clock::ManualClock;
use qntx::pulse::triggers::{
    ScheduleSpec, Scheduler, WatcherFilter, WatcherSpec, Watchers, store, sync_plugin,
};
use qntx::pulse::{JobFilter, JobStatus, store as jobs};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::Connection;
use crate::database::{Database, TestConnection};

const START: i64 = 1_800_000_000_000;

struct Setup {
    _dir: TempDir,
    database: Database,
    clock: Arc<ManualClock>,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database = Database::new(dir.path());
        Connection::open(&database);
        Self {
            _dir: dir,
            database,
            clock: Arc::new(ManualClock::new(START)),
        }
    }

    /// A connection through the storage seam.
    fn store(&self) -> Connection {
        Connection::open(&self.database)
    }

    fn scheduler(&self) -> Scheduler {
        Scheduler::new(Box::new(self.store()), self.clock.clone())
    }

    fn watchers(&self) -> Watchers {
        Watchers::new(Box::new(self.store()), self.clock.clone())
    }

    fn now(&self) -> i64 {
        qntx::clock::Clock::now_ms(&*self.clock)
    }

    fn attest(&self, actor: &str, predicate: &str) -> String {
        let mut attestation = NewAttestation {
            subjects: vec!["thing".into()],
            predicates: vec![predicate.into()],
            actors: vec![actor.into()],
            source: "test".into(),
            ..NewAttestation::default()
        }
        .validate(&ats::Limits::default(), self.now())
        .unwrap();
        ats::store::insert(&self.store(), &mut attestation).unwrap();
        attestation.id
    }
}

fn every(seconds: i64) -> ScheduleSpec {
    ScheduleSpec {
        handler: "p/tick".into(),
        interval_ms: seconds * 1000,
        enabled: true,
        payload: json!({ "n": 1 }),
    }
}

#[test]
fn a_schedule_fires_on_time_once_and_not_again_after_a_restart() {
    let s = Setup::new();
    sync_plugin(&mut s.store(), "p", &[every(10)], &[], s.now()).unwrap();
    let mut scheduler = s.scheduler();
    assert!(
        scheduler.run_once().unwrap().enqueued.is_empty(),
        "not due yet"
    );
    s.clock.advance(Duration::from_secs(10));
    let fired = scheduler.run_once().unwrap().enqueued;
    assert_eq!(fired.len(), 1);
    let job = jobs::get(&s.store(), &fired[0]).unwrap();
    assert_eq!(
        (job.handler.as_str(), job.source.as_str()),
        ("p/tick", "schedule:p/tick@10s")
    );
    assert_eq!(job.payload, json!({ "n": 1 }));

    // The same moment again, and a restarted node (a new scheduler, the plugin synced again).
    assert!(scheduler.run_once().unwrap().enqueued.is_empty());
    sync_plugin(&mut s.store(), "p", &[every(10)], &[], s.now()).unwrap();
    assert!(
        s.scheduler().run_once().unwrap().enqueued.is_empty(),
        "no double fire"
    );

    // Due again while the first job is still queued: it waits for that job.
    s.clock.advance(Duration::from_secs(10));
    let report = scheduler.run_once().unwrap();
    assert_eq!((report.enqueued.len(), report.still_active), (0, 1));
    jobs::cancel(&s.store(), &fired[0], s.now()).unwrap();
    s.clock.advance(Duration::from_secs(10));
    assert_eq!(scheduler.run_once().unwrap().enqueued.len(), 1);
}

#[test]
fn two_nodes_fire_a_due_schedule_once() {
    let s = Setup::new();
    sync_plugin(&mut s.store(), "p", &[every(5)], &[], s.now()).unwrap();
    let (mut a, mut b) = (s.scheduler(), s.scheduler());
    s.clock.advance(Duration::from_secs(5));
    let fired = a.run_once().unwrap().enqueued.len() + b.run_once().unwrap().enqueued.len();
    assert_eq!(fired, 1);
}

#[test]
fn a_node_down_for_many_intervals_fires_once_not_a_burst() {
    let s = Setup::new();
    sync_plugin(&mut s.store(), "p", &[every(1)], &[], s.now()).unwrap();
    s.clock.advance(Duration::from_secs(3600));
    let mut scheduler = s.scheduler();
    assert_eq!(scheduler.run_once().unwrap().enqueued.len(), 1);
    let schedule = store::get_schedule(&s.store(), "p/tick@1s").unwrap();
    assert_eq!(schedule.next_run_at, s.now() + 1000);
}

#[test]
fn a_paused_schedule_does_not_fire_and_resumes_one_interval_later() {
    let s = Setup::new();
    let added = store::add_schedule(&s.store(), &every(60), s.now()).unwrap();
    assert_eq!(added.owner, "user");
    store::set_enabled(&s.store(), &added.id, false, s.now()).unwrap();
    let mut scheduler = s.scheduler();
    s.clock.advance(Duration::from_secs(600));
    assert!(scheduler.run_once().unwrap().enqueued.is_empty());
    store::set_enabled(&s.store(), &added.id, true, s.now()).unwrap();
    assert!(scheduler.run_once().unwrap().enqueued.is_empty());
    s.clock.advance(Duration::from_secs(60));
    assert_eq!(scheduler.run_once().unwrap().enqueued.len(), 1);
    // A plugin's schedule can be paused but not removed; a user's can.
    assert!(store::remove_schedule(&s.store(), &added.id).is_ok());
    assert!(store::get_schedule(&s.store(), &added.id).is_err());
}

#[test]
fn a_plugin_that_stops_announcing_a_schedule_loses_it_but_a_user_pause_survives_a_reload() {
    let s = Setup::new();
    sync_plugin(&mut s.store(), "p", &[every(10), every(20)], &[], s.now()).unwrap();
    store::set_enabled(&s.store(), "p/tick@10s", false, s.now()).unwrap();
    sync_plugin(&mut s.store(), "p", &[every(10)], &[], s.now()).unwrap();
    let schedules = store::list_schedules(&s.store()).unwrap();
    assert_eq!(schedules.len(), 1);
    assert!(
        !schedules[0].enabled,
        "the user's pause survives the plugin's reload"
    );
}

fn watcher(include_own_writes: bool, rate: f64) -> WatcherSpec {
    WatcherSpec {
        handler: "loop/react".into(),
        filter: WatcherFilter {
            predicates: vec!["ping".into()],
            ..WatcherFilter::default()
        },
        max_fires_per_second: rate,
        include_own_writes,
    }
}

#[test]
fn a_watcher_fires_once_per_matching_attestation_but_not_on_its_own_writes() {
    let s = Setup::new();
    s.attest("other", "ping"); // before the watcher existed: not fired
    sync_plugin(
        &mut s.store(),
        "loop",
        &[],
        &[watcher(false, 100.0)],
        s.now(),
    )
    .unwrap();
    let own = s.attest("plugin:loop", "ping");
    // A person (or handler) named like the plugin is not the plugin: their claim fires it.
    let person = s.attest("loop", "ping");
    let handler = s.attest("handler:loop", "ping");
    let theirs = s.attest("other", "ping");
    s.attest("other", "pong");
    let mut watchers = s.watchers();
    let report = watchers.run_once().unwrap();
    assert_eq!((report.examined, report.fired), (5, 3));
    assert_eq!(watchers.run_once().unwrap().fired, 0, "exactly once");
    let fired = jobs::list_all(&s.store(), &JobFilter::default().handler("loop/react")).unwrap();
    let mut ids: Vec<&Value> = fired.iter().map(|job| &job.payload["id"]).collect();
    ids.sort_by_key(|id| id.to_string());
    let mut expected = [json!(person), json!(handler), json!(theirs)];
    expected.sort_by_key(ToString::to_string);
    assert_eq!(ids, expected.iter().collect::<Vec<_>>());
    assert!(!ids.contains(&&json!(own)));
    assert!(fired.iter().all(|job| job.status == JobStatus::Queued));

    // A second node's watcher service sees the advanced cursor: nothing fires twice.
    s.attest("other", "ping");
    let (mut a, mut b) = (s.watchers(), s.watchers());
    assert_eq!(a.run_once().unwrap().fired + b.run_once().unwrap().fired, 1);
}

#[test]
fn a_watcher_that_asks_for_its_own_writes_is_bounded_by_its_rate() {
    let s = Setup::new();
    sync_plugin(&mut s.store(), "loop", &[], &[watcher(true, 2.0)], s.now()).unwrap();
    for _ in 0..10 {
        s.attest("plugin:loop", "ping");
    }
    let mut watchers = s.watchers();
    let report = watchers.run_once().unwrap();
    assert_eq!((report.fired, report.deferred), (2, 1));
    assert_eq!(
        watchers.run_once().unwrap().fired,
        0,
        "no tokens left this second"
    );
    s.clock.advance(Duration::from_secs(1));
    assert_eq!(watchers.run_once().unwrap().fired, 2);
    s.clock.advance(Duration::from_secs(10));
    assert_eq!(
        watchers.run_once().unwrap().fired,
        2,
        "a bucket holds one second's worth"
    );
    let fired = jobs::list_all(&s.store(), &JobFilter::default().handler("loop/react")).unwrap();
    assert_eq!(fired.len(), 6, "deferred matches are not lost, only later");
}

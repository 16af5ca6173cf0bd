//! Pulse's services on a real database file: the lease renewer and interrupter around a job a
//! real worker runs, the heartbeat, the store upkeep, and a node's maintainer rescuing a dead
//! node's job before it has finished starting.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use qntx::clock::{Clock, ManualClock};
use qntx::pulse::store::{self, ClaimParams};
use qntx::pulse::{
    AttemptIo, Execution, Failure, FailureKind, HandlerLimits, HeartbeatConfig, InFlight,
    Interrupter, InterrupterConfig, JobHandler, JobStatus, LeaseRenewer, Maintainer,
    MaintainerConfig, NewJob, NodeHeartbeat, Registered, Registry, RenewerConfig, Rescuer,
    RescuerConfig, RunningJob, Service, StoreUpkeep, UpkeepConfig, Wakeup, Worker, WorkerConfig,
    nodes,
};
use qntx::storage::{Backend, Pool};
use serde_json::json;

use crate::fixtures::Database;

const START: i64 = 1_700_000_000_000;
const LEASE: Duration = Duration::from_secs(30);
const OWNER: &str = "node-services";
const HANDLER: &str = "native/wait";

/// Runs until interrupted, then reports why.
struct WaitForInterrupt;

impl JobHandler for WaitForInterrupt {
    fn execute(&self, job: &RunningJob) -> Execution {
        let deadline = Instant::now() + Duration::from_secs(30);
        while job.interrupt.get().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        let why = job.interrupt.get().expect("interrupted within 30 s");
        let failure = Failure {
            message: "interrupted".into(),
            details: Vec::new(),
            kind: FailureKind::Interrupted(why),
        };
        Execution::failed(failure, "1.0.0")
    }
}

/// A database file, a clock moved by hand, and a registry serving [`HANDLER`].
struct Setup {
    _dir: tempfile::TempDir,
    backend: Arc<dyn Backend>,
    clock: Arc<ManualClock>,
    registry: Arc<Registry>,
    in_flight: Arc<InFlight>,
    wakeup: Arc<Wakeup>,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let backend = Database::new(dir.path()).open();
    let registry = Arc::new(Registry::new());
    registry.register(Registered {
        handler: HANDLER.into(),
        plugin: "native".into(),
        version: "1.0.0".into(),
        description: "Waits to be interrupted".into(),
        target: Arc::new(WaitForInterrupt),
    });
    Setup {
        _dir: dir,
        backend,
        clock: Arc::new(ManualClock::new(START)),
        registry,
        in_flight: Arc::default(),
        wakeup: Arc::default(),
    }
}

impl Setup {
    fn enqueue(&self) -> String {
        let conn = self.backend.connect().unwrap();
        store::enqueue(
            &**conn,
            &NewJob::new(HANDLER, json!({})),
            self.clock.now_ms(),
        )
        .unwrap()
        .id
    }

    fn status(&self, id: &str) -> JobStatus {
        store::get(&**self.backend.connect().unwrap(), id)
            .unwrap()
            .status
    }

    /// A worker of node [`OWNER`] on its own thread, claiming on the manual clock.
    fn worker(&self) -> JoinHandle<()> {
        let config = WorkerConfig {
            lease: LEASE,
            clock: self.clock.clone(),
            ..WorkerConfig::new(OWNER)
        };
        let worker = Worker::new(
            self.backend.connect().unwrap(),
            AttemptIo::pooled(&Pool::new(self.backend.clone(), 2)),
            self.registry.clone(),
            self.in_flight.clone(),
            self.wakeup.clone(),
            config,
        );
        let wakeup = self.wakeup.clone();
        std::thread::spawn(move || worker.run(&wakeup))
    }

    fn wait_for(&self, what: &str, done: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

#[test]
fn the_renewer_keeps_a_running_job_past_its_first_lease_and_the_interrupter_stops_it_when_cancelled()
 {
    let s = setup();
    let id = s.enqueue();
    let worker = s.worker();
    s.wait_for("the job runs", || s.in_flight.len() == 1);
    assert_eq!(s.status(&id), JobStatus::Running);

    let mut renewer = LeaseRenewer::new(
        s.backend.connect().unwrap(),
        s.in_flight.clone(),
        OWNER,
        s.clock.clone(),
        RenewerConfig { lease: LEASE },
    );
    assert_eq!(renewer.interval(), LEASE / 3);
    s.clock.advance(Duration::from_secs(20));
    let renewed = renewer.run_once().unwrap();
    assert_eq!((renewed.held, renewed.renewed), (1, 1));
    // Past the lease of the claim, within the renewed one: nothing to rescue.
    s.clock.advance(Duration::from_secs(20));
    let mut rescuer = Rescuer::new(
        s.backend.connect().unwrap(),
        s.clock.clone(),
        RescuerConfig::default(),
    );
    assert!(rescuer.run_once().unwrap().requeued.is_empty());

    let mut interrupter = Interrupter::new(
        s.backend.connect().unwrap(),
        s.in_flight.clone(),
        OWNER,
        InterrupterConfig::default(),
    );
    let quiet = interrupter.run_once().unwrap();
    assert_eq!((quiet.running, quiet.interrupted), (1, 0));
    store::cancel(&**s.backend.connect().unwrap(), &id, s.clock.now_ms()).unwrap();
    let cancelled = interrupter.run_once().unwrap();
    assert_eq!((cancelled.running, cancelled.interrupted), (1, 1));
    s.wait_for("the worker lets the job go", || s.in_flight.is_empty());
    assert_eq!(s.status(&id), JobStatus::Cancelled);
    let after = renewer.run_once().unwrap();
    assert_eq!((after.held, after.renewed), (0, 0));
    s.wakeup.stop();
    worker.join().unwrap();
}

#[test]
fn the_heartbeat_records_the_node_and_upkeep_finds_a_fresh_store_healthy() {
    let s = setup();
    let mut heartbeat = NodeHeartbeat::new(
        s.backend.connect().unwrap(),
        OWNER,
        s.registry.clone(),
        s.clock.clone(),
        HeartbeatConfig { lease: LEASE },
    );
    assert_eq!(heartbeat.run_once().unwrap().handlers, 1);
    let conn = s.backend.connect().unwrap();
    let record = nodes::get(&**conn, OWNER).unwrap().expect("recorded");
    assert_eq!((record.seen_at, record.lease_ms), (START, 30_000));
    assert_eq!(nodes::serving(&**conn, HANDLER, START).unwrap(), [OWNER]);

    let mut upkeep = StoreUpkeep::new(s.backend.connect().unwrap(), UpkeepConfig::default());
    assert_eq!(upkeep.interval(), Duration::from_secs(10));
    assert_eq!(upkeep.run_once().unwrap().warning, None);
}

#[test]
fn a_node_s_maintainer_rescues_a_dead_node_s_job_before_start_returns_and_stops_with_the_node() {
    let s = setup();
    let id = s.enqueue();
    let mut conn = s.backend.connect().unwrap();
    let claimed = store::claim(
        conn.as_mut(),
        &ClaimParams {
            handlers: &[HANDLER.into()],
            owner: "node-dead",
            lease_until: START + 1_000,
            limit: 1,
            limits: &HandlerLimits::new(),
            room: None,
            now: START,
        },
    )
    .unwrap();
    assert_eq!(claimed.jobs.len(), 1);
    s.clock.advance(Duration::from_secs(2));
    let config = MaintainerConfig {
        clock: s.clock.clone(),
        ..MaintainerConfig::new(OWNER, LEASE)
    };
    let maintainer = Maintainer::for_node(
        &*s.backend,
        s.registry.clone(),
        s.in_flight.clone(),
        s.wakeup.clone(),
        &config,
    )
    .unwrap();
    let before = s.wakeup.generation();
    let threads = maintainer.start().unwrap();
    assert_eq!(
        s.status(&id),
        JobStatus::Queued,
        "rescued by the first pass"
    );
    assert!(s.wakeup.generation() > before, "idle workers were woken");
    let record = nodes::get(&**conn, OWNER).unwrap().expect("heartbeat");
    assert_eq!(record.seen_at, s.clock.now_ms());
    assert_eq!(threads.len(), 3, "leases, services and the watch");
    s.wakeup.stop();
    for thread in threads {
        thread.join().unwrap();
    }
}

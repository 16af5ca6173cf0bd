//! The maintainer's timing, on a clock moved by hand, with probe services that count their
//! passes and fail when told.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use super::{Lane, Maintainer, Pass};
use crate::clock::ManualClock;
use crate::pulse::{Error, InFlight, Result, Service, ServiceReport, Wakeup};

const START: i64 = 1_700_000_000_000;

/// A service that counts its passes, fails while `failing` is set, and reports jobs made
/// runnable when `runnable` is set.
#[derive(Debug, Clone)]
struct Probe {
    name: &'static str,
    interval: Duration,
    drains: bool,
    runs: Arc<AtomicUsize>,
    failing: Arc<AtomicBool>,
    runnable: bool,
}

impl Probe {
    fn new(name: &'static str, interval_ms: u64) -> Self {
        Self {
            name,
            interval: Duration::from_millis(interval_ms),
            drains: false,
            runs: Arc::default(),
            failing: Arc::default(),
            runnable: false,
        }
    }

    fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }
}

#[derive(Debug)]
struct ProbeReport {
    runnable: bool,
}

impl ServiceReport for ProbeReport {
    fn made_runnable(&self) -> bool {
        self.runnable
    }
}

impl Service for Probe {
    type Report = ProbeReport;

    fn name(&self) -> &'static str {
        self.name
    }

    fn interval(&self) -> Duration {
        self.interval
    }

    fn while_draining(&self) -> bool {
        self.drains
    }

    fn run_once(&mut self) -> Result<ProbeReport> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        if self.failing.load(Ordering::SeqCst) {
            return Err(Error::Invalid(format!("{} was told to fail", self.name)));
        }
        Ok(ProbeReport {
            runnable: self.runnable,
        })
    }
}

fn ran(pass: &Pass) -> Vec<&'static str> {
    pass.ran.clone()
}

#[test]
fn each_service_runs_when_its_interval_has_passed_and_the_pass_says_when_the_next_is_due() {
    let (fast, slow) = (Probe::new("fast", 50), Probe::new("slow", 120));
    let mut lane = Lane::new("test").with(fast.clone()).with(slow.clone());
    let first = lane.pass(START, false);
    assert_eq!(ran(&first), ["fast", "slow"], "everything runs at once");
    assert_eq!(first.next_due, Some(START + 50));
    let early = lane.pass(START + 49, false);
    assert!(early.ran.is_empty() && early.failed.is_empty());
    assert_eq!(early.next_due, Some(START + 50));
    assert_eq!(ran(&lane.pass(START + 50, false)), ["fast"]);
    assert_eq!(ran(&lane.pass(START + 99, false)), Vec::<&str>::new());
    assert_eq!(ran(&lane.pass(START + 120, false)), ["fast", "slow"]);
    assert_eq!((fast.runs(), slow.runs()), (3, 2));
}

#[test]
fn a_failing_service_is_retried_at_its_next_interval_and_the_others_keep_running() {
    let (bad, good) = (Probe::new("bad", 100), Probe::new("good", 100));
    bad.failing.store(true, Ordering::SeqCst);
    let mut lane = Lane::new("test").with(bad.clone()).with(good.clone());
    let first = lane.pass(START, false);
    assert_eq!((first.failed, first.ran), (vec!["bad"], vec!["good"]));
    let between = lane.pass(START + 10, false);
    assert!(
        between.ran.is_empty() && between.failed.is_empty(),
        "not retried before its interval"
    );
    assert_eq!(bad.runs(), 1);
    let second = lane.pass(START + 100, false);
    assert_eq!((second.failed, second.ran), (vec!["bad"], vec!["good"]));
    bad.failing.store(false, Ordering::SeqCst);
    let healed = lane.pass(START + 200, false);
    assert_eq!((healed.failed, healed.ran), (vec![], vec!["bad", "good"]));
    assert_eq!((bad.runs(), good.runs()), (3, 3));
}

#[test]
fn while_draining_only_the_services_that_drain_run() {
    let mut renew = Probe::new("renew", 10);
    renew.drains = true;
    let rescue = Probe::new("rescue", 10);
    let mut lane = Lane::new("test").with(renew.clone()).with(rescue.clone());
    assert_eq!(ran(&lane.pass(START, true)), ["renew"]);
    assert_eq!(
        lane.pass(START + 5, true).next_due,
        Some(START + 10),
        "the others are not awaited"
    );
    assert_eq!((renew.runs(), rescue.runs()), (1, 0));
}

#[test]
fn a_clock_set_back_does_not_stall_a_service() {
    let renew = Probe::new("renew", 10_000);
    let mut lane = Lane::new("test").with(renew.clone());
    lane.pass(START, false);
    assert_eq!(ran(&lane.pass(START - 60_000, false)), ["renew"]);
    assert_eq!(renew.runs(), 2);
}

#[test]
fn a_pass_that_made_jobs_runnable_wakes_the_workers() {
    let mut firing = Probe::new("firing", 100);
    firing.runnable = true;
    let (in_flight, wakeup) = (Arc::new(InFlight::default()), Arc::new(Wakeup::default()));
    let clock = Arc::new(ManualClock::new(START));
    let mut maintainer = Maintainer::new(in_flight, wakeup.clone())
        .with_timer(clock.clone())
        .with_lane(Lane::new("quiet").with(Probe::new("quiet", 100)))
        .with_lane(Lane::new("firing").with(firing));
    let before = wakeup.generation();
    let passes = maintainer.run_once();
    assert_eq!(passes.len(), 2);
    assert!(!passes[0].made_runnable && passes[1].made_runnable);
    assert_eq!(wakeup.generation(), before + 1);
    clock.advance(Duration::from_millis(10));
    maintainer.run_once();
    assert_eq!(wakeup.generation(), before + 1, "nothing ran, nobody woken");
}

#[test]
fn start_runs_one_pass_before_it_returns_and_the_threads_end_at_shutdown() {
    let (once, often) = (Probe::new("once", 60_000), Probe::new("often", 1));
    let (in_flight, wakeup) = (Arc::new(InFlight::default()), Arc::new(Wakeup::default()));
    let threads = Maintainer::new(in_flight, wakeup.clone())
        .with_lane(Lane::new("test-a").with(once.clone()))
        .with_lane(Lane::new("test-b").with(often.clone()))
        .start()
        .unwrap();
    assert_eq!(threads.len(), 2);
    assert!(
        once.runs() >= 1 && often.runs() >= 1,
        "a pass before start returned"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while often.runs() < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "the lane's thread runs it again"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    wakeup.stop();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(once.runs(), 1, "not due again within a minute");
}

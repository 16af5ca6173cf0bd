//! `qntx run` as separate processes on one database: started, killed with SIGKILL, or waited
//! for (`--until-idle`).

use std::process::{Child, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use qntx::pulse::{JobStatus, NewJob, store};
use serde_json::json;

use crate::fixtures::Env;

/// A `qntx run` child process, its stderr collected on a thread (a full pipe would block it).
pub struct NodeProcess {
    pub(crate) child: Child,
    stderr: Option<JoinHandle<String>>,
}

impl NodeProcess {
    /// `qntx run ARGS` on `env`'s data directory and database.
    pub fn spawn(env: &Env, args: &[&str]) -> Self {
        let mut child = env
            .qntx()
            .arg("run")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("qntx run starts");
        let mut pipe = child.stderr.take().expect("stderr is piped");
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut pipe, &mut text);
            text
        });
        Self {
            child,
            stderr: Some(stderr),
        }
    }

    /// SIGKILL: the node stops at once, leaving its claims to be rescued.
    pub fn kill(mut self) -> String {
        self.child.kill().expect("SIGKILL");
        self.child.wait().unwrap();
        self.output()
    }

    /// Wait (at most 5 minutes) for the process to exit successfully; its stderr.
    pub fn wait(mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let stderr = self.output();
                assert!(status.success(), "qntx run failed: {status}\n{stderr}");
                return stderr;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("qntx run did not finish: {}", self.output());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What the process wrote to stderr (once it has exited).
    pub(crate) fn output(&mut self) -> String {
        self.stderr
            .take()
            .map(|thread| thread.join().unwrap())
            .unwrap_or_default()
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        if self.child.try_wait().unwrap().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// How many jobs have `status`.
pub fn count(env: &Env, status: JobStatus) -> usize {
    store::list_all(
        &env.store(),
        &qntx::pulse::JobFilter::default().status(status),
    )
    .unwrap()
    .len()
}

/// `sleepers` jobs of `sleep_ms` first (priority 10; each attests `slept` as it completes), then
/// `attests` jobs that each attest once: jobs surely running when a node dies, and one
/// attestation per completed job.
pub fn sleepers_then_attests(sleepers: usize, sleep_ms: u64, attests: usize) -> Vec<NewJob> {
    let sleep = (0..sleepers).map(|i| NewJob {
        priority: 10,
        ..NewJob::new(
            "probe/sleep",
            json!({ "ms": sleep_ms, "subject": format!("sleeper-{i}") }),
        )
    });
    let attest = (0..attests).map(|i| {
        NewJob::new(
            "probe/attest",
            json!({ "n": 1, "subject": format!("job-{i}") }),
        )
    });
    sleep.chain(attest).collect()
}

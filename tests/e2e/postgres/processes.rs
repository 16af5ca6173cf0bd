//! `qntx run` as separate processes on one database: started, found by their record in the
//! `nodes` table, stopped with SIGTERM or killed with SIGKILL.

use std::process::{Child, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use qntx::pulse::{JobStatus, nodes, store};

use crate::fixtures::{Env, eventually};

/// A `qntx run` child process, its stderr collected on a thread (a full pipe would block it).
pub struct NodeProcess {
    child: Child,
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

    /// The node's id, once it serves `handler` (found by its pid among the serving nodes).
    pub fn id(&mut self, env: &Env, handler: &str) -> String {
        let pid = self.child.id();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let conn = env.store();
            let serving = nodes::serving(&conn, handler, qntx::clock::now_ms()).unwrap();
            let found = serving.into_iter().find(|id| {
                nodes::get(&conn, id)
                    .unwrap()
                    .is_some_and(|record| record.pid == pid)
            });
            if let Some(id) = found {
                return id;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "qntx run exited ({status}) before serving {handler}: {}",
                    self.output()
                );
            }
            assert!(Instant::now() < deadline, "qntx run never served {handler}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the process still runs.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// SIGKILL: the node stops at once, leaving its claims to be rescued.
    pub fn kill(mut self) -> String {
        self.child.kill().expect("SIGKILL");
        self.child.wait().unwrap();
        self.output()
    }

    /// SIGTERM, then wait for a clean exit; its stderr.
    pub fn stop(self) -> String {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM failed");
        self.wait()
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

    fn output(&mut self) -> String {
        self.stderr
            .take()
            .map(|thread| thread.join().unwrap())
            .unwrap_or_default()
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        if self.running() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Wait (at most `limit`) until no job of `handlers` is runnable or running.
pub fn wait_drained(env: &Env, handlers: &[&str], limit: Duration) {
    let handlers: Vec<String> = handlers.iter().map(|&h| h.to_owned()).collect();
    let deadline = Instant::now() + limit;
    let conn = env.store();
    loop {
        let activity = store::activity(&conn, &handlers, qntx::clock::now_ms()).unwrap();
        if activity.runnable == 0 && activity.running == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "jobs of {handlers:?} still active after {limit:?}: {activity:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// How many jobs have `status`.
pub fn count(env: &Env, status: JobStatus) -> usize {
    store::list(&env.store(), Some(status), None, u32::MAX)
        .unwrap()
        .len()
}

/// Wait until job `id` runs; the id of the node running it.
pub fn running_on(env: &Env, id: &str) -> String {
    eventually("the job runs", || {
        let job = env.job(id);
        (job.status == JobStatus::Running)
            .then(|| job.nodes.last().map(|n| n.node.clone()))
            .flatten()
    })
}

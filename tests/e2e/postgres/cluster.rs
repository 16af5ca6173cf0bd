//! Nodes on one PostgreSQL database, seen from outside: a `qntx run` process found by its
//! record in the `nodes` table, stopped with SIGTERM; the queue drained; where a job runs.

use std::time::{Duration, Instant};

use qntx::pulse::{JobStatus, nodes, store};

use crate::fixtures::{Env, eventually};
use crate::processes::NodeProcess;

impl NodeProcess {
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

    /// SIGTERM, then wait for a clean exit; its stderr.
    pub fn stop(self) -> String {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM failed");
        self.wait()
    }
}

/// Wait (at most `limit`) until no job of `handlers` is runnable or running.
pub fn wait_drained(env: &Env, handlers: &[&str], limit: Duration) {
    drained(env, handlers, limit).unwrap_or_else(|why| panic!("{why}"));
}

/// [`wait_drained`], saying what is still active when `limit` has passed.
pub fn drained(env: &Env, handlers: &[&str], limit: Duration) -> Result<(), String> {
    let handlers: Vec<String> = handlers.iter().map(|&h| h.to_owned()).collect();
    let deadline = Instant::now() + limit;
    let conn = env.store();
    loop {
        let activity = store::activity(&conn, &handlers, qntx::clock::now_ms()).unwrap();
        if activity.runnable == 0 && activity.running == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "jobs of {handlers:?} still active after {limit:?}: {activity:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
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

//! Database faults under a running node: an outcome the database refuses fails that job alone,
//! a writer holding the lock past the busy timeout delays a commit without losing it, a
//! database file that turns read-only makes `wait_until_idle` give up with the file and the OS
//! error named (and the job is rescued once the file is writable), and a full disk
//! (`RLIMIT_FSIZE` in the node's process) fails the job with the cause instead of leaving it
//! `running`; commands on a database they cannot write name the file and the OS error.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use qntx::node::Node;
use qntx::pulse::{JobStatus, NewJob};
use serde_json::json;

use crate::fixtures::{Env, guests, run};

fn wait_running(env: &Env, id: &str) {
    let started = Instant::now();
    while env.job(id).status != JobStatus::Running {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "job {id} never ran"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn an_outcome_the_database_refuses_fails_its_job_alone_and_the_batch_commits() {
    let env = Env::with_plugins(&[&guests().probe]);
    env.store()
        .sql()
        .execute_batch(
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON attestations \
             WHEN NEW.subjects LIKE '%poison%' \
             BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END",
        )
        .unwrap();
    let ids: Vec<String> = (0..40)
        .map(|i| {
            let subject = if i == 20 {
                "poison".to_owned()
            } else {
                format!("fine-{i}")
            };
            env.enqueue_job(&NewJob {
                max_attempts: 1,
                ..NewJob::new("probe/attest", json!({ "subject": subject, "n": 2 }))
            })
        })
        .collect();
    let node = env.start();
    node.notify();
    node.wait_until_idle().expect("every outcome is committed");
    for (i, id) in ids.iter().enumerate() {
        let job = env.job(id);
        if i == 20 {
            assert_eq!(job.status, JobStatus::Failed, "{job:?}");
            let error = job.error.unwrap();
            assert!(
                error.contains("storing the outcome of 'probe/attest'")
                    && error.contains("refused by a test trigger"),
                "{error}"
            );
        } else {
            assert_eq!(job.status, JobStatus::Completed, "job {i}: {job:?}");
        }
    }
    let stored = qntx::storage::Attestations::attestation_count(&env.store()).unwrap();
    assert_eq!(stored, 39 * 2, "the other jobs' attestations are stored");
}

#[test]
fn a_writer_holding_the_lock_past_the_busy_timeout_delays_a_commit_without_losing_it() {
    let env = Env::with_plugins(&[&guests().probe]);
    let mut config = env.config();
    config.busy_timeout = Duration::from_millis(200);
    let node = Node::start(config).unwrap();
    let id = env.enqueue_job(&NewJob {
        max_attempts: 1,
        ..NewJob::new("probe/busy", json!({ "ms": 300 }))
    });
    node.notify();
    wait_running(&env, &id);
    let holder = env.store();
    holder.sql().execute_batch("BEGIN IMMEDIATE").unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    holder.sql().execute_batch("COMMIT").unwrap();
    node.wait_until_idle().unwrap();
    let job = env.job(&id);
    assert_eq!(
        (job.status, job.attempt),
        (JobStatus::Completed, 1),
        "{job:?}"
    );
}

/// Makes files immutable (`chattr +i`: even open descriptors may not write) until dropped.
struct Immutable(Vec<PathBuf>);

impl Immutable {
    /// `None` when `chattr` cannot do it here (not root, or a file system without the flag).
    fn set(files: &[PathBuf]) -> Option<Self> {
        let ok = Command::new("chattr")
            .arg("+i")
            .args(files)
            .status()
            .is_ok_and(|status| status.success());
        ok.then(|| Self(files.to_vec()))
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").args(&self.0).status();
    }
}

#[test]
fn a_database_that_turns_read_only_is_reported_and_its_running_job_is_rescued_later() {
    let env = Env::with_plugins(&[&guests().probe]);
    let mut config = env.config();
    config.worker.lease = Duration::from_secs(1);
    let node = Node::start(config).unwrap();
    let id = env.enqueue_job(&NewJob::new("probe/busy", json!({ "ms": 500 })));
    node.notify();
    wait_running(&env, &id);
    let db = env.data_dir().join("qntx.db");
    let wal = env.data_dir().join("qntx.db-wal");
    let Some(guard) = Immutable::set(&[db.clone(), wal]) else {
        crate::fixtures::skip_or_fail("chattr +i is not available here");
        return;
    };
    let started = Instant::now();
    let error = node
        .wait_until_idle()
        .expect_err("a node that cannot write does not wait forever");
    let text = error.to_string();
    eprintln!("after {:?}: {text}", started.elapsed());
    assert!(
        text.contains(&format!("database '{}'", db.display())) && text.contains("os error"),
        "{text}"
    );
    assert_eq!(
        env.job(&id).status,
        JobStatus::Running,
        "nothing could be written"
    );
    drop(guard);
    // Writable again: the lease was not renewed, so the rescuer requeues the job and it runs.
    let job = env.wait_final(&id);
    assert_eq!(
        (job.status, job.attempt),
        (JobStatus::Completed, 2),
        "{job:?}"
    );
    assert_eq!(job.nodes.len(), 2, "{:?}", job.nodes);
    node.shutdown(Duration::from_secs(1));
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

#[test]
fn a_full_disk_fails_the_job_with_the_cause_and_run_until_idle_exits() {
    let env = Env::with_plugins(&[&guests().probe]);
    // A first run compiles the plugin into the cache and creates the database.
    let warm = env.enqueue("probe/ok", json!({}));
    let (code, _, stderr) = run(env.qntx().args(["run", "--until-idle"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(env.job(&warm).status, JobStatus::Completed);
    let id = env.enqueue_job(&NewJob {
        max_attempts: 1,
        ..NewJob::new(
            "probe/attest",
            json!({ "subject": "big", "n": 300, "pad": 20000 }),
        )
    });
    let biggest = [
        env.data_dir().join("qntx.db"),
        env.data_dir().join("qntx.db-wal"),
        env.data_dir().join("qntx.db-shm"),
    ]
    .iter()
    .map(|p| file_len(p))
    .max()
    .unwrap();
    // Room for the node's small writes, not for 6 MB of attestations. SIGXFSZ is ignored, so
    // a write past the limit fails with EFBIG, as on a full disk.
    let blocks = (biggest + (2 << 20)) / 512 + 1;
    let started = Instant::now();
    let (code, _, stderr) = run(Command::new("sh")
        .arg("-c")
        .arg(format!("trap '' XFSZ; ulimit -f {blocks}; exec \"$@\""))
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_qntx"))
        .arg("--data-dir")
        .arg(env.data_dir())
        .args(["run", "--until-idle", "--lease", "2s"]));
    eprintln!("qntx run exited {code} after {:?}", started.elapsed());
    assert!(
        !stderr.contains("\u{1b}["),
        "no colour codes in a log that is not a terminal"
    );
    let job = env.job(&id);
    assert_ne!(job.status, JobStatus::Running, "{job:?}\n{stderr}");
    assert_eq!(job.status, JobStatus::Failed, "{job:?}\n{stderr}");
    let error = job.error.unwrap();
    assert!(
        error.contains("storing the outcome of 'probe/attest' failed")
            && error.contains("qntx.db'")
            && error.contains("os error 27"),
        "{error}\n{stderr}"
    );
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn commands_on_a_database_they_cannot_write_name_the_file_and_the_os_error() {
    let env = Env::with_plugins(&[]);
    let (code, _, stderr) = run(env.qntx().args(["as", "alice", "is", "tester"]));
    assert_eq!(code, 0, "{stderr}");
    let db = env.data_dir().join("qntx.db");
    let Some(guard) = Immutable::set(std::slice::from_ref(&db)) else {
        crate::fixtures::skip_or_fail("chattr +i is not available here");
        return;
    };
    for command in [
        &["as", "bob", "is", "tester"][..],
        &["budget", "set", "--daily", "5"],
    ] {
        let (code, _, stderr) = run(env.qntx().args(command));
        assert_eq!(code, 2, "{command:?}: {stderr}");
        assert!(
            stderr.starts_with(&format!("qntx: database '{}': ", db.display()))
                && stderr.contains("SQLITE_READONLY")
                && stderr.contains("Operation not permitted (os error 1)"),
            "{command:?}: {stderr}"
        );
    }
    drop(guard);
    let (code, shown, stderr) = run(env.qntx().args(["ax", "--json"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        shown.lines().count(),
        1,
        "only alice's attestation: {shown}"
    );
    assert!(shown.contains("alice"), "{shown}");
}

//! Shared test setup: guest components built once, data directories, nodes and CLI runs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use qntx::node::{Node, NodeConfig};
use qntx::pulse::{Job, JobStatus, NewJob, store};
use qntx::toolchain::{BuildOptions, build_crate};
use serde_json::{Value, json};
use tempfile::TempDir;

/// The guest components, compiled from source in this repository.
pub struct Guests {
    /// `plugins/text`.
    pub text: PathBuf,
    /// `tests/guests/probe`.
    pub probe: PathBuf,
    /// `tests/guests/otherworld`: a component of another WIT world.
    pub otherworld: PathBuf,
    /// `plugins/code`.
    pub code: PathBuf,
    /// `plugins/upkeep`.
    pub upkeep: PathBuf,
    /// `tests/guests/announcer`: announces what its manifest and environment say.
    pub announcer: PathBuf,
    /// `tests/guests/bare`: wit-bindgen alone, no SDK, from `wit/plugin.wit`.
    pub bare: PathBuf,
    /// `tests/guests/legacy`: built against `qntx:plugin@0.1.0`.
    pub legacy: PathBuf,
    /// `tests/guests/hostile`: waits and floods only the host can stop.
    pub hostile: PathBuf,
    /// `tests/guests/hostile/memories.wat`, assembled: a component with nine memories.
    pub memories: Vec<u8>,
    /// `tests/guests/swarm`: jobs hostile to the queue.
    pub swarm: PathBuf,
}

/// Build every guest once per test process (cargo makes later processes' builds no-ops).
pub fn guests() -> &'static Guests {
    static GUESTS: OnceLock<Guests> = OnceLock::new();
    GUESTS.get_or_init(|| {
        let root = workspace_root();
        // A target directory of its own: the one running this test may be locked by cargo.
        let options = BuildOptions {
            target_dir: Some(Path::new(env!("CARGO_TARGET_TMPDIR")).join("guests")),
        };
        let build = |dir: &str| {
            build_crate(&root.join(dir), &options)
                .unwrap_or_else(|e| panic!("building {dir}: {}", qntx::error_chain(&e)))
                .wasm
        };
        Guests {
            text: build("plugins/text"),
            probe: build("tests/guests/probe"),
            otherworld: build("tests/guests/otherworld"),
            code: build("plugins/code"),
            upkeep: build("plugins/upkeep"),
            announcer: build("tests/guests/announcer"),
            bare: build("tests/guests/bare"),
            legacy: build("tests/guests/legacy"),
            hostile: build("tests/guests/hostile"),
            memories: wat::parse_file(root.join("tests/guests/hostile/memories.wat"))
                .unwrap_or_else(|e| panic!("assembling memories.wat: {e}")),
            swarm: build("tests/guests/swarm"),
        }
    })
}

/// The repository root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ has a parent")
        .to_owned()
}

pub use crate::database::Database;

/// A temporary data directory with some plugins installed, and this target's database.
pub struct Env {
    dir: TempDir,
    database: Database,
}

impl Env {
    /// A data directory whose plugin directory holds copies of `plugins`.
    pub fn with_plugins(plugins: &[&Path]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = Database::new(dir.path());
        Self::on(dir, database, plugins)
    }

    /// The data directory `dir` with `plugins`, on `database`.
    pub fn on(dir: TempDir, database: Database, plugins: &[&Path]) -> Self {
        let env = Self { dir, database };
        std::fs::create_dir_all(env.plugin_dir()).expect("plugin dir");
        for plugin in plugins {
            env.install(
                plugin,
                &format!("{}", plugin.file_name().unwrap().to_string_lossy()),
            );
        }
        env
    }

    /// Copy a file into the plugin directory under `name`.
    pub fn install(&self, file: &Path, name: &str) {
        std::fs::copy(file, self.plugin_dir().join(name)).expect("copy plugin");
    }

    /// Write bytes into the plugin directory as `name`.
    pub fn install_bytes(&self, bytes: &[u8], name: &str) {
        std::fs::write(self.plugin_dir().join(name), bytes).expect("write plugin");
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn plugin_dir(&self) -> PathBuf {
        self.dir.path().join("plugins")
    }

    /// Node settings for tests: short retry delays and polls.
    pub fn config(&self) -> NodeConfig {
        let mut config = NodeConfig::new(self.data_dir().to_owned(), vec![self.plugin_dir()]);
        config.workers = 2;
        config.runtime.max_instances = 16;
        config.worker.retry_base = Duration::from_millis(20);
        config.worker.poll_interval = Duration::from_millis(10);
        config
    }

    /// The database of this environment.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// Start a node on this data directory.
    pub fn start(&self) -> Node {
        self.start_with(self.config()).expect("node starts")
    }

    /// Start a node with `config` on this environment's database.
    pub fn start_with(&self, config: NodeConfig) -> Result<Node, qntx::node::Error> {
        self.database.start(config)
    }

    /// Write the manifest of the plugin file `<stem>.wasm`.
    pub fn manifest(&self, stem: &str, toml: &str) {
        std::fs::write(self.plugin_dir().join(format!("{stem}.toml")), toml).expect("manifest");
    }

    /// Run a job with one attempt to its final state, then check that the node still runs a
    /// good job; return the first job.
    pub fn run_then_good(&self, node: &Node, job: NewJob) -> Job {
        let id = self.enqueue_job(&NewJob {
            max_attempts: 1,
            ..job
        });
        node.notify();
        let job = self.wait_final(&id);
        let next = self.enqueue("probe/ok", serde_json::json!({ "after": job.handler }));
        node.notify();
        let next = self.wait_final(&next);
        assert_eq!(
            next.status,
            qntx::pulse::JobStatus::Completed,
            "the node still runs jobs after {job:?}: {next:?}"
        );
        job
    }

    /// Why the node refused each plugin file, sorted, with this plugin directory left out of
    /// the paths.
    pub fn refusals(&self, node: &Node) -> Vec<String> {
        let dir = format!("{}/", self.plugin_dir().display());
        let mut reasons: Vec<String> = node
            .refused()
            .iter()
            .map(|e| qntx::error_chain(e).replace(&dir, ""))
            .collect();
        reasons.sort();
        reasons
    }

    /// A connection to the node's store through the storage seam, of this target's backend.
    pub fn store(&self) -> crate::Connection {
        self.database.connect()
    }

    /// Enqueue a job with default settings.
    pub fn enqueue(&self, handler: &str, payload: Value) -> String {
        self.enqueue_job(&NewJob::new(handler, payload))
    }

    pub fn enqueue_job(&self, job: &NewJob) -> String {
        store::enqueue(&self.store(), job, qntx::clock::now_ms())
            .expect("enqueue")
            .id
    }

    pub fn job(&self, id: &str) -> Job {
        job_on(&self.store(), id)
    }

    /// `qntx --data-dir <this>` ready for arguments, on this environment's database. A
    /// `qntx run` serves HTTP on a free port ([`FREE_PORT`]), so that nodes of tests running
    /// at once never contend for the default one.
    pub fn qntx(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_qntx"));
        command.arg("--data-dir").arg(self.data_dir());
        command
            .env_remove("QNTX_DATA_DIR")
            .env_remove("QNTX_PLUGINS")
            .env("QNTX_HTTP", FREE_PORT);
        self.database.apply(&mut command);
        command
    }
}

/// `QNTX_HTTP` for test nodes: loopback, a port the system picks.
pub const FREE_PORT: &str = "127.0.0.1:0";

/// The job `id` as `conn` reads it.
fn job_on(conn: &crate::Connection, id: &str) -> Job {
    store::get(conn, id).expect("job exists")
}

/// Run a command; return its exit code, stdout and stderr.
pub fn run(command: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("command runs");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

impl Env {
    /// The log of a job; for a finished job, complete (the worker writes an attempt's log in the
    /// transaction that records its outcome).
    pub fn final_logs(&self, id: &str) -> Vec<(i64, qntx::pulse::LogLine)> {
        store::logs(&self.store(), id, 0).expect("logs")
    }

    /// Wait until the job reaches a final status (at most 60 s) and return it.
    pub fn wait_final(&self, id: &str) -> Job {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let conn = self.store();
        loop {
            let job = job_on(&conn, id);
            if job.status.is_final() {
                return job;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "job {id} did not finish: {job:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Poll `check` every 10 ms until it returns `Some`, failing after 60 s (a hang, not a timing).
pub fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never happened: {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Skip a test whose tool is missing on a developer's machine; in CI (`CI` set), where every
/// tool must be installed, fail it instead.
pub fn skip_or_fail(reason: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{reason} (in CI a missing tool fails the test)"
    );
    eprintln!("SKIPPED: {reason}");
}

/// Enqueue → completed of `count` `probe/ok` jobs on `node`, one after another (polling every
/// 2 ms); the median.
pub fn median_ok_latency(env: &Env, node: &Node, count: usize) -> Duration {
    let mut took: Vec<Duration> = (0..count)
        .map(|i| {
            let started = Instant::now();
            let id = env.enqueue("probe/ok", json!({ "i": i }));
            node.notify();
            loop {
                let job = env.job(&id);
                if job.status.is_final() {
                    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
                    break started.elapsed();
                }
                assert!(
                    started.elapsed() < Duration::from_secs(60),
                    "probe/ok never ran"
                );
                std::thread::sleep(Duration::from_millis(2));
            }
        })
        .collect();
    took.sort();
    took[count / 2]
}

/// The hostile median over the idle median (at least 5 ms, the polling's resolution).
pub fn latency_ratio(idle: Duration, hostile: Duration) -> f64 {
    hostile.as_secs_f64() / idle.max(Duration::from_millis(5)).as_secs_f64()
}

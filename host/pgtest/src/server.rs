//! One PostgreSQL server in a temporary directory on a free loopback port.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::Binaries;

/// The superuser of every test server, and its password (password authentication is on, so
/// that a wrong password is refused as it would be in production).
const USER: &str = "qntx";
const PASSWORD: &str = "qntx-test";

/// How long a server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running server. Dropping it (or ending the process) stops it and removes its directory.
#[derive(Debug)]
pub struct Server {
    binaries: Binaries,
    dir: PathBuf,
    port: u16,
    durability: Durability,
    running: Mutex<Option<Running>>,
    databases: AtomicU32,
}

/// Whether the server keeps commits through a crash of the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `fsync`, `synchronous_commit` and `full_page_writes` off: fast, for tests, whose data
    /// dies with them anyway.
    Off,
    /// PostgreSQL's defaults: what a production server runs, for benchmarks.
    On,
}

impl Durability {
    /// The `postgres -c` settings.
    fn settings(self) -> &'static str {
        match self {
            Self::Off => "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            Self::On => "-c fsync=on -c synchronous_commit=on -c full_page_writes=on",
        }
    }
}

/// The shell that keeps the server: it stops the server when its stdin closes.
#[derive(Debug)]
struct Running {
    keeper: Child,
    stdin: ChildStdin,
}

impl Server {
    /// Initialise a new cluster in a temporary directory and start it, without durability
    /// (for tests).
    ///
    /// # Errors
    ///
    /// Why the server could not be found, installed, initialised or started, with its log.
    pub fn start() -> Result<Self, String> {
        Self::start_with(Durability::Off)
    }

    /// [`Self::start`] with the durability asked for.
    ///
    /// # Errors
    ///
    /// As [`Self::start`].
    pub fn start_with(durability: Durability) -> Result<Self, String> {
        let binaries = Binaries::find_or_install()?;
        let dir = tempfile::Builder::new()
            .prefix("qntx-pg-")
            .tempdir()
            .map_err(|e| format!("creating the server's directory: {e}"))?
            .keep();
        if let Some((uid, gid)) = binaries.run_as {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
                .map_err(|e| format!("handing {} to the server's user: {e}", dir.display()))?;
        }
        let server = Self {
            binaries,
            port: free_port()?,
            dir,
            durability,
            running: Mutex::new(None),
            databases: AtomicU32::new(0),
        };
        server.init()?;
        server.resume()?;
        Ok(server)
    }

    /// The settings the server runs with beyond PostgreSQL's defaults, for reports.
    pub fn settings(&self) -> String {
        format!(
            "{} -c max_connections=400 -c shared_buffers=128MB",
            self.durability.settings()
        )
    }

    /// The port the server listens on, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A URL of database `name` on this server, as the superuser.
    pub fn url(&self, name: &str) -> String {
        format!(
            "postgres://{USER}:{PASSWORD}@127.0.0.1:{}/{name}",
            self.port
        )
    }

    /// A new, empty database of its own; its URL.
    ///
    /// # Panics
    ///
    /// When the server does not create it.
    pub fn database(&self) -> String {
        let n = self.databases.fetch_add(1, Ordering::Relaxed);
        let name = format!("qntx_test_{}_{n}", std::process::id());
        let output = self
            .client("createdb")
            .arg(&name)
            .output()
            .unwrap_or_else(|e| panic!("running createdb: {e}"));
        assert!(
            output.status.success(),
            "createdb {name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        self.url(&name)
    }

    /// Stop the server (fast shutdown: sessions are ended), keeping its data.
    ///
    /// # Panics
    ///
    /// When the server does not stop within a minute.
    pub fn stop(&self) {
        let Some(Running {
            mut keeper,
            mut stdin,
        }) = self.lock().take()
        else {
            return;
        };
        let _ = stdin.write_all(b"keep\n");
        drop(stdin);
        let deadline = Instant::now() + START_TIMEOUT;
        while keeper.try_wait().ok().flatten().is_none() {
            assert!(Instant::now() < deadline, "the test server did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Start the server again after [`Self::stop`], on the same port with the same data.
    ///
    /// # Errors
    ///
    /// Why it did not start, with its log.
    pub fn resume(&self) -> Result<(), String> {
        let mut running = self.lock();
        if running.is_some() {
            return Ok(());
        }
        let data = self.data_dir();
        let log = self.dir.join("server.log");
        // The keeper shell runs the server in the background and waits for its stdin to close
        // (the test process ended) or for `stop`'s "keep": then it asks for a fast shutdown,
        // waits for the server to exit and, unless told to keep it, removes the directory.
        let script = r#"
            # $5 is unquoted on purpose: it is several -c settings.
            "$0" -D "$1" -p "$2" -k "$3" -c listen_addresses=127.0.0.1 $5 \
                -c max_connections=400 -c shared_buffers=128MB >>"$4" 2>&1 &
            pid=$!
            read -r word
            kill -INT "$pid" 2>/dev/null
            wait "$pid"
            [ "$word" = keep ] || rm -rf "$3"
        "#;
        let mut keeper = self
            .binaries_shell(script)
            .arg(self.binaries.bin.join("postgres"))
            .arg(&data)
            .arg(self.port.to_string())
            .arg(&self.dir)
            .arg(&log)
            .arg(self.durability.settings())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting the test server: {e}"))?;
        let stdin = keeper.stdin.take().expect("stdin is piped");
        *running = Some(Running { keeper, stdin });
        drop(running);
        self.wait_ready(&log)
    }

    fn init(&self) -> Result<(), String> {
        let password_file = self.dir.join("password");
        std::fs::write(&password_file, PASSWORD)
            .map_err(|e| format!("writing the password file: {e}"))?;
        if let Some((uid, gid)) = self.binaries.run_as {
            std::os::unix::fs::chown(&password_file, Some(uid), Some(gid))
                .map_err(|e| format!("handing the password file over: {e}"))?;
        }
        let output = self
            .binaries
            .command("initdb")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-U", USER, "-E", "UTF8", "--no-locale", "--no-sync"])
            .args(["--auth-host=scram-sha-256", "--auth-local=trust"])
            .arg(format!("--pwfile={}", password_file.display()))
            .output()
            .map_err(|e| format!("running initdb: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(())
    }

    fn wait_ready(&self, log: &Path) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let ready = self
                .client("pg_isready")
                .arg("-q")
                .status()
                .is_ok_and(|status| status.success());
            if ready {
                return Ok(());
            }
            let exited = self
                .lock()
                .as_mut()
                .is_none_or(|running| running.keeper.try_wait().ok().flatten().is_some());
            if exited || Instant::now() > deadline {
                let mut text = String::new();
                let _ = std::fs::File::open(log).and_then(|mut f| f.read_to_string(&mut text));
                return Err(format!(
                    "the test server on port {} did not start; its log:\n{text}",
                    self.port
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A client program against this server as the superuser.
    fn client(&self, name: &str) -> Command {
        let mut command = Command::new(self.binaries.bin.join(name));
        command
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", USER])
            .env("PGPASSWORD", PASSWORD);
        command
    }

    /// `sh -c script` as the server's user.
    fn binaries_shell(&self, script: &str) -> Command {
        use std::os::unix::process::CommandExt;
        let mut command = Command::new("sh");
        command.arg("-c").arg(script);
        if let Some((uid, gid)) = self.binaries.run_as {
            command.uid(uid).gid(gid);
        }
        command
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Running>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port nothing listens on now.
fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| format!("finding a free port: {e}"))
}

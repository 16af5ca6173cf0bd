//! The database a test's nodes and commands share: a SQLite file in the test's data directory
//! (target `e2e`) or a fresh database on the PostgreSQL server the tests start (target
//! `e2e-postgres`). Each target's `main.rs` names its backend's connection type as
//! `Connection`, so that the tests' code is the same for both.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use qntx::node::{Node, NodeConfig};
use qntx::sqlite::{SqliteBackend, SqliteConnection};
use qntx::storage::Backend;
use qntx_postgres::{Options, PostgresBackend, PostgresConnection};

/// Which backend a test target runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `qntx.db` in the data directory.
    Sqlite,
    /// A database of its own on `qntx_pgtest::shared()`.
    Postgres,
}

/// A backend's connection type, opened on a test's [`Database`].
pub trait TestConnection: qntx::storage::Connection + Sized {
    /// The backend.
    const KIND: Kind;

    /// A connection through a backend of its own, as another process's would be.
    fn open(database: &Database) -> Self;

    /// A connection through the backend of this test process.
    fn shared(database: &Database) -> Self;
}

impl TestConnection for SqliteConnection {
    const KIND: Kind = Kind::Sqlite;

    fn open(database: &Database) -> Self {
        let Database::Sqlite(dir) = database else {
            panic!("a SQLite connection to a PostgreSQL database");
        };
        SqliteBackend::open_in(dir)
            .and_then(|backend| backend.connection())
            .expect("database opens")
    }

    /// On SQLite a backend of its own each time: the file is what processes share.
    fn shared(database: &Database) -> Self {
        Self::open(database)
    }
}

impl TestConnection for PostgresConnection {
    const KIND: Kind = Kind::Postgres;

    fn open(database: &Database) -> Self {
        let Database::Postgres { url, .. } = database else {
            panic!("a PostgreSQL connection to a SQLite database");
        };
        connected(url, &open_postgres(url))
    }

    fn shared(database: &Database) -> Self {
        let Database::Postgres { url, backend } = database else {
            panic!("a PostgreSQL connection to a SQLite database");
        };
        connected(url, backend.get_or_init(|| Arc::new(open_postgres(url))))
    }
}

fn connected(url: &str, backend: &PostgresBackend) -> PostgresConnection {
    backend
        .connection()
        .unwrap_or_else(|e| panic!("connecting to {url}: {}", qntx::error_chain(&e)))
}

/// The environment variable through which `qntx` is told the database (besides `--data-dir`).
pub const DATABASE_VAR: &str = "QNTX_DATABASE";

/// One test's database.
pub enum Database {
    /// The SQLite file in this directory.
    Sqlite(PathBuf),
    /// A PostgreSQL database, and the backend this test process opened on it.
    Postgres {
        url: String,
        backend: OnceLock<Arc<PostgresBackend>>,
    },
}

impl Database {
    /// A new database of this target's kind: SQLite in `dir`, else a fresh PostgreSQL one.
    pub fn new(dir: &Path) -> Self {
        match <crate::Connection as TestConnection>::KIND {
            Kind::Sqlite => Self::Sqlite(dir.to_owned()),
            Kind::Postgres => Self::at(&qntx_pgtest::shared().database()),
        }
    }

    /// The PostgreSQL database at `url`.
    pub fn at(url: &str) -> Self {
        Self::Postgres {
            url: url.to_owned(),
            backend: OnceLock::new(),
        }
    }

    /// Whether this is a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres { .. })
    }

    /// The PostgreSQL URL, with its password (`None` on SQLite).
    pub fn url(&self) -> Option<&str> {
        match self {
            Self::Sqlite(_) => None,
            Self::Postgres { url, .. } => Some(url),
        }
    }

    /// A backend of its own, as another process would open it.
    pub fn open(&self) -> Arc<dyn Backend> {
        match self {
            Self::Sqlite(dir) => Arc::new(SqliteBackend::open_in(dir).expect("database opens")),
            Self::Postgres { url, .. } => Arc::new(open_postgres(url)),
        }
    }

    /// A new connection through the backend of this test process.
    pub fn connect(&self) -> crate::Connection {
        crate::Connection::shared(self)
    }

    /// Start a node with `config` on this database (on SQLite exactly as `Node::start`).
    pub fn start(&self, config: NodeConfig) -> Result<Node, qntx::node::Error> {
        start_node(config, self.node_backend())
    }

    /// The backend a new node gets (its own, as another process's): `None` on SQLite, where
    /// `Node::start` opens the file of its data directory.
    pub fn node_backend(&self) -> Option<Arc<dyn Backend>> {
        self.is_postgres().then(|| self.open())
    }

    /// Run `sql` (statements without parameters) directly on the database, past the seam: a
    /// test's own changes, such as rows an older node might have written.
    pub fn execute(&self, sql: &str) {
        match self {
            Self::Sqlite(_) => SqliteConnection::open(self)
                .sql()
                .execute_batch(sql)
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
            Self::Postgres { url, .. } => execute_postgres(url, sql),
        }
    }

    /// Point `command` (a `qntx` run) at this database.
    pub fn apply(&self, command: &mut Command) {
        match self.url() {
            Some(url) => command.env(DATABASE_VAR, url),
            None => command.env_remove(DATABASE_VAR),
        };
    }
}

/// Start a node with `config` on `backend`, or on SQLite in its data directory.
pub fn start_node(
    config: NodeConfig,
    backend: Option<Arc<dyn Backend>>,
) -> Result<Node, qntx::node::Error> {
    match backend {
        None => Node::start(config),
        Some(backend) => Node::start_on(config, backend),
    }
}

fn open_postgres(url: &str) -> PostgresBackend {
    PostgresBackend::open(url, Options::default())
        .unwrap_or_else(|e| panic!("opening {url}: {}", qntx::error_chain(&e)))
}

fn execute_postgres(url: &str, sql: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("connecting to {url}: {e}"));
        tokio::spawn(connection);
        client
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    });
}

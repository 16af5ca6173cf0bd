//! The PostgreSQL backend: a database named by URL, one client per
//! [`Connection`](storage::Connection).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio_postgres::types::ToSql;
use tokio_postgres::{Row, Statement};

use super::Error;
use super::client::{Driver, wait};
use super::error::OrStorage;
use super::listen::{Listener, NOTIFY};
use crate::storage::{self, Store};

/// How a backend connects and wakes.
#[derive(Debug, Clone)]
pub struct Options {
    /// Wake waiters with `LISTEN`/`NOTIFY` (one listening connection per backend). Off for a
    /// connection pooler in transaction mode, which cannot hold a `LISTEN`: then waiters poll.
    pub listen: bool,
    /// How often waiters look for changes when not listening (the backstop).
    pub poll_interval: Duration,
    /// How long connecting may take before it fails, unless the URL sets `connect_timeout`.
    pub connect_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            listen: true,
            poll_interval: Duration::from_millis(100),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// A qntx database on a PostgreSQL server, migrated to this build's schema when opened.
#[derive(Debug, Clone)]
pub struct PostgresBackend {
    shared: Arc<Shared>,
}

/// What every connection of one backend shares.
#[derive(Debug)]
struct Shared {
    config: tokio_postgres::Config,
    /// `postgres://user@host:port/database`: the URL without its password.
    target: String,
    options: Options,
    /// The listening connection, started by the first wait for a change.
    listener: OnceLock<Arc<Listener>>,
    driver: Driver,
}

impl PostgresBackend {
    /// The database at `url`, its schema brought up to date.
    ///
    /// # Errors
    ///
    /// [`Error::Url`] for a malformed URL, [`Error::Connect`] when the server cannot be
    /// reached or refuses the login, [`Error::TooNew`] or [`Error::Migrate`] for the schema.
    pub fn open(url: &str, options: Options) -> Result<Self, Error> {
        let backend = Self::unmigrated(url, options)?;
        let conn = backend.connection()?;
        super::migrations::apply(&conn, &backend.shared.target)?;
        Ok(backend)
    }

    /// The database at `url` as it is, not migrated.
    ///
    /// # Errors
    ///
    /// [`Error::Url`] for a malformed URL, [`Error::Runtime`] when the client cannot start.
    pub fn unmigrated(url: &str, options: Options) -> Result<Self, Error> {
        let mut config: tokio_postgres::Config = url.parse().map_err(|source| Error::Url {
            url: hide_password(url),
            source,
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(options.connect_timeout);
        }
        if config.get_application_name().is_none() {
            config.application_name("qntx");
        }
        Ok(Self {
            shared: Arc::new(Shared {
                target: target(&config),
                config,
                options,
                listener: OnceLock::new(),
                driver: Driver::new()?,
            }),
        })
    }

    /// `postgres://user@host:port/database`: where this backend connects, without the password.
    pub fn target(&self) -> &str {
        &self.shared.target
    }

    /// A new connection, as its concrete type.
    ///
    /// # Errors
    ///
    /// [`Error::Connect`] when the server cannot be reached or refuses the login.
    pub fn connection(&self) -> Result<PostgresConnection, Error> {
        let client = self
            .shared
            .driver
            .connect(&self.shared.config)
            .map_err(|source| Error::Connect {
                target: self.shared.target.clone(),
                source,
            })?;
        Ok(PostgresConnection {
            client: RefCell::new(client),
            statements: RefCell::default(),
            planned: RefCell::default(),
            depth: Cell::new(0),
            notify: Cell::new(false),
            aborted: Cell::new(false),
            seen: Cell::new(None),
            shared: self.shared.clone(),
        })
    }
}

impl storage::Backend for PostgresBackend {
    fn describe(&self) -> String {
        format!("postgresql database {}", self.shared.target)
    }

    fn local_dir(&self) -> Option<std::path::PathBuf> {
        None
    }

    fn connect(&self) -> storage::Result<Box<dyn storage::Connection>> {
        let conn = self
            .connection()
            .map_err(|error| storage::Error::Backend(Box::new(error)))?;
        Ok(Box::new(conn))
    }
}

/// One client of the server; its [`Store`] methods are implemented in this module's siblings.
pub struct PostgresConnection {
    /// The server's client, replaced when the server closed it (see [`Self::client`]).
    client: RefCell<tokio_postgres::Client>,
    /// Prepared statements, by their SQL.
    statements: RefCell<HashMap<&'static str, Statement>>,
    /// Prepared statements built at run time (query plans), by their SQL; at most
    /// [`PLANNED_KEPT`].
    planned: RefCell<HashMap<String, Statement>>,
    /// 0 outside a transaction, 1 inside one, more inside savepoints of [`Self::atomic`].
    depth: Cell<u32>,
    /// Whether the open transaction wrote something others wait for.
    notify: Cell<bool>,
    /// Whether a statement of the open transaction failed outside a savepoint: the server
    /// then turns `COMMIT` into `ROLLBACK` without an error, so [`Self::commit`] must say so.
    aborted: Cell<bool>,
    /// The listener's generation when [`storage::Connection::wait_for_change`] last looked.
    seen: Cell<Option<u64>>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for PostgresConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresConnection")
            .field("target", &self.shared.target)
            .finish_non_exhaustive()
    }
}

/// Statements built at run time one connection keeps prepared: the shapes of queries a node
/// asks often (its watchers', its handlers') stay, and a stream of one-off queries cannot
/// grow the cache without bound.
const PLANNED_KEPT: usize = 64;

/// Parameters of a statement.
pub(crate) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

impl PostgresConnection {
    /// The rows `sql` returns (prepared once per connection).
    pub(crate) fn query(&self, sql: &'static str, params: Params<'_>) -> storage::Result<Vec<Row>> {
        let client = self.client()?;
        let statement = self.prepare(&client, sql)?;
        self.checked(wait(client.query(&statement, params)).or_storage())
    }

    /// The one row `sql` returns, if any.
    pub(crate) fn query_opt(
        &self,
        sql: &'static str,
        params: Params<'_>,
    ) -> storage::Result<Option<Row>> {
        let client = self.client()?;
        let statement = self.prepare(&client, sql)?;
        self.checked(wait(client.query_opt(&statement, params)).or_storage())
    }

    /// The one row `sql` returns.
    pub(crate) fn query_one(&self, sql: &'static str, params: Params<'_>) -> storage::Result<Row> {
        let client = self.client()?;
        let statement = self.prepare(&client, sql)?;
        self.checked(wait(client.query_one(&statement, params)).or_storage())
    }

    /// Run `sql`; how many rows it changed.
    pub(crate) fn execute(&self, sql: &'static str, params: Params<'_>) -> storage::Result<u64> {
        let client = self.client()?;
        let statement = self.prepare(&client, sql)?;
        self.checked(wait(client.execute(&statement, params)).or_storage())
    }

    /// The rows of `sql`, a statement built at run time (a query's plan): prepared once per
    /// connection while it is among the [`PLANNED_KEPT`] kept.
    pub(crate) fn query_planned(&self, sql: &str, params: Params<'_>) -> storage::Result<Vec<Row>> {
        let client = self.client()?;
        let cached = self.planned.borrow().get(sql).cloned();
        let statement = match cached {
            Some(statement) => statement,
            None => {
                let statement = self.checked(wait(client.prepare(sql)).or_storage())?;
                let mut planned = self.planned.borrow_mut();
                if planned.len() >= PLANNED_KEPT {
                    planned.clear();
                }
                planned.insert(sql.to_owned(), statement.clone());
                statement
            }
        };
        self.checked(wait(client.query(&statement, params)).or_storage())
    }

    /// Run statements without parameters (the simple protocol, one round trip).
    pub(crate) fn batch(&self, sql: &str) -> storage::Result<()> {
        let client = self.client()?;
        self.checked(wait(client.batch_execute(sql)).or_storage())
    }

    /// The client, connected again first when the server closed it (it restarted, or an
    /// administrator ended the session) outside a transaction: a node outlives its server's
    /// restarts. Inside a transaction the loss is an error: the server rolled it back.
    fn client(&self) -> storage::Result<std::cell::Ref<'_, tokio_postgres::Client>> {
        if self.client.borrow().is_closed() {
            if self.depth.get() > 0 {
                return self.checked(Err(storage::Error::Backend(
                    "the connection to the server was lost in a transaction; the server rolled \
                     it back"
                        .into(),
                )));
            }
            let client = self
                .shared
                .driver
                .connect(&self.shared.config)
                .map_err(|source| {
                    storage::Error::Backend(Box::new(Error::Connect {
                        target: self.shared.target.clone(),
                        source,
                    }))
                })?;
            *self.client.borrow_mut() = client;
            self.statements.borrow_mut().clear();
            self.planned.borrow_mut().clear();
            tracing::info!(target = %self.shared.target, "connected to the server again");
        }
        Ok(self.client.borrow())
    }

    /// `result`, remembering a failure directly inside a transaction (see `aborted`).
    fn checked<T>(&self, result: storage::Result<T>) -> storage::Result<T> {
        if result.is_err() && self.depth.get() == 1 {
            self.aborted.set(true);
        }
        result
    }

    /// Say that what was just written is something other nodes wait for (a runnable job, a
    /// cancel, an attestation): one `NOTIFY` is sent when the transaction commits, or now
    /// outside one.
    pub(crate) fn changed(&self) -> storage::Result<()> {
        if self.depth.get() == 0 {
            return self.batch(NOTIFY);
        }
        self.notify.set(true);
        Ok(())
    }

    /// Run `writes` all or nothing: in a transaction of their own or, inside a transaction, in
    /// a savepoint. The error is any that a storage error converts into.
    pub(crate) fn atomic<T, E: From<storage::Error>>(
        &self,
        writes: impl FnOnce(&Self) -> Result<T, E>,
    ) -> Result<T, E> {
        if self.depth.get() == 0 {
            self.begin("BEGIN")?;
            return match writes(self) {
                Ok(value) => Ok(self.commit().map(|()| value)?),
                Err(error) => {
                    self.rollback();
                    Err(error)
                }
            };
        }
        self.batch("SAVEPOINT atomic")?;
        self.depth.set(self.depth.get() + 1);
        let result = writes(self);
        self.depth.set(self.depth.get() - 1);
        match result {
            Ok(value) => {
                self.batch("RELEASE atomic")?;
                Ok(value)
            }
            Err(error) => {
                if let Err(rollback) = self.batch("ROLLBACK TO atomic; RELEASE atomic") {
                    tracing::warn!(error = %crate::error_chain(&rollback), "rolling back a savepoint failed");
                }
                Err(error)
            }
        }
    }

    fn prepare(
        &self,
        client: &tokio_postgres::Client,
        sql: &'static str,
    ) -> storage::Result<Statement> {
        if let Some(statement) = self.statements.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.checked(wait(client.prepare(sql)).or_storage())?;
        self.statements.borrow_mut().insert(sql, statement.clone());
        Ok(statement)
    }

    fn begin(&self, sql: &str) -> storage::Result<()> {
        self.batch(sql)?;
        self.depth.set(1);
        self.notify.set(false);
        self.aborted.set(false);
        Ok(())
    }

    /// `COMMIT`, with the transaction's `NOTIFY` in the same round trip.
    fn commit(&self) -> storage::Result<()> {
        if self.aborted.get() {
            self.rollback();
            return Err(storage::Error::Backend(
                "a statement of the transaction failed, so the server rolled it back".into(),
            ));
        }
        let sql = if self.notify.replace(false) {
            "NOTIFY qntx_changes; COMMIT"
        } else {
            "COMMIT"
        };
        self.depth.set(0);
        let committed = self.batch(sql);
        if committed.is_err() && !self.client.borrow().is_closed() {
            let _ = self.batch("ROLLBACK");
        }
        committed
    }

    fn rollback(&self) {
        self.depth.set(0);
        self.notify.set(false);
        if self.client.borrow().is_closed() {
            return;
        }
        if let Err(error) = self.batch("ROLLBACK") {
            tracing::warn!(error = %crate::error_chain(&error), "rolling back a transaction failed");
        }
    }

    fn listener(&self) -> &Arc<Listener> {
        self.shared
            .listener
            .get_or_init(|| Listener::start(&self.shared.driver, &self.shared.config))
    }
}

impl storage::Connection for PostgresConnection {
    fn store(&self) -> &(dyn Store + 'static) {
        self
    }

    fn transaction(&mut self) -> storage::Result<Box<dyn storage::Transaction + '_>> {
        self.begin("BEGIN")?;
        Ok(Box::new(PostgresTransaction {
            conn: self,
            finished: false,
        }))
    }

    fn snapshot(&mut self) -> storage::Result<Box<dyn storage::Transaction + '_>> {
        self.begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        Ok(Box::new(PostgresTransaction {
            conn: self,
            finished: false,
        }))
    }

    fn wait_for_change(&mut self, timeout: Duration) -> storage::Result<bool> {
        let poll = self.shared.options.poll_interval;
        if !self.shared.options.listen {
            std::thread::sleep(timeout.min(poll));
            return Ok(timeout >= poll);
        }
        let listener = self.listener().clone();
        let seen = match self.seen.get() {
            Some(seen) => seen,
            None => listener.generation(),
        };
        let (now, changed) = listener.wait(seen, timeout, poll);
        self.seen.set(Some(now));
        Ok(changed)
    }

    fn upkeep(&mut self) -> Option<String> {
        None
    }

    fn explain(&self, error: &(dyn std::error::Error + 'static)) -> String {
        format!(
            "database {}: {}",
            self.shared.target,
            crate::error_chain(error)
        )
    }
}

/// A transaction on a [`PostgresConnection`], rolled back when dropped uncommitted.
struct PostgresTransaction<'c> {
    conn: &'c PostgresConnection,
    finished: bool,
}

impl storage::Transaction for PostgresTransaction<'_> {
    fn store(&self) -> &(dyn Store + 'static) {
        self.conn
    }

    fn commit(mut self: Box<Self>) -> storage::Result<()> {
        self.finished = true;
        self.conn.commit()
    }
}

impl Drop for PostgresTransaction<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.conn.rollback();
        }
    }
}

impl Store for PostgresConnection {
    fn atomically(&self, work: &mut dyn FnMut(&dyn Store) -> bool) -> storage::Result<()> {
        /// Why writes were not kept: the store failed, or `work` discarded them.
        enum NotKept {
            Failed(storage::Error),
            Discarded,
        }
        impl From<storage::Error> for NotKept {
            fn from(error: storage::Error) -> Self {
                Self::Failed(error)
            }
        }
        let kept = self.atomic(|conn| {
            if work(conn) {
                Ok(())
            } else {
                Err(NotKept::Discarded)
            }
        });
        match kept {
            Ok(()) | Err(NotKept::Discarded) => Ok(()),
            Err(NotKept::Failed(error)) => Err(error),
        }
    }

    fn in_transaction(&self) -> bool {
        self.depth.get() > 0
    }

    fn exclusive(&self, key: &str) -> storage::Result<()> {
        self.query_one(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            &[&key],
        )
        .map(drop)
    }
}

/// `postgres://user@host:port/database` of `config`.
fn target(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("");
    let database = config.get_dbname().unwrap_or(user);
    let at = if user.is_empty() { "" } else { "@" };
    format!("postgres://{user}{at}{host}:{port}/{database}")
}

/// `url` with the password of its user part replaced by `***`: `postgres://qntx:***@db/qntx`.
pub fn hide_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = rest
        .find(['/', '?'])
        .map_or((rest, ""), |at| rest.split_at(at));
    let mut hidden = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    };
    // A password given as a parameter: `?password=…`.
    if let Some(at) = hidden.find("password=") {
        let end = hidden[at..].find('&').map_or(hidden.len(), |n| at + n);
        hidden.replace_range(at + "password=".len()..end, "***");
    }
    hidden
}

#[cfg(test)]
mod tests;

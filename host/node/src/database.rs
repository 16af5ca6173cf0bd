//! Which store a node or a command opens: the embedded SQLite file of the data directory, another
//! SQLite file, or a PostgreSQL database, named by one URL.
//!
//! | `url` | opens |
//! |---|---|
//! | none | `<data-dir>/qntx.db` |
//! | `postgres://…`, `postgresql://…` | that PostgreSQL database ([`qntx_postgres::PostgresBackend`]) |
//! | `sqlite://PATH`, or a path | that SQLite file, created and migrated if needed |
//!
//! Every error names the URL without its password ([`hide_password`]).

mod copy;
mod counting;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use copy::{Copied, CopyError, Progress, copy};
pub use counting::Counting;

use crate::sqlite;
use crate::storage::Backend;

/// How to choose and reach the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseConfig {
    /// The store's URL; `None` for the data directory's own SQLite file.
    pub url: Option<String>,
    /// PostgreSQL: wake waiters with `LISTEN`/`NOTIFY`; off (poll only) behind a connection
    /// pooler in transaction mode.
    pub listen: bool,
    /// PostgreSQL: how often waiters poll for changes (always when not listening, as a
    /// backstop otherwise).
    pub poll_interval: Duration,
}

impl Default for DatabaseConfig {
    /// The data directory's file; on PostgreSQL, listening with a 100 ms poll backstop.
    fn default() -> Self {
        let options = qntx_postgres::Options::default();
        Self {
            url: None,
            listen: options.listen,
            poll_interval: options.poll_interval,
        }
    }
}

/// A store, as a URL names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database: the URL as given.
    Postgres(String),
}

impl Location {
    /// Where `url` points; `None` means the data directory's own file.
    ///
    /// # Errors
    ///
    /// [`Error::Scheme`] for a URL of another scheme (`mysql://…`), [`Error::Empty`] for an
    /// empty one.
    pub fn parse(url: Option<&str>, data_dir: &Path) -> Result<Self, Error> {
        let Some(url) = url else {
            return Ok(Self::Sqlite(data_dir.join(sqlite::FILE_NAME)));
        };
        if url.trim().is_empty() {
            return Err(Error::Empty);
        }
        match url.split_once("://") {
            Some(("postgres" | "postgresql", _)) => Ok(Self::Postgres(url.to_owned())),
            Some(("sqlite", "")) => Err(Error::Empty),
            Some(("sqlite", path)) => Ok(Self::Sqlite(PathBuf::from(path))),
            Some((scheme, _)) if !scheme.contains(['/', '\\']) => Err(Error::Scheme {
                url: hide_password(url),
                scheme: scheme.to_owned(),
            }),
            _ => Ok(Self::Sqlite(PathBuf::from(url))),
        }
    }
}

/// Errors choosing or opening a store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL names no store.
    #[error("the database URL is empty; give postgres://…, sqlite://PATH or a file path")]
    Empty,
    /// The URL is of a scheme qntx has no backend for.
    #[error(
        "database URL '{url}': qntx has no '{scheme}' backend; give postgres://…, sqlite://PATH or a file path"
    )]
    Scheme {
        /// The URL, its password hidden.
        url: String,
        /// Its scheme.
        scheme: String,
    },
    /// The SQLite file could not be opened or migrated.
    #[error("opening sqlite database '{}'", path.display())]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: sqlite::Error,
    },
    /// The PostgreSQL database could not be reached, logged into or migrated (the message
    /// names the server and database, never the password).
    #[error(transparent)]
    Postgres(#[from] qntx_postgres::Error),
}

/// The SQLite settings of a long-running node (a command takes the defaults).
#[derive(Debug, Clone, Copy)]
pub struct SqliteLimits {
    /// How long a connection waits for another process's writer.
    pub busy_timeout: Duration,
    /// A write-ahead log past this size that keeps growing is reported.
    pub wal_threshold: u64,
}

impl Default for SqliteLimits {
    fn default() -> Self {
        Self {
            busy_timeout: sqlite::BUSY_TIMEOUT,
            wal_threshold: sqlite::WalWatch::THRESHOLD,
        }
    }
}

/// Open the store `config` names (the file in `data_dir` when it names none), migrated to this
/// build's schema.
///
/// # Errors
///
/// [`Error`] for a URL of no backend, a store that cannot be opened, reached or migrated.
pub fn open(
    config: &DatabaseConfig,
    data_dir: &Path,
    limits: SqliteLimits,
) -> Result<Arc<dyn Backend>, Error> {
    match Location::parse(config.url.as_deref(), data_dir)? {
        Location::Sqlite(path) => {
            let backend = sqlite::SqliteBackend::open(&path)
                .map_err(|source| Error::Sqlite {
                    path: path.clone(),
                    source,
                })?
                .with_limits(limits.busy_timeout, limits.wal_threshold);
            Ok(Arc::new(backend))
        }
        Location::Postgres(url) => {
            let options = qntx_postgres::Options {
                listen: config.listen,
                poll_interval: config.poll_interval,
                ..qntx_postgres::Options::default()
            };
            Ok(Arc::new(qntx_postgres::PostgresBackend::open(
                &url, options,
            )?))
        }
    }
}

pub use qntx_postgres::hide_password;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_the_data_directory_file_another_file_or_postgres() {
        let dir = Path::new("/data");
        let parse = |url| Location::parse(url, dir);
        assert_eq!(
            parse(None).unwrap(),
            Location::Sqlite("/data/qntx.db".into())
        );
        assert_eq!(
            parse(Some("sqlite:///tmp/x.db")).unwrap(),
            Location::Sqlite("/tmp/x.db".into())
        );
        assert_eq!(
            parse(Some("sqlite://rel/x.db")).unwrap(),
            Location::Sqlite("rel/x.db".into())
        );
        assert_eq!(
            parse(Some("./store.db")).unwrap(),
            Location::Sqlite("./store.db".into())
        );
        assert_eq!(
            parse(Some("/abs/a://b.db")).unwrap(),
            Location::Sqlite("/abs/a://b.db".into()),
            "a path whose 'scheme' holds a slash is a path"
        );
        for url in ["postgres://u:p@h/db", "postgresql://h/db"] {
            assert_eq!(parse(Some(url)).unwrap(), Location::Postgres(url.into()));
        }
        let error = parse(Some("mysql://root:secret@h/db"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "database URL 'mysql://root:***@h/db': qntx has no 'mysql' backend; give \
             postgres://…, sqlite://PATH or a file path"
        );
        assert!(matches!(parse(Some(" ")), Err(Error::Empty)));
        assert!(matches!(parse(Some("sqlite://")), Err(Error::Empty)));
    }

    #[test]
    fn passwords_are_hidden_wherever_the_url_puts_them() {
        assert_eq!(
            hide_password("postgres://qntx:s3cret@db:5432/qntx"),
            "postgres://qntx:***@db:5432/qntx"
        );
        assert_eq!(
            hide_password("postgres://qntx:p@ss@db/qntx?sslmode=disable"),
            "postgres://qntx:***@db/qntx?sslmode=disable",
            "the host follows the last '@'"
        );
        assert_eq!(
            hide_password("postgres://db/qntx?user=qntx&password=s3cret&sslmode=disable"),
            "postgres://db/qntx?user=qntx&password=***&sslmode=disable"
        );
        assert_eq!(
            hide_password("postgres://qntx@db/qntx"),
            "postgres://qntx@db/qntx"
        );
        assert_eq!(hide_password("/data/qntx.db"), "/data/qntx.db");
    }

    #[test]
    fn opening_a_file_creates_and_migrates_it_and_a_bad_scheme_opens_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sub").join("other.db");
        let config = DatabaseConfig {
            url: Some(format!("sqlite://{}", file.display())),
            ..DatabaseConfig::default()
        };
        let backend = open(&config, dir.path(), SqliteLimits::default()).unwrap();
        assert_eq!(
            backend.describe(),
            format!("sqlite database '{}'", file.display())
        );
        assert!(file.exists());
        let conn = backend.connect().unwrap();
        let schema = conn.dump_schema().unwrap();
        assert_eq!(schema.version, schema.known);

        let default = open(
            &DatabaseConfig::default(),
            dir.path(),
            SqliteLimits::default(),
        )
        .unwrap();
        assert_eq!(default.local_dir().as_deref(), Some(dir.path()));

        let bad = DatabaseConfig {
            url: Some("redis://x".into()),
            ..DatabaseConfig::default()
        };
        assert!(matches!(
            open(&bad, dir.path(), SqliteLimits::default()),
            Err(Error::Scheme { .. })
        ));
    }
}

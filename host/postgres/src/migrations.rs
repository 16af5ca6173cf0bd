//! Forward-only schema migrations, embedded at build time and recorded in
//! `schema_migrations`. Nodes that start at once take turns: the first migrates under an
//! advisory lock, the others find the work done.

use super::{Error, PostgresConnection};
use crate::storage;

/// One schema change: `host/postgres/migrations/NNN_name.sql`.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Its number; migrations apply in increasing order, starting at 1.
    pub version: u32,
    /// What it does.
    pub name: &'static str,
    /// The SQL, possibly several statements.
    pub sql: &'static str,
}

/// Every migration, oldest first. A shipped migration is never edited: fixes go in a new one.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "create_attestations",
        sql: include_str!("../migrations/001_create_attestations.sql"),
    },
    Migration {
        version: 2,
        name: "create_jobs",
        sql: include_str!("../migrations/002_create_jobs.sql"),
    },
    Migration {
        version: 3,
        name: "create_triggers_and_components",
        sql: include_str!("../migrations/003_create_triggers_and_components.sql"),
    },
    Migration {
        version: 4,
        name: "job_listing_indexes",
        sql: include_str!("../migrations/004_job_listing_indexes.sql"),
    },
    Migration {
        version: 5,
        name: "create_tokens",
        sql: include_str!("../migrations/005_create_tokens.sql"),
    },
    Migration {
        version: 6,
        name: "create_job_events",
        sql: include_str!("../migrations/006_create_job_events.sql"),
    },
    Migration {
        version: 7,
        name: "create_sessions",
        sql: include_str!("../migrations/007_create_sessions.sql"),
    },
];

/// The advisory lock migrations hold (an arbitrary number: "qntx" in ASCII).
const MIGRATION_LOCK: i64 = 0x716e_7478;

/// The newest version this build knows.
pub fn known() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// The version the database is at, 0 when it has never been migrated.
pub(crate) fn current(conn: &PostgresConnection) -> storage::Result<u32> {
    let exists: bool = conn
        .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let version: Option<i32> = conn
        .query_one("SELECT max(version) FROM schema_migrations", &[])?
        .get(0);
    Ok(version.map_or(0, |v| v.unsigned_abs()))
}

/// Apply the migrations the database has not seen yet, each in its own transaction.
pub(crate) fn apply(conn: &PostgresConnection, target: &str) -> Result<(), Error> {
    let failed = |version: u32, name: &'static str| {
        let target = target.to_owned();
        move |error: storage::Error| Error::Migrate {
            version,
            name,
            target,
            source: error,
        }
    };
    conn.query_one("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .map_err(failed(0, "lock"))?;
    let applied = apply_locked(conn, target, &failed);
    let _ = conn.query_one("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]);
    applied
}

fn apply_locked<F, G>(conn: &PostgresConnection, target: &str, failed: &F) -> Result<(), Error>
where
    F: Fn(u32, &'static str) -> G,
    G: FnOnce(storage::Error) -> Error,
{
    conn.batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version INTEGER PRIMARY KEY,
             name TEXT NOT NULL,
             applied_at BIGINT NOT NULL
         )",
    )
    .map_err(failed(0, "schema_migrations"))?;
    let found = current(conn).map_err(failed(0, "schema_migrations"))?;
    if found > known() {
        return Err(Error::TooNew {
            target: target.to_owned(),
            found,
            known: known(),
        });
    }
    for migration in MIGRATIONS.iter().filter(|m| m.version > found) {
        let version = i32::try_from(migration.version).expect("migration numbers are small");
        conn.atomic(|conn| {
            conn.batch(migration.sql)?;
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                &[&version, &migration.name, &crate::clock::now_ms()],
            )
        })
        .map_err(failed(migration.version, migration.name))?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "migrated the database"
        );
    }
    Ok(())
}

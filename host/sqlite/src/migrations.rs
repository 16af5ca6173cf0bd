//! Forward-only schema migrations, embedded at build time and recorded in `schema_migrations`.

use rusqlite::Connection;

use super::Error;

/// One schema change: `host/core/migrations/NNN_name.sql`.
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
        name: "index_attestation_pairs",
        sql: include_str!("../migrations/003_index_attestation_pairs.sql"),
    },
    Migration {
        version: 4,
        name: "pulse_budgets_limits",
        sql: include_str!("../migrations/004_pulse_budgets_limits.sql"),
    },
    Migration {
        version: 5,
        name: "create_components",
        sql: include_str!("../migrations/005_create_components.sql"),
    },
    Migration {
        version: 6,
        name: "create_triggers",
        sql: include_str!("../migrations/006_create_triggers.sql"),
    },
    Migration {
        version: 7,
        name: "lighter_job_writes",
        sql: include_str!("../migrations/007_lighter_job_writes.sql"),
    },
    Migration {
        version: 8,
        name: "create_plugin_loads",
        sql: include_str!("../migrations/008_create_plugin_loads.sql"),
    },
    Migration {
        version: 9,
        name: "job_trees_and_nodes",
        sql: include_str!("../migrations/009_job_trees_and_nodes.sql"),
    },
    Migration {
        version: 10,
        name: "job_listing_indexes",
        sql: include_str!("../migrations/010_job_listing_indexes.sql"),
    },
    Migration {
        version: 11,
        name: "create_tokens",
        sql: include_str!("../migrations/011_create_tokens.sql"),
    },
    Migration {
        version: 12,
        name: "create_job_events",
        sql: include_str!("../migrations/012_create_job_events.sql"),
    },
    Migration {
        version: 13,
        name: "create_sessions",
        sql: include_str!("../migrations/013_create_sessions.sql"),
    },
];

/// Apply the migrations the database has not seen yet, each in its own transaction.
pub(super) fn apply(conn: &mut Connection) -> Result<(), Error> {
    let known = MIGRATIONS.last().map_or(0, |m| m.version);
    let migrate_err = |m: &Migration| {
        let (version, name) = (m.version, m.name);
        move |source| Error::Migrate {
            version,
            name,
            source,
        }
    };
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version INTEGER PRIMARY KEY,
             name TEXT NOT NULL,
             applied_at INTEGER NOT NULL
         )",
    )
    .map_err(migrate_err(&MIGRATIONS[0]))?;
    let current: u32 = conn
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |row| row.get(0),
        )
        .map_err(migrate_err(&MIGRATIONS[0]))?;
    if current > known {
        return Err(Error::TooNew {
            found: current,
            known,
        });
    }
    for migration in MIGRATIONS.iter().filter(|m| m.version > current) {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(migrate_err(migration))?;
        // Another process may have applied it while we waited for the lock.
        let applied: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)",
                [migration.version],
                |row| row.get(0),
            )
            .map_err(migrate_err(migration))?;
        if applied {
            continue;
        }
        tx.execute_batch(migration.sql)
            .map_err(migrate_err(migration))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            rusqlite::params![migration.version, migration.name, crate::clock::now_ms()],
        )
        .map_err(migrate_err(migration))?;
        tx.commit().map_err(migrate_err(migration))?;
        tracing::debug!(
            version = migration.version,
            name = migration.name,
            "applied migration"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_numbers_are_contiguous_from_one() {
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version as usize, index + 1, "{}", migration.name);
        }
    }

    #[test]
    fn migrations_apply_to_an_empty_database_and_twice_is_a_no_op() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply(&mut conn).unwrap();
        apply(&mut conn).unwrap();
        let count: u32 = conn
            .query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count as usize, MIGRATIONS.len());
    }

    #[test]
    fn rebuilding_the_job_tables_keeps_rows_row_ids_logs_and_rules() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_migrations (
                 version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
        )
        .unwrap();
        let before = MIGRATIONS
            .iter()
            .position(|m| m.name == "lighter_job_writes")
            .unwrap();
        for migration in &MIGRATIONS[..before] {
            conn.execute_batch(migration.sql).unwrap();
            conn.execute(
                "INSERT INTO schema_migrations VALUES (?1, ?2, 0)",
                rusqlite::params![migration.version, migration.name],
            )
            .unwrap();
        }
        conn.execute_batch(
            "INSERT INTO jobs (rowid, id, handler, payload, status, run_at, created_at, updated_at)
                 VALUES (7, 'b', 'h/x', '{}', 'queued', 1, 1, 1);
             INSERT INTO jobs (rowid, id, handler, payload, status, run_at, created_at, updated_at,
                               result, completed_at, claims)
                 VALUES (3, 'a', 'h/x', '{\"n\":1}', 'completed', 1, 1, 2, '42', 2, 1);
             INSERT INTO job_logs (id, job_id, attempt, time, level, stage, message)
                 VALUES (11, 'a', 1, 2, 'warn', 'pulse', 'kept');",
        )
        .unwrap();
        apply(&mut conn).unwrap();

        let jobs: Vec<(i64, String, String, Option<String>, u32)> = conn
            .prepare("SELECT rowid, id, status, result, claims FROM jobs ORDER BY rowid")
            .unwrap()
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            jobs,
            [
                (3, "a".into(), "completed".into(), Some("42".into()), 1),
                (7, "b".into(), "queued".into(), None, 0)
            ]
        );
        let log: (i64, String) = conn
            .query_row(
                "SELECT id, message FROM job_logs WHERE job_id = 'a'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(log, (11, "kept".into()));
        for broken in [
            "UPDATE jobs SET status = 'lost' WHERE id = 'b'",
            "UPDATE jobs SET status = 'failed' WHERE id = 'b'",
            "UPDATE job_logs SET level = 'loud'",
        ] {
            assert!(conn.execute(broken, []).is_err(), "{broken}");
        }
    }

    #[test]
    fn a_newer_database_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply(&mut conn).unwrap();
        conn.execute(
            "INSERT INTO schema_migrations VALUES (999, 'future', 0)",
            [],
        )
        .unwrap();
        assert!(matches!(
            apply(&mut conn),
            Err(Error::TooNew { found: 999, .. })
        ));
    }
}

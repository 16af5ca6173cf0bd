//! Pulse's statements besides jobs on SQLite: job logs, handler registrations, budgets and
//! node records ([`storage::JobLogs`], [`storage::Registrations`], [`storage::Budgets`],
//! [`storage::Nodes`]).

use rusqlite::{Connection, OptionalExtension, params};

use super::OrStorage;
use super::backend::SqliteConnection;
use super::jobs::ids;
use super::values::{json_list, sql};
use crate::pulse::{BudgetLimits, HandlerRecord, LogLevel, LogLine, NodeRecord, Period, Spend};
use crate::storage::{self, Heartbeat};

/// Append lines to a job's log.
pub(super) fn append_logs(
    conn: &Connection,
    job_id: &str,
    lines: &[LogLine],
) -> storage::Result<()> {
    let mut insert = conn.prepare_cached(sql!("job_log_insert")).or_storage()?;
    for line in lines {
        insert
            .execute(params![
                job_id,
                line.attempt,
                line.time,
                line.level.as_str(),
                line.stage,
                line.message
            ])
            .or_storage()?;
    }
    Ok(())
}

impl storage::JobLogs for SqliteConnection {
    fn job_logs_append(&self, job_id: &str, lines: &[LogLine]) -> storage::Result<()> {
        append_logs(self.sql(), job_id, lines)
    }

    fn job_logs_after(&self, job_id: &str, after: i64) -> storage::Result<Vec<(i64, LogLine)>> {
        self.sql()
            .prepare_cached(sql!("job_logs_get"))
            .and_then(|mut s| {
                s.query_map(params![job_id, after], |row| {
                    let level: String = row.get(3)?;
                    Ok((
                        row.get(0)?,
                        LogLine {
                            attempt: row.get(1)?,
                            time: row.get(2)?,
                            level: level.parse().unwrap_or(LogLevel::Info),
                            stage: row.get(4)?,
                            message: row.get(5)?,
                        },
                    ))
                })?
                .collect()
            })
            .or_storage()
    }

    fn job_logs_delete(&self, ids: &[String]) -> storage::Result<()> {
        self.sql()
            .prepare_cached(sql!("job_logs_prune"))
            .and_then(|mut s| s.execute([json_list(&ids)]))
            .map(drop)
            .or_storage()
    }
}

impl storage::Registrations for SqliteConnection {
    fn handler_register(&self, record: &HandlerRecord) -> storage::Result<()> {
        self.sql()
            .prepare_cached(sql!("handler_register"))
            .and_then(|mut s| {
                s.execute(params![
                    record.handler,
                    record.plugin,
                    record.plugin_version,
                    record.description,
                    record.registered_at
                ])
            })
            .map(drop)
            .or_storage()
    }

    fn handler_get(&self, handler: &str) -> storage::Result<Option<HandlerRecord>> {
        self.sql()
            .prepare_cached(sql!("handler_get"))
            .and_then(|mut s| {
                s.query_row([handler], |row| {
                    Ok(HandlerRecord {
                        handler: row.get(0)?,
                        plugin: row.get(1)?,
                        plugin_version: row.get(2)?,
                        description: row.get(3)?,
                        registered_at: row.get(4)?,
                    })
                })
                .optional()
            })
            .or_storage()
    }

    fn handler_names(&self) -> storage::Result<Vec<String>> {
        ids(self.sql(), sql!("handler_list"), [])
    }
}

impl storage::Budgets for SqliteConnection {
    fn budget_limits(&self) -> storage::Result<BudgetLimits> {
        let rows = self
            .sql()
            .prepare_cached(sql!("budget_list"))
            .and_then(|mut s| {
                s.query_map([], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, f64>(1)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .or_storage()?;
        let mut limits = BudgetLimits::default();
        for (period, limit) in rows {
            if let Ok(period) = period.parse::<Period>() {
                limits.set(period, Some(limit));
            }
        }
        Ok(limits)
    }

    fn budget_set(&self, period: Period, limit: f64, now: i64) -> storage::Result<()> {
        self.sql()
            .prepare_cached(sql!("budget_set"))
            .and_then(|mut s| s.execute(params![period.as_str(), limit, now]))
            .map(drop)
            .or_storage()
    }

    fn budget_clear(&self, period: Period) -> storage::Result<()> {
        self.sql()
            .prepare_cached(sql!("budget_clear"))
            .and_then(|mut s| s.execute([period.as_str()]))
            .map(drop)
            .or_storage()
    }

    fn budget_spend(&self, now: i64) -> storage::Result<Spend> {
        self.sql()
            .prepare_cached(sql!("budget_spend"))
            .and_then(|mut s| {
                s.query_row(
                    params![
                        now - Period::Daily.window_ms(),
                        now - Period::Weekly.window_ms(),
                        now - Period::Monthly.window_ms()
                    ],
                    |row| {
                        Ok(Spend {
                            daily: row.get(0)?,
                            weekly: row.get(1)?,
                            monthly: row.get(2)?,
                            reserved: row.get(3)?,
                        })
                    },
                )
            })
            .or_storage()
    }

    fn budget_paused(&self, batch: u32) -> storage::Result<Vec<(String, f64)>> {
        self.sql()
            .prepare_cached(sql!("job_ids_budget_paused"))
            .and_then(|mut s| {
                s.query_map([batch], |row| Ok((row.get(0)?, row.get(1)?)))?
                    .collect()
            })
            .or_storage()
    }

    fn handler_load(&self, handler: &str, since: i64) -> storage::Result<(u64, u64)> {
        self.sql()
            .prepare_cached(sql!("handler_load"))
            .and_then(|mut s| {
                s.query_row(params![handler, since], |row| {
                    Ok((row.get::<_, i64>(0)? as u64, row.get::<_, i64>(1)? as u64))
                })
            })
            .or_storage()
    }
}

impl storage::Nodes for SqliteConnection {
    fn node_heartbeat(&self, beat: &Heartbeat<'_>) -> storage::Result<()> {
        self.sql()
            .prepare_cached(sql!("node_upsert"))
            .and_then(|mut s| {
                s.execute(params![
                    beat.id,
                    beat.host,
                    beat.pid,
                    beat.now,
                    beat.lease_ms,
                    json_list(&beat.handlers)
                ])
            })
            .map(drop)
            .or_storage()
    }

    fn node_stop(&self, id: &str, now: i64) -> storage::Result<()> {
        self.sql()
            .prepare_cached(sql!("node_stop"))
            .and_then(|mut s| s.execute(params![id, now]))
            .map(drop)
            .or_storage()
    }

    fn nodes_serving(&self, handler: &str, now: i64) -> storage::Result<Vec<String>> {
        ids(self.sql(), sql!("nodes_serving"), params![handler, now])
    }

    fn node_get(&self, id: &str) -> storage::Result<Option<NodeRecord>> {
        self.sql()
            .prepare_cached(sql!("node_get"))
            .and_then(|mut s| {
                s.query_row([id], |row| {
                    Ok(NodeRecord {
                        id: row.get(0)?,
                        host: row.get(1)?,
                        pid: row.get(2)?,
                        started_at: row.get(3)?,
                        seen_at: row.get(4)?,
                        lease_ms: row.get(5)?,
                        stopped_at: row.get(6)?,
                    })
                })
                .optional()
            })
            .or_storage()
    }

    fn nodes_prune(&self, before: i64) -> storage::Result<usize> {
        self.sql()
            .prepare_cached(sql!("nodes_prune"))
            .and_then(|mut s| s.execute([before]))
            .or_storage()
    }
}

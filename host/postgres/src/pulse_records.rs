//! Pulse's statements besides jobs on PostgreSQL: job logs, handler registrations, budgets and
//! node records ([`storage::JobLogs`], [`storage::Registrations`], [`storage::Budgets`],
//! [`storage::Nodes`]).

use super::PostgresConnection;
use super::jobs::values::{count, get, ids, json_list, text};
use crate::pulse::{BudgetLimits, HandlerRecord, LogLine, NodeRecord, Period, Spend};
use crate::storage::{self, Heartbeat};

impl storage::JobLogs for PostgresConnection {
    fn job_logs_append(&self, job_id: &str, lines: &[LogLine]) -> storage::Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let attempts: Vec<i64> = lines.iter().map(|l| i64::from(l.attempt)).collect();
        let times: Vec<i64> = lines.iter().map(|l| l.time).collect();
        let levels: Vec<&str> = lines.iter().map(|l| l.level.as_str()).collect();
        let stages: Vec<_> = lines.iter().map(|l| text(&l.stage)).collect();
        let messages: Vec<_> = lines.iter().map(|l| text(&l.message)).collect();
        self.execute(
            include_str!("sql/job_log_insert.sql"),
            &[&job_id, &attempts, &times, &levels, &stages, &messages],
        )
        .map(drop)
    }

    fn job_logs_after(&self, job_id: &str, after: i64) -> storage::Result<Vec<(i64, LogLine)>> {
        let rows = self.query(include_str!("sql/job_logs_get.sql"), &[&job_id, &after])?;
        rows.iter()
            .map(|row| {
                let level: &str = get(row, 3)?;
                let attempt: i64 = get(row, 1)?;
                Ok((
                    get(row, 0)?,
                    LogLine {
                        attempt: u32::try_from(attempt).unwrap_or_default(),
                        time: get(row, 2)?,
                        level: level.parse().map_err(storage::Error::Corrupt)?,
                        stage: get(row, 4)?,
                        message: get(row, 5)?,
                    },
                ))
            })
            .collect()
    }

    fn job_logs_delete(&self, ids: &[String]) -> storage::Result<()> {
        self.execute(include_str!("sql/job_logs_prune.sql"), &[&ids])
            .map(drop)
    }
}

impl storage::Registrations for PostgresConnection {
    fn handler_register(&self, record: &HandlerRecord) -> storage::Result<()> {
        self.execute(
            include_str!("sql/handler_register.sql"),
            &[
                &record.handler,
                &record.plugin,
                &record.plugin_version,
                &text(&record.description),
                &record.registered_at,
            ],
        )
        .map(drop)
    }

    fn handler_get(&self, handler: &str) -> storage::Result<Option<HandlerRecord>> {
        let Some(row) = self.query_opt(include_str!("sql/handler_get.sql"), &[&handler])? else {
            return Ok(None);
        };
        Ok(Some(HandlerRecord {
            handler: get(&row, 0)?,
            plugin: get(&row, 1)?,
            plugin_version: get(&row, 2)?,
            description: get(&row, 3)?,
            registered_at: get(&row, 4)?,
        }))
    }

    fn handler_names(&self) -> storage::Result<Vec<String>> {
        ids(&self.query(include_str!("sql/handler_list.sql"), &[])?)
    }
}

impl storage::Budgets for PostgresConnection {
    fn budget_limits(&self) -> storage::Result<BudgetLimits> {
        let mut limits = BudgetLimits::default();
        for row in self.query(include_str!("sql/budget_list.sql"), &[])? {
            let period: &str = get(&row, 0)?;
            if let Ok(period) = period.parse::<Period>() {
                limits.set(period, Some(get(&row, 1)?));
            }
        }
        Ok(limits)
    }

    fn budget_set(&self, period: Period, limit: f64, now: i64) -> storage::Result<()> {
        self.execute(
            include_str!("sql/budget_set.sql"),
            &[&period.as_str(), &limit, &now],
        )
        .map(drop)
    }

    fn budget_clear(&self, period: Period) -> storage::Result<()> {
        self.execute(include_str!("sql/budget_clear.sql"), &[&period.as_str()])
            .map(drop)
    }

    fn budget_spend(&self, now: i64) -> storage::Result<Spend> {
        let row = self.query_one(
            include_str!("sql/budget_spend.sql"),
            &[
                &(now - Period::Daily.window_ms()),
                &(now - Period::Weekly.window_ms()),
                &(now - Period::Monthly.window_ms()),
            ],
        )?;
        Ok(Spend {
            daily: get(&row, 0)?,
            weekly: get(&row, 1)?,
            monthly: get(&row, 2)?,
            reserved: get(&row, 3)?,
        })
    }

    fn budget_paused(&self, batch: u32) -> storage::Result<Vec<(String, f64)>> {
        let rows = self.query(
            include_str!("sql/job_ids_budget_paused.sql"),
            &[&i64::from(batch)],
        )?;
        rows.iter()
            .map(|row| Ok((get(row, 0)?, get(row, 1)?)))
            .collect()
    }

    fn handler_load(&self, handler: &str, since: i64) -> storage::Result<(u64, u64)> {
        let row = self.query_one(include_str!("sql/handler_load.sql"), &[&handler, &since])?;
        Ok((count(&row, 0)?, count(&row, 1)?))
    }
}

impl storage::Nodes for PostgresConnection {
    fn node_heartbeat(&self, beat: &Heartbeat<'_>) -> storage::Result<()> {
        self.execute(
            include_str!("sql/node_upsert.sql"),
            &[
                &beat.id,
                &beat.host,
                &i64::from(beat.pid),
                &beat.now,
                &beat.lease_ms,
                &json_list(&beat.handlers),
            ],
        )
        .map(drop)
    }

    fn node_stop(&self, id: &str, now: i64) -> storage::Result<()> {
        self.execute(include_str!("sql/node_stop.sql"), &[&id, &now])
            .map(drop)
    }

    fn nodes_serving(&self, handler: &str, now: i64) -> storage::Result<Vec<String>> {
        ids(&self.query(include_str!("sql/nodes_serving.sql"), &[&handler, &now])?)
    }

    fn node_get(&self, id: &str) -> storage::Result<Option<NodeRecord>> {
        let Some(row) = self.query_opt(include_str!("sql/node_get.sql"), &[&id])? else {
            return Ok(None);
        };
        let pid: i64 = get(&row, 2)?;
        Ok(Some(NodeRecord {
            id: get(&row, 0)?,
            host: get(&row, 1)?,
            pid: u32::try_from(pid).unwrap_or_default(),
            started_at: get(&row, 3)?,
            seen_at: get(&row, 4)?,
            lease_ms: get(&row, 5)?,
            stopped_at: get(&row, 6)?,
        }))
    }

    fn nodes_prune(&self, before: i64) -> storage::Result<usize> {
        let pruned = self.execute(include_str!("sql/nodes_prune.sql"), &[&before])?;
        Ok(usize::try_from(pruned).unwrap_or(usize::MAX))
    }
}

#[cfg(test)]
mod tests;

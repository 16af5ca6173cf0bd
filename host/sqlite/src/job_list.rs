//! The statement that lists a page of jobs ([`JobQuery`]): the columns of `job_list.sql`, the
//! query's conditions, newest first.
//!
//! Each wanted status is its own branch, walking that status's index in id order: a finished
//! status `jobs_finished_by_handler` (with a handler) or `jobs_finished`, stated with the
//! `completed_at IS NOT NULL` those partial indexes hold (true of every finished job: a CHECK
//! ties them). Several branches are merged in id order by a compound `SELECT ... UNION ALL`,
//! which SQLite runs as coroutines, so the page's `LIMIT` stops every walk early. Without a
//! status, a handler's jobs come from `jobs_by_handler` and all jobs from the primary key.
//! Source and time conditions are checked on the rows the walk meets.

use rusqlite::types::Value as SqlValue;

use crate::pulse::listing::{JobQuery, SourceMatch};

use super::values::sql;

/// A statement and its arguments.
pub(super) struct Plan {
    pub(super) sql: String,
    pub(super) args: Vec<SqlValue>,
}

/// The statement that reads up to `query.fetch` jobs of `query`, newest first.
pub(super) fn plan(query: &JobQuery) -> Plan {
    let mut args = Args::default();
    let mut shared = Vec::new();
    if let Some(handler) = &query.handler {
        shared.push(format!("handler = {}", args.text(handler)));
    }
    match &query.source {
        Some(SourceMatch::Exact(source)) => {
            shared.push(format!("source = {}", args.text(source)));
        }
        Some(SourceMatch::Prefix(prefix)) => {
            let prefix = args.text(prefix);
            shared.push(format!("substr(source, 1, length({prefix})) = {prefix}"));
        }
        None => {}
    }
    if let Some(since) = query.since {
        shared.push(format!("created_at >= {}", args.int(since)));
    }
    if let Some(until) = query.until {
        shared.push(format!("created_at <= {}", args.int(until)));
    }
    if let Some(id) = &query.before_id {
        shared.push(format!("id < {}", args.text(id)));
    }
    let branches: Vec<Vec<String>> = if query.statuses.is_empty() {
        vec![shared]
    } else {
        query
            .statuses
            .iter()
            .map(|status| {
                let finished = if status.is_final() {
                    "NOT NULL"
                } else {
                    "NULL"
                };
                let mut conditions = vec![
                    format!("status = {}", args.text(status.as_str())),
                    format!("completed_at IS {finished}"),
                ];
                conditions.extend(shared.iter().cloned());
                conditions
            })
            .collect()
    };
    let select = |conditions: &Vec<String>| {
        // The file's comments left out: branches follow each other on one line.
        let mut sql: String = sql!("job_list")
            .lines()
            .filter(|line| !line.starts_with("--"))
            .collect::<Vec<_>>()
            .join(" ");
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        sql
    };
    // `+ 0`: with a bare `LIMIT ?` SQLite plans with the bound value and so prepares the
    // statement again at every execution.
    let limit = args.int(i64::from(query.fetch));
    let union: Vec<String> = branches.iter().map(select).collect();
    Plan {
        sql: format!(
            "{} ORDER BY id DESC LIMIT {limit} + 0",
            union.join(" UNION ALL ")
        ),
        args: args.values,
    }
}

/// Numbered statement arguments, so that every branch shares the conditions' arguments.
#[derive(Default)]
struct Args {
    values: Vec<SqlValue>,
}

impl Args {
    fn push(&mut self, value: SqlValue) -> String {
        self.values.push(value);
        format!("?{}", self.values.len())
    }

    fn text(&mut self, text: &str) -> String {
        self.push(SqlValue::Text(text.to_owned()))
    }

    fn int(&mut self, value: i64) -> String {
        self.push(SqlValue::Integer(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SqliteBackend;
    use crate::pulse::JobStatus;

    /// The steps of the plan SQLite picks for `query`.
    fn steps(conn: &rusqlite::Connection, query: &JobQuery) -> String {
        let plan = plan(query);
        let mut statement = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", plan.sql))
            .unwrap();
        let steps: Vec<String> = statement
            .query_map(rusqlite::params_from_iter(plan.args), |row| row.get(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        steps.join("\n")
    }

    #[test]
    fn pages_of_finished_jobs_walk_an_index_in_id_order_without_sorting() {
        let backend = SqliteBackend::temporary().unwrap();
        let conn = backend.connection().unwrap();
        let page = |statuses: &[JobStatus], handler: Option<&str>| JobQuery {
            statuses: statuses.to_vec(),
            handler: handler.map(str::to_owned),
            before_id: Some("01J".into()),
            since: Some(5),
            ..JobQuery::new(51)
        };
        let cases = [
            (
                page(&[JobStatus::Failed], Some("h/a")),
                "jobs_finished_by_handler",
            ),
            (
                page(&[JobStatus::Failed, JobStatus::Cancelled], Some("h/a")),
                "jobs_finished_by_handler",
            ),
            (page(&[JobStatus::Completed], None), "jobs_finished"),
            (page(&[], Some("h/a")), "jobs_by_handler"),
        ];
        for (query, index) in cases {
            let steps = steps(conn.sql(), &query);
            assert!(
                steps.contains(&format!("USING INDEX {index} ")),
                "{query:?}:\n{steps}"
            );
            assert!(!steps.contains("TEMP B-TREE"), "{query:?} sorts:\n{steps}");
            assert!(!steps.contains("SCAN jobs"), "{query:?} scans:\n{steps}");
        }
        // Every job, newest first: backwards on the primary key.
        let steps = steps(conn.sql(), &JobQuery::new(51));
        assert!(!steps.contains("TEMP B-TREE"), "{steps}");
    }
}

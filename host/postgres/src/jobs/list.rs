//! The statement that lists a page of jobs ([`JobQuery`]) on PostgreSQL: the same index walks
//! as the SQLite backend's, so the same query gives the same pages.
//!
//! Each wanted status is its own branch, walking that status's index in id order, `LIMIT
//! fetch`: a finished status `jobs_finished_by_handler` (with a handler) or `jobs_finished`,
//! stated with the `completed_at IS NOT NULL` those partial indexes hold (true of every
//! finished job: a CHECK ties them). Several branches are merged in id order (a Merge Append
//! under the outer `LIMIT`). Without a status, a handler's jobs come from `jobs_by_handler`
//! and all jobs from the primary key. Source and time conditions are checked on the rows the
//! walk meets.

use tokio_postgres::types::ToSql;

use crate::pulse::listing::{JobQuery, SourceMatch};

/// A statement and its arguments.
pub(super) struct Plan {
    pub(super) sql: String,
    args: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Plan {
    /// The arguments, as the client takes them.
    pub(super) fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.args
            .iter()
            .map(|arg| arg.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
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
            shared.push(format!("starts_with(source, {})", args.text(prefix)));
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
    let limit = args.int(i64::from(query.fetch));
    let select = |conditions: &[String]| {
        let mut sql: String = include_str!("../sql/job_list.sql")
            .lines()
            .filter(|line| !line.starts_with("--"))
            .collect::<Vec<_>>()
            .join(" ");
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT {limit}"));
        sql
    };
    let sql = match query.statuses.as_slice() {
        [] => select(&shared),
        statuses => {
            let branches: Vec<String> = statuses
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
                    format!("({})", select(&conditions))
                })
                .collect();
            if branches.len() == 1 {
                branches.concat()
            } else {
                format!(
                    "{} ORDER BY id DESC LIMIT {limit}",
                    branches.join(" UNION ALL ")
                )
            }
        }
    };
    Plan {
        sql,
        args: args.values,
    }
}

/// Numbered statement arguments, so that every branch shares the conditions' arguments.
#[derive(Default)]
struct Args {
    values: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Args {
    fn text(&mut self, text: &str) -> String {
        self.values.push(Box::new(text.to_owned()));
        format!("${}::text", self.values.len())
    }

    fn int(&mut self, value: i64) -> String {
        self.values.push(Box::new(value));
        format!("${}::bigint", self.values.len())
    }
}

//! STUB: the statements of JobLogs, Registrations, Budgets, Nodes (to be written).
#![allow(unused_variables, unused_imports)]

use super::PostgresConnection;
use crate::ats::*;
use crate::pulse::triggers::*;
use crate::pulse::*;
use crate::storage::{self, *};

impl JobLogs for PostgresConnection {
    fn job_logs_append(&self, job_id: &str, lines: &[LogLine]) -> storage::Result<()> {
        unimplemented!("JobLogs")
    }

    fn job_logs_after(&self, job_id: &str, after: i64) -> storage::Result<Vec<(i64, LogLine)>> {
        unimplemented!("JobLogs")
    }

    fn job_logs_delete(&self, ids: &[String]) -> storage::Result<()> {
        unimplemented!("JobLogs")
    }
}

impl Registrations for PostgresConnection {
    fn handler_register(&self, record: &HandlerRecord) -> storage::Result<()> {
        unimplemented!("Registrations")
    }

    fn handler_get(&self, handler: &str) -> storage::Result<Option<HandlerRecord>> {
        unimplemented!("Registrations")
    }

    fn handler_names(&self) -> storage::Result<Vec<String>> {
        unimplemented!("Registrations")
    }
}

impl Budgets for PostgresConnection {
    fn budget_limits(&self) -> storage::Result<BudgetLimits> {
        unimplemented!("Budgets")
    }

    fn budget_set(&self, period: Period, limit: f64, now: i64) -> storage::Result<()> {
        unimplemented!("Budgets")
    }

    fn budget_clear(&self, period: Period) -> storage::Result<()> {
        unimplemented!("Budgets")
    }

    fn budget_spend(&self, now: i64) -> storage::Result<Spend> {
        unimplemented!("Budgets")
    }

    fn budget_paused(&self, batch: u32) -> storage::Result<Vec<(String, f64)>> {
        unimplemented!("Budgets")
    }

    fn handler_load(&self, handler: &str, since: i64) -> storage::Result<(u64, u64)> {
        unimplemented!("Budgets")
    }
}

impl Nodes for PostgresConnection {
    fn node_heartbeat(&self, beat: &Heartbeat<'_>) -> storage::Result<()> {
        unimplemented!("Nodes")
    }

    fn node_stop(&self, id: &str, now: i64) -> storage::Result<()> {
        unimplemented!("Nodes")
    }

    fn nodes_serving(&self, handler: &str, now: i64) -> storage::Result<Vec<String>> {
        unimplemented!("Nodes")
    }

    fn node_get(&self, id: &str) -> storage::Result<Option<NodeRecord>> {
        unimplemented!("Nodes")
    }

    fn nodes_prune(&self, before: i64) -> storage::Result<usize> {
        unimplemented!("Nodes")
    }
}

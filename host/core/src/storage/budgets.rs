//! Statements on spend limits and what counts against them.

use super::Result;
use crate::pulse::{BudgetLimits, Period, Spend};

/// Statements on budgets.
pub trait Budgets {
    /// The limits in force (periods this build does not know are left out).
    fn budget_limits(&self) -> Result<BudgetLimits>;

    /// Set the limit of `period`.
    fn budget_set(&self, period: Period, limit: f64, now: i64) -> Result<()>;

    /// Remove the limit of `period`.
    fn budget_clear(&self, period: Period) -> Result<()>;

    /// Settled spend in each window ending `now`, and what running jobs reserve.
    fn budget_spend(&self, now: i64) -> Result<Spend>;

    /// Jobs paused with `budget_exceeded`, most urgent first, at most `batch`: id and estimate.
    fn budget_paused(&self, batch: u32) -> Result<Vec<(String, f64)>>;

    /// Running jobs of `handler`, and its job starts after `since`: what rate and
    /// concurrency limits count.
    fn handler_load(&self, handler: &str, since: i64) -> Result<(u64, u64)>;
}

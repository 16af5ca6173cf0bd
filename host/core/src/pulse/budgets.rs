//! Pulse's operations on budgets: limits, spend, and resuming what budget pauses held back.

use super::budget::{BudgetLimits, Period, ResumeReport, Spend};
use super::guard::wrong_state;
use super::keys;
use super::{Error, Result};
use crate::storage::{Connection, Store};

/// The spend limits in force.
///
/// # Errors
///
/// [`Error::Storage`] on database failure.
pub fn budget_limits(store: &dyn Store) -> Result<BudgetLimits> {
    Ok(store.budget_limits()?)
}

/// Set (or with `None`, remove) the limit of one period.
///
/// # Errors
///
/// [`Error::Invalid`] for a negative or non-finite limit; [`Error::Storage`] on database
/// failure.
pub fn set_budget(store: &dyn Store, period: Period, limit: Option<f64>, now: i64) -> Result<()> {
    match limit {
        Some(limit) if !limit.is_finite() || limit < 0.0 => Err(Error::Invalid(format!(
            "{period} budget must be a non-negative number, got {limit}"
        ))),
        Some(limit) => Ok(store.budget_set(period, limit, now)?),
        None => Ok(store.budget_clear(period)?),
    }
}

/// Settled spend in each window ending `now`, and what running jobs reserve.
///
/// # Errors
///
/// [`Error::Storage`] on database failure.
pub fn spend(store: &dyn Store, now: i64) -> Result<Spend> {
    Ok(store.budget_spend(now)?)
}

/// Resume jobs paused with `budget_exceeded` whose estimates fit now, most urgent first, looking
/// at `batch` of them at most. Everything resumes when no budget is set.
///
/// # Errors
///
/// [`Error::Storage`] on database failure.
pub fn resume_within_budget(
    conn: &mut dyn Connection,
    batch: u32,
    now: i64,
) -> Result<ResumeReport> {
    let tx = conn.transaction()?;
    // Serialised with the resumers of other nodes, which would otherwise find the same jobs
    // paused and resume them twice (the second's guarded resume missing), and with claims
    // weighing the same spend.
    tx.exclusive(keys::BUDGET)?;
    let paused = tx.budget_paused(batch)?;
    let mut report = ResumeReport::default();
    if paused.is_empty() {
        return Ok(report);
    }
    let mut headroom = tx.budget_limits()?.headroom(&tx.budget_spend(now)?);
    for (id, estimate) in paused {
        match headroom {
            Some(room) if estimate > room => report.waiting += 1,
            _ => {
                if !tx.job_resume(&id, now)? {
                    return Err(wrong_state(&**tx, &id, "resumed"));
                }
                headroom = headroom.map(|room| room - estimate);
                report.resumed.push(id);
            }
        }
    }
    tx.commit()?;
    Ok(report)
}

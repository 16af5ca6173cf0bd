//! Spend budgets over sliding windows.
//!
//! Spend in a window is the settled `cost_actual` of jobs that finished in it (completed,
//! failed or cancelled: money spent is spent), plus a reservation for every running job: the
//! larger of its estimate and what it reported so far. When a claim takes a job with a
//! `cost_estimate` above zero that does not fit the tightest window, the claim pauses it with
//! reason `budget_exceeded` (its attempt not counted). Jobs with no estimate are never held.
//! The [`super::BudgetResumer`] puts paused jobs back in the queue, most urgent first, as long as
//! their estimates fit; it runs every few seconds, so a job that does not fit waits instead of
//! spinning between claim and resume.

use std::fmt;
use std::str::FromStr;

/// A spend window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// The last 24 hours.
    Daily,
    /// The last 7 days.
    Weekly,
    /// The last 30 days.
    Monthly,
}

impl Period {
    /// Every period, shortest first.
    pub const ALL: [Self; 3] = [Self::Daily, Self::Weekly, Self::Monthly];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Daily => "daily",
            Self::Weekly => "weekly",
            Self::Monthly => "monthly",
        }
    }

    /// The window's length in milliseconds.
    pub fn window_ms(self) -> i64 {
        const DAY: i64 = 24 * 3600 * 1000;
        match self {
            Self::Daily => DAY,
            Self::Weekly => 7 * DAY,
            Self::Monthly => 30 * DAY,
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Period {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == text)
            .ok_or_else(|| format!("unknown budget period '{text}' (daily, weekly or monthly)"))
    }
}

/// Spend limits; a period with `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetLimits {
    /// Limit over the last 24 hours.
    pub daily: Option<f64>,
    /// Limit over the last 7 days.
    pub weekly: Option<f64>,
    /// Limit over the last 30 days.
    pub monthly: Option<f64>,
}

impl BudgetLimits {
    /// The limit of one period.
    pub fn get(&self, period: Period) -> Option<f64> {
        match period {
            Period::Daily => self.daily,
            Period::Weekly => self.weekly,
            Period::Monthly => self.monthly,
        }
    }

    /// Set the limit of one period.
    pub fn set(&mut self, period: Period, limit: Option<f64>) {
        match period {
            Period::Daily => self.daily = limit,
            Period::Weekly => self.weekly = limit,
            Period::Monthly => self.monthly = limit,
        }
    }

    /// Whether no period is limited.
    pub fn is_empty(&self) -> bool {
        Period::ALL.iter().all(|p| self.get(*p).is_none())
    }

    /// What more may be reserved now: the smallest `limit - settled` over limited periods,
    /// less what running jobs reserve. Negative when over budget; `None` when unlimited.
    pub fn headroom(&self, spend: &Spend) -> Option<f64> {
        Period::ALL
            .into_iter()
            .filter_map(|p| self.get(p).map(|limit| limit - spend.settled(p)))
            .reduce(f64::min)
            .map(|room| room - spend.reserved)
    }
}

/// Spend per window at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Spend {
    /// Settled in the last 24 hours.
    pub daily: f64,
    /// Settled in the last 7 days.
    pub weekly: f64,
    /// Settled in the last 30 days.
    pub monthly: f64,
    /// Reserved by running jobs.
    pub reserved: f64,
}

impl Spend {
    /// Settled spend of one period.
    pub fn settled(&self, period: Period) -> f64 {
        match period {
            Period::Daily => self.daily,
            Period::Weekly => self.weekly,
            Period::Monthly => self.monthly,
        }
    }
}

/// What one run of the resumer did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResumeReport {
    /// Jobs put back in the queue.
    pub resumed: Vec<String>,
    /// Jobs that still do not fit.
    pub waiting: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headroom_is_the_tightest_window_less_reservations() {
        let limits = BudgetLimits {
            daily: Some(10.0),
            weekly: Some(12.0),
            monthly: None,
        };
        let spend = Spend {
            daily: 4.0,
            weekly: 9.0,
            monthly: 50.0,
            reserved: 1.0,
        };
        assert_eq!(limits.headroom(&spend), Some(2.0));
        assert_eq!(BudgetLimits::default().headroom(&spend), None);
    }
}

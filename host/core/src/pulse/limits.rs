//! Per-handler rate and concurrency limits, checked by the claim.
//!
//! A handler at its limit is simply not claimed: its jobs stay `queued` and keep their place,
//! and the next claim after the window allows takes them. Pausing them instead (with reason
//! `rate_limited`) would turn every claim into a pause and every window into a resume for the
//! whole backlog; `rate_limited` stays a reason a user or a future scheduler can give.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// The window of a rate limit: calls per minute.
pub const RATE_WINDOW_MS: i64 = 60_000;

/// Limits of one handler. Both count jobs on every node sharing the database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandlerLimit {
    /// At most this many job starts in any 60 s window (each job counted at its latest start).
    pub per_minute: Option<u32>,
    /// At most this many jobs running at once.
    pub concurrency: Option<u32>,
}

impl HandlerLimit {
    /// How many more jobs may start now, given `running` jobs and `recent_starts` in the last
    /// minute; `None` when unlimited.
    pub fn room(&self, running: u64, recent_starts: u64) -> Option<u64> {
        let by_rate = self
            .per_minute
            .map(|n| u64::from(n).saturating_sub(recent_starts));
        let by_concurrency = self
            .concurrency
            .map(|n| u64::from(n).saturating_sub(running));
        match (by_rate, by_concurrency) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Limits by full handler name; handlers not named are unlimited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HandlerLimits(BTreeMap<String, HandlerLimit>);

impl HandlerLimits {
    /// No limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// The limit of `handler`, if any.
    pub fn get(&self, handler: &str) -> Option<&HandlerLimit> {
        self.0.get(handler)
    }

    /// Set the rate limit of `handler`.
    pub fn set_per_minute(&mut self, handler: &str, per_minute: u32) {
        self.0.entry(handler.to_owned()).or_default().per_minute = Some(per_minute);
    }

    /// Set the concurrency limit of `handler`.
    pub fn set_concurrency(&mut self, handler: &str, concurrency: u32) {
        self.0.entry(handler.to_owned()).or_default().concurrency = Some(concurrency);
    }

    /// Whether no handler is limited.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every limited handler.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &HandlerLimit)> {
        self.0.iter().map(|(name, limit)| (name.as_str(), limit))
    }
}

/// `HANDLER=N`, as given to `qntx run --rate` and `--concurrency`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerSetting {
    /// Full handler name.
    pub handler: String,
    /// The number.
    pub value: u32,
}

impl FromStr for HandlerSetting {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (handler, value) = text
            .rsplit_once('=')
            .ok_or_else(|| format!("'{text}' is not HANDLER=N"))?;
        let value = value
            .parse()
            .map_err(|_| format!("'{value}' in '{text}' is not a whole number"))?;
        if handler.is_empty() {
            return Err(format!("'{text}' names no handler"));
        }
        Ok(Self {
            handler: handler.to_owned(),
            value,
        })
    }
}

impl fmt::Display for HandlerSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.handler, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_is_the_tighter_of_rate_and_concurrency() {
        let limit = HandlerLimit {
            per_minute: Some(10),
            concurrency: Some(2),
        };
        assert_eq!(limit.room(0, 0), Some(2));
        assert_eq!(limit.room(1, 9), Some(1));
        assert_eq!(limit.room(0, 12), Some(0));
        assert_eq!(HandlerLimit::default().room(100, 100), None);
    }

    #[test]
    fn settings_parse_and_refuse_bad_input() {
        let setting: HandlerSetting = "text/stats=5".parse().unwrap();
        assert_eq!((setting.handler.as_str(), setting.value), ("text/stats", 5));
        assert_eq!(
            "text/stats".parse::<HandlerSetting>().unwrap_err(),
            "'text/stats' is not HANDLER=N"
        );
        assert!("=3".parse::<HandlerSetting>().is_err());
        assert!("a/b=-1".parse::<HandlerSetting>().is_err());
    }
}

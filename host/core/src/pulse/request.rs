//! A job as a front end receives it: JSON fields with durations and times as text, the same
//! for `qntx job enqueue --batch` lines and the HTTP API's bodies.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::{Error, NewJob, Result, bounds};

/// An enqueue request. What it leaves out comes from the front end's defaults
/// ([`JobRequest::into_job`]).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobRequest {
    /// Full handler name.
    pub handler: Option<String>,
    /// The job's input.
    pub payload: Option<Value>,
    /// Higher runs first (-1000 to 1000).
    pub priority: Option<i32>,
    /// Attempts before it fails for good.
    pub max_attempts: Option<u32>,
    /// Wall-clock limit of each attempt: `10s`, `5m`.
    pub timeout: Option<String>,
    /// Run no earlier than this long from now.
    pub delay: Option<String>,
    /// Run no earlier than this time (RFC 3339).
    pub run_at: Option<String>,
    /// Where it comes from; with the handler, the key of `unique`.
    pub source: Option<String>,
    /// Enqueue nothing if an active job has the same handler and source.
    pub unique: Option<bool>,
    /// Expected cost, checked against budgets.
    pub cost_estimate: Option<f64>,
}

impl JobRequest {
    /// The job asked for: each field given, else `defaults`'s; checked
    /// ([`NewJob::validate`]).
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] naming the field: no handler, both `run_at` and `delay`, a duration
    /// or time that does not parse or is out of bounds, a payload over its limit.
    pub fn into_job(self, defaults: &NewJob, now: i64) -> Result<NewJob> {
        let handler = self
            .handler
            .or_else(|| (!defaults.handler.is_empty()).then(|| defaults.handler.clone()))
            .ok_or_else(|| Error::Invalid("no handler: name the job's handler".into()))?;
        let run_at = match (&self.run_at, &self.delay) {
            (Some(_), Some(_)) => {
                return Err(Error::Invalid("give run_at or delay, not both".into()));
            }
            (Some(at), None) => Some(parse_time(at).map_err(Error::Invalid)?),
            (None, Some(delay)) => Some(delay_from(
                now,
                parse_duration(delay).map_err(Error::Invalid)?,
            )?),
            (None, None) => defaults.run_at,
        };
        let timeout_ms = match &self.timeout {
            Some(timeout) => Some(bounds::timeout_ms(
                parse_duration(timeout).map_err(Error::Invalid)?,
            )?),
            None => defaults.timeout_ms,
        };
        let payload = self.payload.unwrap_or_else(|| defaults.payload.clone());
        let job = NewJob {
            handler,
            payload,
            source: self.source.unwrap_or_else(|| defaults.source.clone()),
            priority: self.priority.unwrap_or(defaults.priority),
            max_attempts: self.max_attempts.unwrap_or(defaults.max_attempts),
            run_at,
            timeout_ms,
            cost_estimate: self.cost_estimate.unwrap_or(defaults.cost_estimate),
            unique: self.unique.unwrap_or(defaults.unique),
            ..NewJob::new(String::new(), Value::Null)
        };
        job.validate()?;
        Ok(job)
    }
}

/// `now` plus `delay`, checked against the latest run-at time.
///
/// # Errors
///
/// [`Error::Invalid`] when the time is past 9999-12-31.
pub fn delay_from(now: i64, delay: Duration) -> Result<i64> {
    let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
    bounds::run_at_after(now, ms)
}

/// A duration like `30s`, `5m` or `250ms`.
///
/// # Errors
///
/// A message naming the text.
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    humantime::parse_duration(text)
        .map_err(|e| format!("'{text}' is not a duration like 30s, 5m or 250ms: {e}"))
}

/// An RFC 3339 time (`2030-01-01T09:00:00Z`) as Unix milliseconds, from 1970 to 9999-12-31.
///
/// # Errors
///
/// A message naming the text.
pub fn parse_time(text: &str) -> std::result::Result<i64, String> {
    let time = humantime::parse_rfc3339_weak(text)
        .map_err(|e| format!("'{text}' is not a time like 2030-01-01T09:00:00Z: {e}"))?;
    let ms = time
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| format!("'{text}' is before 1970"))?
        .as_millis();
    i64::try_from(ms)
        .ok()
        .filter(|ms| *ms <= bounds::MAX_RUN_AT_MS)
        .ok_or_else(|| format!("'{text}' is after 9999-12-31T23:59:59Z"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: &str) -> JobRequest {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn fields_left_out_come_from_the_defaults() {
        let defaults = NewJob {
            source: "api".into(),
            priority: 5,
            ..NewJob::new("text/echo", serde_json::json!({"x": 1}))
        };
        let job = request(r#"{"timeout": "10s"}"#)
            .into_job(&defaults, 0)
            .unwrap();
        assert_eq!(
            (job.handler.as_str(), job.source.as_str(), job.priority),
            ("text/echo", "api", 5)
        );
        assert_eq!(job.timeout_ms, Some(10_000));
        assert_eq!(job.payload, serde_json::json!({"x": 1}));
    }

    #[test]
    fn bad_fields_are_named() {
        let defaults = NewJob::new("", Value::Null);
        let error = |json: &str| {
            request(json)
                .into_job(&defaults, 0)
                .unwrap_err()
                .to_string()
        };
        assert!(error("{}").contains("no handler"));
        assert!(
            error(r#"{"handler": "a/b", "delay": "1m", "run_at": "2030-01-01T00:00:00Z"}"#)
                .contains("not both")
        );
        assert!(error(r#"{"handler": "a/b", "run_at": "soon"}"#).contains("'soon' is not a time"));
        assert!(
            error(r#"{"handler": "a/b", "timeout": "ages"}"#).contains("'ages' is not a duration")
        );
        assert!(error(r#"{"handler": "a/b", "priority": 5000}"#).contains("priority 5000"));
        assert!(serde_json::from_str::<JobRequest>(r#"{"handler": "a/b", "colour": 1}"#).is_err());
    }
}

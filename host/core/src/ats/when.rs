//! Times as people write them in queries: `now`, `today`, `yesterday`, `7 days ago`, `2h ago`,
//! `2024-05-01`, `2024-05-01T12:00:00Z`. All in UTC.

use std::time::{Duration, UNIX_EPOCH};

const DAY_MS: i64 = 86_400_000;

/// Which end of a time range a time bounds. A day (`today`, `2024-05-01`) starts at its first
/// millisecond and ends at its last, so `until 2024-05-01` includes all of that day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// `since`, the lower bound.
    Start,
    /// `until`, the upper bound.
    End,
}

/// Unix milliseconds of `text`, relative to `now_ms` where it is relative.
///
/// # Errors
///
/// A message saying which forms are understood.
pub fn parse(text: &str, now_ms: i64, edge: Edge) -> Result<i64, String> {
    let text = text.trim();
    let lower = text.to_lowercase();
    let day = |start: i64| match edge {
        Edge::Start => start,
        Edge::End => start + DAY_MS - 1,
    };
    let today = now_ms.div_euclid(DAY_MS) * DAY_MS;
    match lower.as_str() {
        "now" => return Ok(now_ms),
        "today" => return Ok(day(today)),
        "yesterday" => return Ok(day(today - DAY_MS)),
        _ => {}
    }
    if let Some(span) = lower.strip_suffix("ago") {
        let span = humantime::parse_duration(span.trim()).map_err(|e| {
            format!(
                "'{text}' is not a time: '{}' is not a duration ({e})",
                span.trim()
            )
        })?;
        let ms = i64::try_from(span.as_millis()).unwrap_or(i64::MAX);
        return Ok(now_ms.saturating_sub(ms));
    }
    let is_date = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    let rfc3339 = if is_date {
        format!("{text}T00:00:00Z")
    } else {
        text.to_owned()
    };
    match humantime::parse_rfc3339_weak(&rfc3339) {
        Ok(time) => {
            // humantime reads years from 1970 on only.
            let ms = millis(time.duration_since(UNIX_EPOCH).unwrap_or_default());
            Ok(if is_date { day(ms) } else { ms })
        }
        Err(_) => Err(format!(
            "'{text}' is not a time; use 'N minutes|hours|days|weeks ago', 'today', \
             'yesterday', 'now', YYYY-MM-DD or RFC 3339 (2024-05-01T12:00:00Z)"
        )),
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-05-10T15:30:00Z
    const NOW: i64 = 1_715_355_000_000;

    fn at(text: &str) -> i64 {
        parse(text, NOW, Edge::Start).unwrap()
    }

    #[test]
    fn relative_times_count_back_from_now() {
        assert_eq!(at("now"), NOW);
        assert_eq!(at("7 days ago"), NOW - 7 * DAY_MS);
        assert_eq!(at("1 day ago"), NOW - DAY_MS);
        assert_eq!(at("3 hours ago"), NOW - 3 * 3_600_000);
        assert_eq!(at("90 minutes ago"), NOW - 90 * 60_000);
        assert_eq!(at("2 weeks ago"), NOW - 14 * DAY_MS);
        assert_eq!(at("2h30m ago"), NOW - 9_000_000);
        assert_eq!(at("5 Days Ago"), NOW - 5 * DAY_MS);
    }

    #[test]
    fn days_cover_their_whole_span_at_either_edge() {
        let start = 1_715_299_200_000; // 2024-05-10T00:00:00Z
        assert_eq!(at("today"), start);
        assert_eq!(parse("today", NOW, Edge::End).unwrap(), start + DAY_MS - 1);
        assert_eq!(at("yesterday"), start - DAY_MS);
        assert_eq!(at("2024-05-10"), start);
        assert_eq!(
            parse("2024-05-10", NOW, Edge::End).unwrap(),
            start + DAY_MS - 1
        );
    }

    #[test]
    fn rfc3339_times_are_exact() {
        assert_eq!(at("2024-05-10T15:30:00Z"), NOW);
        assert_eq!(
            parse("2024-05-10T15:30:00.250Z", NOW, Edge::End).unwrap(),
            NOW + 250
        );
    }

    #[test]
    fn nonsense_says_what_is_understood() {
        let error = parse("last tuesday", NOW, Edge::Start).unwrap_err();
        assert!(
            error.starts_with("'last tuesday' is not a time; use 'N minutes"),
            "{error}"
        );
        let error = parse("seven days ago", NOW, Edge::Start).unwrap_err();
        assert!(
            error.starts_with("'seven days ago' is not a time: 'seven days' is not a duration"),
            "{error}"
        );
        assert!(parse("2024-13-01", NOW, Edge::Start).is_err());
    }
}

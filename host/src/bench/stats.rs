//! Small measuring tools: timing samples, percentiles, resident memory.

use std::time::Instant;

/// Median, 99th percentile and count of a set of samples (any unit).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Summary {
    /// How many samples.
    pub samples: usize,
    /// The middle sample.
    pub p50: f64,
    /// The sample below which 99 % fall.
    pub p99: f64,
    /// The largest sample.
    pub max: f64,
}

impl Summary {
    /// Summarise `samples` (sorted here).
    pub fn of(mut samples: Vec<f64>) -> Self {
        samples.sort_by(f64::total_cmp);
        let pick = |q: f64| {
            samples
                .get(((samples.len() as f64 - 1.0) * q).round() as usize)
                .copied()
                .unwrap_or(0.0)
        };
        Self {
            samples: samples.len(),
            p50: pick(0.5),
            p99: pick(0.99),
            max: pick(1.0),
        }
    }
}

/// Time `rounds` rounds of `per_round` calls of `call`; each sample is the mean time of one call
/// in its round, in microseconds. Rounds of many calls measure calls too short to time alone.
pub fn time_calls(rounds: usize, per_round: usize, mut call: impl FnMut()) -> Summary {
    let per_round = per_round.max(1);
    let samples = (0..rounds)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..per_round {
                call();
            }
            started.elapsed().as_secs_f64() * 1e6 / per_round as f64
        })
        .collect();
    Summary::of(samples)
}

/// This process's resident memory in KiB (Linux `/proc/self/status`), or `None` elsewhere.
pub fn resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let summary = Summary::of((1..=100).rev().map(f64::from).collect());
        assert_eq!(summary.samples, 100);
        assert_eq!(summary.p50, 51.0);
        assert_eq!(summary.p99, 99.0);
        assert_eq!(summary.max, 100.0);
        assert_eq!(Summary::of(Vec::new()).p50, 0.0);
    }
}

//! Live counters of a run: completed operations by outcome and the latency
//! of every completed operation, read by the progress display while the run
//! goes on and summarised into `results.json` at the end.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

use crate::op::Outcome;

#[derive(Debug, Default)]
pub struct Stats {
    ok: AtomicU64,
    fail: AtomicU64,
    info: AtomicU64,
    /// Latency of every completed operation, in nanoseconds.
    latencies: Mutex<Vec<u64>>,
}

/// A copy of the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Counts {
    pub ok: u64,
    pub fail: u64,
    pub info: u64,
}

impl Counts {
    pub fn total(&self) -> u64 {
        self.ok + self.fail + self.info
    }
}

/// Latency quantiles in milliseconds (`None` with no completed operation).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Latency {
    pub p50: Option<f64>,
    pub p99: Option<f64>,
}

impl Stats {
    pub fn record(&self, outcome: &Outcome, latency: Duration) {
        let counter = match outcome {
            Outcome::Ok { .. } => &self.ok,
            Outcome::Fail { .. } => &self.fail,
            Outcome::Info { .. } => &self.info,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.latencies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(latency.as_nanos() as u64);
    }

    pub fn counts(&self) -> Counts {
        Counts {
            ok: self.ok.load(Ordering::Relaxed),
            fail: self.fail.load(Ordering::Relaxed),
            info: self.info.load(Ordering::Relaxed),
        }
    }

    pub fn latency(&self) -> Latency {
        let mut l = self
            .latencies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        l.sort_unstable();
        let q = |p: f64| -> Option<f64> {
            if l.is_empty() {
                return None;
            }
            let i = ((l.len() as f64 * p).ceil() as usize).clamp(1, l.len()) - 1;
            Some(l[i] as f64 / 1e6)
        };
        Latency {
            p50: q(0.50),
            p99: q(0.99),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_quantiles() {
        let s = Stats::default();
        assert_eq!(s.latency(), Latency::default());
        for ms in 1..=100u64 {
            let outcome = match ms % 10 {
                0 => Outcome::Info {
                    error: "t".into(),
                    node: None,
                },
                1 => Outcome::Fail {
                    error: "f".into(),
                    node: None,
                },
                _ => Outcome::Ok {
                    value: serde_json::Value::Null,
                    node: None,
                },
            };
            s.record(&outcome, Duration::from_millis(ms));
        }
        assert_eq!(
            s.counts(),
            Counts {
                ok: 80,
                fail: 10,
                info: 10
            }
        );
        let l = s.latency();
        assert_eq!(l.p50, Some(50.0));
        assert_eq!(l.p99, Some(99.0));
    }
}

//! The numbers behind the plots: quantiles, time windows, latency quantiles
//! per window and throughput per window. Pure functions over [`OpView`]s.

use std::collections::BTreeMap;

use crate::ops::{OpView, Outcome};

const NS_PER_SEC: f64 = 1e9;
const NS_PER_MS: f64 = 1e6;

/// The `q` quantile (0..=1) of ascending `sorted` values by the nearest-rank
/// method; `None` for no values.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let q = q.clamp(0.0, 1.0);
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.saturating_sub(1).min(sorted.len() - 1)])
}

/// A window width giving at most ~100 windows over `duration_ns`, picked
/// from round values (100 ms .. 10 min).
pub fn window_width_ns(duration_ns: u64) -> u64 {
    const CANDIDATES_MS: [u64; 13] = [
        100, 250, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000,
        600_000,
    ];
    for ms in CANDIDATES_MS {
        let width = ms * 1_000_000;
        if duration_ns.div_ceil(width) <= 100 {
            return width;
        }
    }
    duration_ns.div_ceil(100).max(1)
}

/// Number of windows of `width_ns` covering `[0, end_ns]` (at least one).
pub fn window_count(end_ns: u64, width_ns: u64) -> usize {
    ((end_ns / width_ns.max(1)) + 1) as usize
}

/// One point of the raw latency plot.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyPoint {
    /// Invocation time, seconds since the run began.
    pub time_s: f64,
    pub latency_ms: f64,
    pub f: String,
    pub outcome: Outcome,
}

/// One point per completed operation: invocation time and latency.
pub fn latency_points(ops: &[OpView]) -> Vec<LatencyPoint> {
    ops.iter()
        .filter_map(|op| {
            op.latency_ns().map(|lat| LatencyPoint {
                time_s: op.start_ns as f64 / NS_PER_SEC,
                latency_ms: lat as f64 / NS_PER_MS,
                f: op.f.clone(),
                outcome: op.outcome,
            })
        })
        .collect()
}

/// Latency quantiles of the operations invoked in one window, in ms.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantileWindow {
    pub start_s: f64,
    pub end_s: f64,
    pub count: usize,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl QuantileWindow {
    pub fn mid_s(&self) -> f64 {
        (self.start_s + self.end_s) / 2.0
    }
}

/// Latency quantiles of completed operations grouped by invocation time into
/// windows of `width_ns`; windows without completed operations are left out.
pub fn latency_quantiles(ops: &[OpView], width_ns: u64) -> Vec<QuantileWindow> {
    let width_ns = width_ns.max(1);
    let mut buckets: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
    for op in ops {
        if let Some(lat) = op.latency_ns() {
            buckets
                .entry(op.start_ns / width_ns)
                .or_default()
                .push(lat as f64 / NS_PER_MS);
        }
    }
    buckets
        .into_iter()
        .map(|(w, mut lats)| {
            lats.sort_by(f64::total_cmp);
            let q = |p| quantile(&lats, p).unwrap_or(0.0);
            QuantileWindow {
                start_s: (w * width_ns) as f64 / NS_PER_SEC,
                end_s: ((w + 1) * width_ns) as f64 / NS_PER_SEC,
                count: lats.len(),
                p50: q(0.5),
                p95: q(0.95),
                p99: q(0.99),
                max: q(1.0),
            }
        })
        .collect()
}

/// Throughput of one (`f`, outcome) pair over time.
#[derive(Debug, Clone, PartialEq)]
pub struct RateSeries {
    pub f: String,
    pub outcome: Outcome,
    /// (window middle in s, completions per second) for every window.
    pub points: Vec<(f64, f64)>,
}

/// Completions per second for each (`f`, outcome) in windows of `width_ns`
/// covering `[0, end_ns]`, bucketed by completion time. Every window gets a
/// point (zero when nothing completed) so gaps in throughput show. Operations
/// that never completed have no completion time and are not counted.
pub fn rates(ops: &[OpView], width_ns: u64, end_ns: u64) -> Vec<RateSeries> {
    let width_ns = width_ns.max(1);
    let windows = window_count(end_ns, width_ns);
    let mut counts: BTreeMap<(String, Outcome), Vec<u64>> = BTreeMap::new();
    for op in ops {
        if let Some(end) = op.end_ns {
            let w = ((end / width_ns) as usize).min(windows - 1);
            counts
                .entry((op.f.clone(), op.outcome))
                .or_insert_with(|| vec![0; windows])[w] += 1;
        }
    }
    let width_s = width_ns as f64 / NS_PER_SEC;
    counts
        .into_iter()
        .map(|((f, outcome), per_window)| RateSeries {
            f,
            outcome,
            points: per_window
                .iter()
                .enumerate()
                .map(|(w, &n)| ((w as f64 + 0.5) * width_s, n as f64 / width_s))
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(f: &str, outcome: Outcome, start_ms: u64, end_ms: Option<u64>) -> OpView {
        OpView {
            index: 0,
            process: 0,
            f: f.into(),
            key: None,
            value: String::new(),
            outcome,
            start_ns: start_ms * 1_000_000,
            end_ns: end_ms.map(|e| e * 1_000_000),
            node: None,
            error: None,
        }
    }

    #[test]
    fn nearest_rank_quantiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), Some(50.0));
        assert_eq!(quantile(&v, 0.99), Some(99.0));
        assert_eq!(quantile(&v, 1.0), Some(100.0));
        assert_eq!(quantile(&v, 0.0), Some(1.0));
        assert_eq!(quantile(&[7.0], 0.95), Some(7.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn window_width_is_round_and_bounded() {
        assert_eq!(window_width_ns(5_000_000_000), 100_000_000);
        assert_eq!(window_width_ns(60_000_000_000), 1_000_000_000);
        assert_eq!(window_width_ns(0), 100_000_000);
        let huge = 1_000_000 * 1_000_000_000u64;
        assert!(huge.div_ceil(window_width_ns(huge)) <= 100);
        assert_eq!(window_count(999, 1000), 1);
        assert_eq!(window_count(1000, 1000), 2);
    }

    #[test]
    fn quantiles_per_window_skip_empty_windows_and_incomplete_ops() {
        let mut ops: Vec<OpView> = (1..=10)
            .map(|i| op("get", Outcome::Ok, 100, Some(100 + i)))
            .collect();
        ops.push(op("put", Outcome::Info, 150, None));
        ops.push(op("put", Outcome::Fail, 2_500, Some(2_520)));
        let q = latency_quantiles(&ops, 1_000_000_000);
        assert_eq!(q.len(), 2);
        assert_eq!(q[0].count, 10);
        assert_eq!((q[0].p50, q[0].p95, q[0].max), (5.0, 10.0, 10.0));
        assert_eq!((q[1].start_s, q[1].end_s, q[1].p99), (2.0, 3.0, 20.0));
        assert_eq!(q[1].mid_s(), 2.5);
    }

    #[test]
    fn rates_per_f_and_outcome_include_zero_windows() {
        let ops = vec![
            op("get", Outcome::Ok, 0, Some(100)),
            op("get", Outcome::Ok, 0, Some(200)),
            op("get", Outcome::Fail, 0, Some(2_100)),
            op("put", Outcome::Ok, 0, Some(2_900)),
            op("put", Outcome::Info, 0, None),
        ];
        let r = rates(&ops, 1_000_000_000, 3_000_000_000);
        let keys: Vec<_> = r.iter().map(|s| (s.f.as_str(), s.outcome)).collect();
        assert_eq!(
            keys,
            vec![
                ("get", Outcome::Ok),
                ("get", Outcome::Fail),
                ("put", Outcome::Ok)
            ]
        );
        assert_eq!(
            r[0].points,
            vec![(0.5, 2.0), (1.5, 0.0), (2.5, 0.0), (3.5, 0.0)]
        );
        assert_eq!(r[1].points[2], (2.5, 1.0));
    }

    #[test]
    fn latency_points_only_for_completed_ops() {
        let ops = vec![
            op("get", Outcome::Ok, 1_000, Some(1_250)),
            op("put", Outcome::Info, 1_000, None),
        ];
        let p = latency_points(&ops);
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].time_s, p[0].latency_ms), (1.0, 250.0));
    }
}

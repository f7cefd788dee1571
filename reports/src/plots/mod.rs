//! The three SVG plots of a run (latency-raw, latency-quantiles, rate), each
//! with the nemesis intervals shaded. The numbers come from `stats`.

mod latency_quantiles;
mod latency_raw;
mod point_layer;
mod rate;
mod shading;
mod thinning;

use std::path::Path;

use crate::error::{ReportError, Result};
use crate::faults::FaultInterval;
use crate::ops::OpView;
use crate::palette::FaultColours;

/// File name of the raw latency plot.
pub const LATENCY_RAW: &str = "latency-raw.svg";
/// File name of the latency quantiles plot.
pub const LATENCY_QUANTILES: &str = "latency-quantiles.svg";
/// File name of the throughput plot.
pub const RATE: &str = "rate.svg";

/// Size of every plot in pixels.
const SIZE: (u32, u32) = (1100, 420);

/// What every plot draws from.
pub struct PlotInput<'a> {
    pub ops: &'a [OpView],
    pub faults: &'a [FaultInterval],
    /// Fault kinds in order of appearance (legend order).
    pub fault_kinds: &'a [String],
    pub fault_colours: &'a FaultColours,
    /// Distinct operation functions in the order that picks their colours.
    pub fs: &'a [String],
    /// End of the run (last event), ns since start.
    pub end_ns: u64,
}

impl PlotInput<'_> {
    fn end_s(&self) -> f64 {
        (self.end_ns as f64 / 1e9).max(0.001)
    }
}

/// Writes the three plots into `dir`.
pub fn write_plots(dir: &Path, input: &PlotInput<'_>) -> Result<()> {
    let raw = dir.join(LATENCY_RAW);
    latency_raw::draw(&raw, input).map_err(|m| plot_error(&raw, m))?;
    let quantiles = dir.join(LATENCY_QUANTILES);
    latency_quantiles::draw(&quantiles, input).map_err(|m| plot_error(&quantiles, m))?;
    let rate = dir.join(RATE);
    rate::draw(&rate, input).map_err(|m| plot_error(&rate, m))?;
    Ok(())
}

fn plot_error(path: &Path, message: String) -> ReportError {
    ReportError::Plot {
        path: path.to_path_buf(),
        message,
    }
}

/// Turns a plotters error into text.
fn text<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// A log-axis range covering `values` (ms), padded, never touching zero.
fn log_range(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    const FLOOR: f64 = 0.001;
    let (mut lo, mut hi) = (f64::INFINITY, 0.0f64);
    for v in values {
        let v = v.max(FLOOR);
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return 0.1..1000.0;
    }
    let lo = (lo / 1.5).max(FLOOR);
    let hi = (hi * 1.5).max(lo * 10.0);
    lo..hi
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_range_pads_and_avoids_zero() {
        let r = log_range([0.0, 10.0].into_iter());
        assert!(r.start > 0.0 && r.start <= 0.001);
        assert_eq!(r.end, 15.0);
        assert_eq!(log_range(std::iter::empty()), 0.1..1000.0);
        let single = log_range([2.0].into_iter());
        assert!(single.end >= single.start * 10.0);
    }
}

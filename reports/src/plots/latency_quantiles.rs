//! `latency-quantiles.svg`: p50, p95, p99 and max latency per time window.

use std::path::Path;

use plotters::prelude::*;

use super::{PlotInput, shading};
use crate::stats::{latency_quantiles, window_width_ns};

pub fn draw(path: &Path, input: &PlotInput<'_>) -> Result<(), String> {
    let width = window_width_ns(input.end_ns);
    let windows = latency_quantiles(input.ops, width);
    let y = super::log_range(windows.iter().flat_map(|w| [w.p50, w.max]));
    let root = shading::canvas(path)?;
    let caption = format!("Latency quantiles per {} window", seconds(width));
    let mut chart = shading::chart(&root, &caption, input.end_s(), y.clone().log_scale())?;
    chart
        .configure_mesh()
        .x_desc("time (s)")
        .y_desc("latency (ms)")
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(super::text)?;
    shading::draw(&mut chart, input, (y.start, y.end))?;
    type Pick = fn(&crate::stats::QuantileWindow) -> f64;
    let lines: [(&str, Pick, RGBColor); 4] = [
        ("p50", |w| w.p50, RGBColor(44, 160, 44)),
        ("p95", |w| w.p95, RGBColor(31, 119, 180)),
        ("p99", |w| w.p99, RGBColor(255, 127, 14)),
        ("max", |w| w.max, RGBColor(214, 39, 40)),
    ];
    for (name, pick, colour) in lines {
        let pts: Vec<(f64, f64)> = windows
            .iter()
            .map(|w| (w.mid_s(), pick(w).max(y.start)))
            .collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), colour.stroke_width(2)))
            .map_err(super::text)?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], colour.stroke_width(2)));
        chart
            .draw_series(
                pts.into_iter()
                    .map(|xy| Circle::new(xy, 2, colour.filled())),
            )
            .map_err(super::text)?;
    }
    shading::legend(&mut chart)?;
    root.present().map_err(super::text)
}

/// A window width as text, e.g. `500 ms` or `2 s`.
pub fn seconds(width_ns: u64) -> String {
    if width_ns < 1_000_000_000 {
        format!("{} ms", width_ns / 1_000_000)
    } else {
        format!("{} s", width_ns as f64 / 1e9)
    }
}

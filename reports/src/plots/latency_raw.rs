//! `latency-raw.svg`: one point per completed operation, invocation time on
//! x, latency (log) on y, colour by `f`, marker by outcome.

use std::path::Path;

use plotters::prelude::*;

use super::{PlotInput, shading};
use crate::ops::Outcome;
use crate::palette::f_colour;
use crate::stats::latency_points;

pub fn draw(path: &Path, input: &PlotInput<'_>) -> Result<(), String> {
    let points = latency_points(input.ops);
    let y = super::log_range(points.iter().map(|p| p.latency_ms));
    let root = shading::canvas(path)?;
    let mut chart = shading::chart(
        &root,
        "Latency of every operation",
        input.end_s(),
        y.clone().log_scale(),
    )?;
    chart
        .configure_mesh()
        .x_desc("time (s)")
        .y_desc("latency (ms)")
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(super::text)?;
    shading::draw(&mut chart, input, (y.start, y.end))?;
    for (i, f) in input.fs.iter().enumerate() {
        let colour = f_colour(i);
        for outcome in Outcome::ALL {
            let mine: Vec<(f64, f64)> = points
                .iter()
                .filter(|p| &p.f == f && p.outcome == outcome)
                .map(|p| (p.time_s, p.latency_ms.max(y.start)))
                .collect();
            if mine.is_empty() {
                continue;
            }
            let series = chart
                .draw_series(mine.into_iter().map(|xy| marker(xy, outcome, colour)))
                .map_err(super::text)?;
            series
                .label(format!("{f} {}", outcome.as_str()))
                .legend(move |(x, y)| marker_at((x + 7, y), outcome, colour));
        }
    }
    shading::legend(&mut chart)?;
    root.present().map_err(super::text)
}

/// Circle for ok, cross for fail, triangle for info.
fn marker<DB: DrawingBackend>(
    xy: (f64, f64),
    outcome: Outcome,
    colour: RGBColor,
) -> DynElement<'static, DB, (f64, f64)> {
    match outcome {
        Outcome::Ok => Circle::new(xy, 2, colour.mix(0.7).filled()).into_dyn(),
        Outcome::Fail => Cross::new(xy, 3, colour.stroke_width(1)).into_dyn(),
        Outcome::Info => TriangleMarker::new(xy, 4, colour.filled()).into_dyn(),
    }
}

fn marker_at<DB: DrawingBackend>(
    xy: (i32, i32),
    outcome: Outcome,
    colour: RGBColor,
) -> DynElement<'static, DB, (i32, i32)> {
    match outcome {
        Outcome::Ok => Circle::new(xy, 3, colour.filled()).into_dyn(),
        Outcome::Fail => Cross::new(xy, 4, colour.stroke_width(2)).into_dyn(),
        Outcome::Info => TriangleMarker::new(xy, 5, colour.filled()).into_dyn(),
    }
}

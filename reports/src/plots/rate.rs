//! `rate.svg`: completed operations per second per window, one line per
//! (`f`, outcome): colour by `f`, marker by outcome.

use std::path::Path;

use plotters::prelude::*;

use super::{PlotInput, shading};
use crate::ops::Outcome;
use crate::palette::f_colour;
use crate::stats::{rates, window_width_ns};

pub fn draw(path: &Path, input: &PlotInput<'_>) -> Result<(), String> {
    let width = window_width_ns(input.end_ns);
    let series = rates(input.ops, width, input.end_ns);
    let top = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0f64, f64::max);
    let y = (0.0, (top * 1.15).max(1.0));
    let root = shading::canvas(path)?;
    let caption = format!(
        "Throughput (completions per second, {} windows)",
        super::latency_quantiles::seconds(width)
    );
    let mut chart = shading::chart(&root, &caption, input.end_s(), y.0..y.1)?;
    chart
        .configure_mesh()
        .x_desc("time (s)")
        .y_desc("ops / s")
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(super::text)?;
    shading::draw(&mut chart, input, y)?;
    for s in &series {
        let i = input.fs.iter().position(|f| f == &s.f).unwrap_or(0);
        let colour = f_colour(i);
        let (width, dot) = match s.outcome {
            Outcome::Ok => (2, 0),
            Outcome::Fail | Outcome::Info => (1, 3),
        };
        let outcome = s.outcome;
        chart
            .draw_series(LineSeries::new(
                s.points.clone(),
                colour.stroke_width(width),
            ))
            .map_err(super::text)?
            .label(format!("{} {}", s.f, outcome.as_str()))
            .legend(move |(x, y)| {
                EmptyElement::at((x, y))
                    + PathElement::new([(0, 0), (16, 0)], colour.stroke_width(width))
                    + marker(outcome, colour, (8, 0))
            });
        if dot > 0 {
            chart
                .draw_series(
                    s.points
                        .iter()
                        .filter(|p| p.1 > 0.0)
                        .map(|&xy| EmptyElement::at(xy) + marker(outcome, colour, (0, 0))),
                )
                .map_err(super::text)?;
        }
    }
    shading::legend(&mut chart)?;
    root.present().map_err(super::text)
}

/// Marker of an outcome relative to an anchor: none for ok, cross for fail,
/// triangle for info.
fn marker<DB: DrawingBackend>(
    outcome: Outcome,
    colour: RGBColor,
    at: (i32, i32),
) -> DynElement<'static, DB, (i32, i32)> {
    match outcome {
        Outcome::Ok => Circle::new(at, 0, colour.filled()).into_dyn(),
        Outcome::Fail => Cross::new(at, 3, colour.stroke_width(1)).into_dyn(),
        Outcome::Info => TriangleMarker::new(at, 4, colour.filled()).into_dyn(),
    }
}

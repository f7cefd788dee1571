//! `latency-raw.svg`: one point per completed operation, invocation time on
//! x, latency (log) on y, colour by `f`, marker by outcome.
//!
//! plotters draws the frame, the fault shading and the legend; the points
//! are written as compact paths ([`super::point_layer`]) between the
//! shading and the legend. Beyond [`RAW_OK_POINTS`] ok points, ok points
//! are thinned to one per pixel cell ([`super::thinning`]); fail and info
//! points are all drawn, and the caption and legend say how many ok points
//! are drawn of how many. (The quantile plot reads every operation.)

use std::ops::Range;
use std::path::Path;

use plotters::prelude::*;

use super::point_layer::{self, PointSeries};
use super::thinning::{Thinned, thin};
use super::{PlotInput, shading};
use crate::limits::{RAW_OK_POINTS, thousands};
use crate::ops::Outcome;
use crate::palette::f_colour;
use crate::stats::{LatencyPoint, latency_points};

const CAPTION: &str = "Latency of every operation";

pub fn draw(path: &Path, input: &PlotInput<'_>) -> Result<(), String> {
    let svg = render(input, RAW_OK_POINTS)?;
    std::fs::write(path, svg).map_err(|e| e.to_string())
}

/// The SVG text of the plot, with at most `ok_bound` ok points.
fn render(input: &PlotInput<'_>, ok_bound: usize) -> Result<String, String> {
    let points = latency_points(input.ops);
    let y = super::log_range(points.iter().map(|p| p.latency_ms));
    let series_of = |p: &LatencyPoint| input.fs.iter().position(|f| f == &p.f).unwrap_or(0);

    // Where each point lands (the layout does not depend on the caption).
    let (_, pixels) = frame(input, CAPTION, &y, &points, None)?;
    let ok: Vec<usize> = (0..points.len())
        .filter(|&i| points[i].outcome == Outcome::Ok)
        .collect();
    let ok_at: Vec<(usize, i32, i32)> = ok
        .iter()
        .map(|&i| (series_of(&points[i]), pixels[i].0, pixels[i].1))
        .collect();
    let (w, h) = super::SIZE;
    let Thinned { kept, cell } = thin(&ok_at, ok_bound, w.max(h) as i32);
    let mut drawn = vec![cell == 0; points.len()];
    for &i in &kept {
        drawn[ok[i]] = true;
    }
    for (i, p) in points.iter().enumerate() {
        if p.outcome != Outcome::Ok {
            drawn[i] = true;
        }
    }
    let caption = if cell > 0 {
        format!(
            "{CAPTION} (ok points thinned to 1 per {cell} px cell: {} of {} drawn)",
            thousands(kept.len()),
            thousands(ok.len())
        )
    } else {
        CAPTION.to_string()
    };

    // The series: every (f, outcome) that has operations, legend order.
    let (base, pixels) = frame(input, &caption, &y, &points, None)?;
    let mut series: Vec<PointSeries<'_>> = Vec::new();
    for (i, f) in input.fs.iter().enumerate() {
        for outcome in Outcome::ALL {
            let mine: Vec<usize> = (0..points.len())
                .filter(|&k| series_of(&points[k]) == i && points[k].outcome == outcome)
                .collect();
            if mine.is_empty() {
                continue;
            }
            series.push(PointSeries {
                f,
                outcome,
                colour: f_colour(i),
                at: mine
                    .iter()
                    .filter(|&&k| drawn[k])
                    .map(|&k| pixels[k])
                    .collect(),
                ops: mine.len(),
            });
        }
    }
    let (full, _) = frame(input, &caption, &y, &[], Some(&series))?;
    // `base` is `full` up to the legend: put the points in between.
    let body = base
        .rfind("</svg>")
        .map(|end| &base[..end])
        .filter(|body| full.starts_with(body))
        .ok_or("the plot's frame and legend renderings differ; cannot place the points")?;
    let mut svg =
        String::with_capacity(full.len() + series.iter().map(|s| s.at.len() * 22).sum::<usize>());
    svg.push_str(body);
    // All ok layers first, so no failure hides under another f's ok dots.
    for outcome in Outcome::ALL {
        for s in series.iter().filter(|s| s.outcome == outcome) {
            svg.push_str(&point_layer::svg(s));
        }
    }
    svg.push_str(&full[body.len()..]);
    Ok(svg)
}

/// Renders the frame (mesh, fault shading) with `caption` into an SVG
/// string, and with `legend` the legend of those series too. Returns the
/// SVG and the pixel position of each of `points`.
fn frame(
    input: &PlotInput<'_>,
    caption: &str,
    y: &Range<f64>,
    points: &[LatencyPoint],
    legend: Option<&[PointSeries<'_>]>,
) -> Result<(String, Vec<(i32, i32)>), String> {
    let mut svg = String::new();
    let pixels = {
        let root = shading::canvas_in(&mut svg)?;
        let mut chart = shading::chart(&root, caption, input.end_s(), y.clone().log_scale())?;
        chart
            .configure_mesh()
            .x_desc("time (s)")
            .y_desc("latency (ms)")
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(super::text)?;
        shading::draw(&mut chart, input, (y.start, y.end))?;
        let pixels: Vec<(i32, i32)> = points
            .iter()
            .map(|p| chart.backend_coord(&(p.time_s, p.latency_ms.max(y.start))))
            .collect();
        if let Some(series) = legend {
            for s in series {
                let (outcome, colour) = (s.outcome, s.colour);
                chart
                    .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
                    .map_err(super::text)?
                    .label(legend_label(s))
                    .legend(move |(x, y)| marker_at((x + 7, y), outcome, colour));
            }
            shading::legend(&mut chart)?;
        }
        root.present().map_err(super::text)?;
        pixels
    };
    Ok((svg, pixels))
}

/// `get ok`, or `get ok: 6,700 of 42,500 drawn` for a thinned series.
fn legend_label(s: &PointSeries<'_>) -> String {
    let name = format!("{} {}", s.f, s.outcome.as_str());
    if s.at.len() == s.ops {
        name
    } else {
        format!(
            "{name}: {} of {} drawn",
            thousands(s.at.len()),
            thousands(s.ops)
        )
    }
}

/// The legend's marker: circle for ok, cross for fail, triangle for info.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::FaultInterval;
    use crate::ops::OpView;
    use crate::palette::FaultColours;

    /// 2,000 ops over 10 s on two `f`s; every 10th fails, every 25th is info.
    fn ops() -> Vec<OpView> {
        (0..2_000u64)
            .map(|i| OpView {
                index: i,
                process: i % 5,
                f: if i % 2 == 0 { "get" } else { "put" }.into(),
                key: None,
                value: String::new(),
                outcome: match i {
                    i if i % 10 == 0 => Outcome::Fail,
                    i if i % 25 == 0 => Outcome::Info,
                    _ => Outcome::Ok,
                },
                start_ns: i * 5_000_000,
                end_ns: Some(i * 5_000_000 + 1_000_000 + (i * 7919 % 50) * 100_000),
                node: None,
                error: None,
            })
            .collect()
    }

    fn svg(ok_bound: usize) -> String {
        let ops = ops();
        let kinds = vec!["kill".to_string()];
        let faults = vec![FaultInterval {
            kind: "kill".into(),
            start_ns: 1_000_000_000,
            end_ns: 3_000_000_000,
            detail: String::new(),
            healed: true,
        }];
        let colours = FaultColours::new(&kinds, &[]);
        let input = PlotInput {
            ops: &ops,
            faults: &faults,
            fault_kinds: &kinds,
            fault_colours: &colours,
            fs: &["get".into(), "put".into()],
            end_ns: 10_000_000_000,
        };
        render(&input, ok_bound).unwrap()
    }

    /// (outcome, markers) of each point path.
    fn markers(svg: &str) -> Vec<(String, usize)> {
        svg.match_indices("<path class=\"points\"")
            .map(|(at, _)| {
                let tag = &svg[at..at + svg[at..].find('>').unwrap()];
                let outcome = tag.split("data-outcome=\"").nth(1).unwrap();
                let outcome = outcome[..outcome.find('"').unwrap()].to_string();
                let d = tag.split(" d=\"").nth(1).unwrap();
                (outcome, d.matches('M').count())
            })
            .collect()
    }

    fn count(m: &[(String, usize)], outcome: &str) -> usize {
        m.iter().filter(|(o, _)| o == outcome).map(|(_, n)| n).sum()
    }

    #[test]
    fn under_the_bound_every_point_is_drawn_between_shading_and_legend() {
        let svg = svg(10_000);
        let m = markers(&svg);
        assert_eq!(count(&m, "fail"), 200);
        assert_eq!(count(&m, "info"), 2_000 / 25 - 2_000 / 50);
        assert_eq!(
            count(&m, "ok") + count(&m, "fail") + count(&m, "info"),
            2_000
        );
        assert!(!svg.contains("thinned"));
        // Points after the fault band, before the legend's labels.
        let points = svg.find("<path class=\"points\"").unwrap();
        let band = svg.find("#D62728").unwrap();
        let legend = svg.find(">\nget ok\n</text>").unwrap();
        assert!(band < points && points < legend, "{band} {points} {legend}");
        assert!(svg.trim_end().ends_with("</svg>") && svg.matches("</svg>").count() == 1);
    }

    #[test]
    fn over_the_bound_ok_points_are_thinned_and_failures_all_kept() {
        let svg = svg(300);
        let m = markers(&svg);
        assert!(count(&m, "ok") <= 300 && count(&m, "ok") > 100);
        assert_eq!(count(&m, "fail"), 200);
        assert_eq!(count(&m, "info"), 40);
        let ok_total = 2_000 - 200 - 40;
        assert!(
            svg.contains(&format!("of {} drawn)", thousands(ok_total))),
            "caption"
        );
        assert!(
            svg.contains(">\nget ok: ") && svg.contains(">\nput ok: "),
            "legend"
        );
        assert_eq!(svg, self::svg(300), "deterministic");
    }
}

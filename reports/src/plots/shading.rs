//! Shading of nemesis intervals behind a plot, one colour per fault kind,
//! each kind one legend entry.

use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::PlotInput;

/// Draws one translucent band per fault interval over the full height of
/// the chart, labelled by kind for the legend.
pub fn draw<'a, DB, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Y>>,
    input: &PlotInput<'_>,
    y: (f64, f64),
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64>,
{
    for kind in input.fault_kinds {
        let colour = input.fault_colours.of(kind);
        let bands = input
            .faults
            .iter()
            .filter(|f| &f.kind == kind)
            .map(move |f| {
                let x0 = f.start_ns as f64 / 1e9;
                let x1 = (f.end_ns as f64 / 1e9).max(x0);
                Rectangle::new([(x0, y.0), (x1, y.1)], colour.mix(0.18).filled())
            });
        chart
            .draw_series(bands)
            .map_err(super::text)?
            .label(kind.clone())
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 14, y + 5)], colour.mix(0.4).filled())
            });
    }
    Ok(())
}

/// A white background and a fresh chart area for `path`.
pub fn canvas(path: &std::path::Path) -> Result<DrawingArea<SVGBackend<'_>, Shift>, String> {
    let root = SVGBackend::new(path, super::SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(super::text)?;
    Ok(root)
}

/// A white background and a fresh chart area drawing into `svg`.
pub fn canvas_in(svg: &mut String) -> Result<DrawingArea<SVGBackend<'_>, Shift>, String> {
    let root = SVGBackend::with_string(svg, super::SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(super::text)?;
    Ok(root)
}

/// Builds the common chart frame: caption, label areas, time on x.
pub fn chart<'a, 'b, Y>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    caption: &str,
    end_s: f64,
    y: Y,
) -> Result<ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, Y::CoordDescType>>, String>
where
    Y: AsRangedCoord<Value = f64>,
{
    ChartBuilder::on(root)
        .caption(caption, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..end_s, y)
        .map_err(super::text)
}

/// Draws the legend box in the upper right corner.
pub fn legend<'a, DB, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Y>>,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64>,
{
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(("sans-serif", 12))
        .draw()
        .map_err(super::text)
}

//! Scatter markers written as compact SVG: one `<path>` per series (an `f`
//! and an outcome) holding every marker as a subpath: a round dot for ok, a
//! cross for fail, a triangle for info, the shapes plotters draws in the
//! legend. A point costs 11–22 bytes instead of an element of ~90–170, and
//! the browser paints one element per series, so large runs open quickly.
//! Each path carries `data-f`, `data-outcome`, `data-drawn` (its markers)
//! and `data-ops` (the series' operations), and a `<title>` saying so.

use std::fmt::Write as _;

use plotters::style::RGBColor;

use crate::limits::thousands;
use crate::ops::Outcome;

/// One series of markers at pixel positions.
pub struct PointSeries<'a> {
    pub f: &'a str,
    pub outcome: Outcome,
    pub colour: RGBColor,
    /// Pixel positions of the drawn markers.
    pub at: Vec<(i32, i32)>,
    /// Number of operations of the series (drawn or thinned away).
    pub ops: usize,
}

/// The series as one SVG `<path>` element (empty text for no markers).
pub fn svg(series: &PointSeries<'_>) -> String {
    if series.at.is_empty() {
        return String::new();
    }
    let colour = format!(
        "#{:02X}{:02X}{:02X}",
        series.colour.0, series.colour.1, series.colour.2
    );
    let paint = match series.outcome {
        // A zero-length subpath with round caps is a dot of the stroke's
        // width: radius 2, like plotters' Circle of size 2.
        Outcome::Ok => format!(
            r#"fill="none" stroke="{colour}" stroke-opacity="0.7" stroke-width="4" stroke-linecap="round""#
        ),
        Outcome::Fail => format!(r#"fill="none" stroke="{colour}" stroke-width="1""#),
        Outcome::Info => format!(r#"fill="{colour}" stroke="none""#),
    };
    let mut d = String::with_capacity(series.at.len() * 20);
    for &(x, y) in &series.at {
        let _ = match series.outcome {
            Outcome::Ok => write!(d, "M{x} {y}h0"),
            // plotters' Cross of size 3: two diagonals of a 6 px square.
            Outcome::Fail => write!(d, "M{} {}l6 6m0-6l-6 6", x - 3, y - 3),
            // plotters' TriangleMarker of size 4: apex 4 px above, base 2 below.
            Outcome::Info => write!(d, "M{x} {}l-3.5 6h7z", y - 4),
        };
    }
    let f = escape(series.f);
    let outcome = series.outcome.as_str();
    let drawn = series.at.len();
    let title = if drawn == series.ops {
        format!("{f} {outcome}: {} operations", thousands(drawn))
    } else {
        format!(
            "{f} {outcome}: {} of {} operations drawn (thinned)",
            thousands(drawn),
            thousands(series.ops)
        )
    };
    format!(
        "<path class=\"points\" data-f=\"{f}\" data-outcome=\"{outcome}\" data-drawn=\"{drawn}\" data-ops=\"{}\" {paint} d=\"{d}\"><title>{title}</title></path>\n",
        series.ops
    )
}

/// Text escaped for XML attributes and content.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(outcome: Outcome, at: Vec<(i32, i32)>, ops: usize) -> String {
        svg(&PointSeries {
            f: "get<\"x\">",
            outcome,
            colour: RGBColor(31, 119, 180),
            at,
            ops,
        })
    }

    #[test]
    fn one_subpath_per_marker() {
        let ok = series(Outcome::Ok, vec![(10, 20), (11, 21)], 2);
        assert!(ok.contains(r#"d="M10 20h0M11 21h0""#), "{ok}");
        assert!(ok.contains("stroke-linecap=\"round\"") && ok.contains("#1F77B4"));
        assert!(ok.contains("<title>get&lt;&quot;x&quot;&gt; ok: 2 operations</title>"));
        let fail = series(Outcome::Fail, vec![(10, 20)], 1);
        assert!(fail.contains(r#"d="M7 17l6 6m0-6l-6 6""#), "{fail}");
        let info = series(Outcome::Info, vec![(10, 20)], 1);
        assert!(info.contains(r#"d="M10 16l-3.5 6h7z""#), "{info}");
        assert!(info.contains(r#"data-outcome="info" data-drawn="1" data-ops="1""#));
        assert_eq!(series(Outcome::Ok, vec![], 0), "");
    }

    #[test]
    fn a_thinned_series_says_so() {
        let ok = series(Outcome::Ok, vec![(1, 1)], 12_345);
        assert!(
            ok.contains("1 of 12,345 operations drawn (thinned)"),
            "{ok}"
        );
        assert!(ok.contains(r#"data-drawn="1" data-ops="12345""#));
    }
}

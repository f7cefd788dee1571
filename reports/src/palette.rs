//! Colours shared by the SVG plots and the HTML page, so a fault kind or an
//! operation `f` has the same colour everywhere in a report.

use plotters::style::RGBColor;

/// Categorical colours for operation functions (`get`, `put`, ...).
const F_COLOURS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(23, 190, 207),
];

/// Fault kinds with a fixed colour, so runs look alike.
const KNOWN_FAULTS: [(&str, RGBColor); 6] = [
    ("kill", RGBColor(214, 39, 40)),
    ("partition", RGBColor(31, 119, 180)),
    ("pause", RGBColor(255, 127, 14)),
    ("clock", RGBColor(148, 103, 189)),
    ("packet-loss", RGBColor(44, 160, 44)),
    ("shard-move", RGBColor(140, 86, 75)),
];

/// Colours for fault kinds not in [`KNOWN_FAULTS`].
const OTHER_FAULTS: [RGBColor; 5] = [
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(0, 80, 80),
];

/// Colour of the `i`-th distinct operation function.
pub fn f_colour(i: usize) -> RGBColor {
    F_COLOURS[i % F_COLOURS.len()]
}

/// Colour of a fault kind; `i` is the kind's position among the run's kinds
/// and picks a colour for kinds without a fixed one.
pub fn fault_colour(kind: &str, i: usize) -> RGBColor {
    KNOWN_FAULTS
        .iter()
        .find(|(name, _)| *name == kind)
        .map(|(_, c)| *c)
        .unwrap_or(OTHER_FAULTS[i % OTHER_FAULTS.len()])
}

/// `#rrggbb` for CSS and canvas.
pub fn hex(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_faults_keep_their_colour_and_others_cycle() {
        assert_eq!(hex(fault_colour("kill", 3)), "#d62728");
        assert_eq!(fault_colour("weird", 0), fault_colour("odd", 5));
        assert_ne!(fault_colour("weird", 0), fault_colour("odd", 1));
        assert_eq!(f_colour(0), f_colour(8));
    }
}

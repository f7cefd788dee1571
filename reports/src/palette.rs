//! Colours shared by the SVG plots and the HTML page, so a fault kind or an
//! operation `f` has the same colour everywhere in a report.
//!
//! A fault kind takes the colour its nemesis package recorded in test.json
//! (`nemesis_packages: [{"name", "colour": "#rrggbb"}]`); runs without that
//! record (older runs) fall back to a fixed colour per known kind, then to a
//! cycle of other colours.

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

/// Fault kinds (nemesis package names) with a fixed fallback colour, so
/// runs without recorded colours still look alike.
const KNOWN_FAULTS: [(&str, RGBColor); 7] = [
    ("kill", RGBColor(214, 39, 40)),
    ("partition", RGBColor(31, 119, 180)),
    ("pause", RGBColor(255, 127, 14)),
    ("clock", RGBColor(148, 103, 189)),
    ("packet", RGBColor(44, 160, 44)),
    ("shard-move", RGBColor(140, 86, 75)),
    ("membership", RGBColor(0, 139, 139)),
];

/// Colours for fault kinds with neither a recorded nor a fixed colour.
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

/// The fixed fallback colour of a known fault kind.
pub fn known_fault_colour(kind: &str) -> Option<RGBColor> {
    KNOWN_FAULTS
        .iter()
        .find(|(name, _)| *name == kind)
        .map(|(_, c)| *c)
}

/// The colour of every fault kind of one run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultColours {
    by_kind: Vec<(String, RGBColor)>,
}

impl FaultColours {
    /// Colours for `kinds` (the run's fault kinds in order of appearance):
    /// the colour `recorded` for the kind's package (test.json's
    /// `nemesis_packages` as (name, colour text)), else the kind's fixed
    /// colour, else the next colour of a cycle. A recorded colour that is
    /// not `#rrggbb` is ignored with a warning.
    pub fn new(kinds: &[String], recorded: &[(String, String)]) -> FaultColours {
        let mut others = 0;
        let by_kind = kinds
            .iter()
            .map(|kind| {
                let from_record = recorded
                    .iter()
                    .find(|(name, _)| name == kind)
                    .and_then(|(_, text)| {
                        let colour = parse_hex(text);
                        if colour.is_none() {
                            tracing::warn!(
                                %kind, colour = %text,
                                "test.json nemesis_packages: colour is not #rrggbb; using the default colour"
                            );
                        }
                        colour
                    });
                let colour = from_record.or_else(|| known_fault_colour(kind)).unwrap_or_else(|| {
                    others += 1;
                    OTHER_FAULTS[(others - 1) % OTHER_FAULTS.len()]
                });
                (kind.clone(), colour)
            })
            .collect();
        FaultColours { by_kind }
    }

    /// The colour of `kind`; a kind the run did not have gets the first
    /// colour of the cycle.
    pub fn of(&self, kind: &str) -> RGBColor {
        self.by_kind
            .iter()
            .find(|(k, _)| k == kind)
            .map(|(_, c)| *c)
            .unwrap_or(OTHER_FAULTS[0])
    }
}

/// `#rrggbb` (any case) as a colour.
pub fn parse_hex(text: &str) -> Option<RGBColor> {
    let digits = text.strip_prefix('#')?;
    if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&digits[i..i + 2], 16).ok();
    Some(RGBColor(byte(0)?, byte(2)?, byte(4)?))
}

/// `#rrggbb` for CSS and canvas.
pub fn hex(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn recorded_colours_win_over_the_fallback_palette() {
        let recorded = vec![
            ("packet".to_string(), "#17BECF".to_string()),
            ("kill".to_string(), "#010203".to_string()),
        ];
        let c = FaultColours::new(&kinds(&["kill", "packet", "pause"]), &recorded);
        assert_eq!(hex(c.of("kill")), "#010203");
        assert_eq!(hex(c.of("packet")), "#17becf");
        assert_eq!(hex(c.of("pause")), "#ff7f0e", "not recorded: fixed colour");
    }

    #[test]
    fn without_a_record_known_kinds_keep_their_colour_and_others_cycle() {
        let c = FaultColours::new(&kinds(&["weird", "kill", "packet", "odd"]), &[]);
        assert_eq!(hex(c.of("kill")), "#d62728");
        assert_eq!(hex(c.of("packet")), "#2ca02c", "packet has a fixed colour");
        assert_ne!(c.of("packet"), OTHER_FAULTS[0]);
        assert_eq!(c.of("weird"), OTHER_FAULTS[0]);
        assert_eq!(c.of("odd"), OTHER_FAULTS[1]);
        assert_eq!(f_colour(0), f_colour(8));
    }

    #[test]
    fn fixed_fallback_colours_are_distinct() {
        for (i, (_, a)) in KNOWN_FAULTS.iter().enumerate() {
            for (_, b) in &KNOWN_FAULTS[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn malformed_recorded_colours_fall_back() {
        for bad in ["red", "#12345", "#1234567", "#12345g", "123456", ""] {
            assert_eq!(parse_hex(bad), None, "{bad}");
            let c = FaultColours::new(
                &kinds(&["partition"]),
                &[("partition".to_string(), bad.to_string())],
            );
            assert_eq!(hex(c.of("partition")), "#1f77b4", "{bad}");
        }
        assert_eq!(parse_hex("#8c564b"), Some(RGBColor(140, 86, 75)));
    }
}

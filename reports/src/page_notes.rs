//! The sentences the report page shows when it leaves data out to stay
//! light: what the timeline and the node logs hold of the run's, chosen
//! how. (The page adds where the full data is.)

use crate::limits::{ERROR_CHARS, LOG_LINE_CHARS, VALUE_CHARS, thousands};
use crate::log_thinning::LineSelection;
use crate::timeline_thinning::OpSelection;

/// What the timeline left out, or `None` when it holds every operation
/// whole.
pub fn timeline_note(selection: &OpSelection, cut: usize) -> Option<String> {
    let mut parts = Vec::new();
    if selection.thinned() {
        let group = |t: crate::timeline_thinning::Tally, what: &str| {
            (t.of > 0).then(|| format!("{} of {} {what}", thousands(t.kept), thousands(t.of)))
        };
        let groups: Vec<String> = [
            group(selection.focus, "of or overlapping the counterexample"),
            group(selection.failed, "fail/info"),
            group(selection.ok, "ok"),
        ]
        .into_iter()
        .flatten()
        .collect();
        parts.push(format!(
            "To keep this page light the timeline holds {} of the run's {} operations: {}, each group spread evenly over the run.",
            thousands(selection.kept.len()),
            thousands(selection.total),
            groups.join(", ")
        ));
    }
    if cut > 0 {
        parts.push(format!(
            "{} values or errors longer than {VALUE_CHARS} / {ERROR_CHARS} characters are cut (…).",
            thousands(cut)
        ));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// What the embedded node logs left out, or `None` when they hold every
/// line whole.
pub fn logs_note(selection: &LineSelection, cut: usize) -> Option<String> {
    let mut parts = Vec::new();
    if selection.thinned() {
        let errors = if selection.errors_kept == selection.errors {
            "every ERROR line".to_string()
        } else {
            format!(
                "{} of {} ERROR lines",
                thousands(selection.errors_kept),
                thousands(selection.errors)
            )
        };
        let window = match selection.window_ms {
            Some(ms) => format!(
                ", and the lines within {} of the run's start and end, each fault's start and end and the counterexample",
                seconds(ms)
            ),
            None => String::new(),
        };
        parts.push(format!(
            "To keep this page light it holds {} of the {} log lines: {errors}{window}.",
            thousands(selection.kept.len()),
            thousands(selection.total),
        ));
    }
    if cut > 0 {
        parts.push(format!(
            "{} lines longer than {LOG_LINE_CHARS} characters are cut (…).",
            thousands(cut)
        ));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// `±1.25 s` or `±40 ms`.
fn seconds(ms: f64) -> String {
    if ms < 1000.0 {
        format!("±{ms:.0} ms")
    } else {
        format!("±{:.2} s", ms / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline_thinning::Tally;

    #[test]
    fn whole_data_needs_no_note() {
        let all = OpSelection {
            kept: vec![0, 1],
            total: 2,
            ..OpSelection::default()
        };
        assert_eq!(timeline_note(&all, 0), None);
        let lines = LineSelection {
            kept: vec![0],
            total: 1,
            ..LineSelection::default()
        };
        assert_eq!(logs_note(&lines, 0), None);
        assert!(
            logs_note(&lines, 1)
                .unwrap()
                .contains("1 lines longer than 400")
        );
    }

    #[test]
    fn notes_say_what_was_kept_of_what() {
        let s = OpSelection {
            kept: (0..20_000).collect(),
            total: 150_000,
            focus: Tally { kept: 12, of: 12 },
            failed: Tally {
                kept: 15_000,
                of: 22_500,
            },
            ok: Tally {
                kept: 4_988,
                of: 127_488,
            },
        };
        let note = timeline_note(&s, 3).unwrap();
        assert!(
            note.contains("holds 20,000 of the run's 150,000 operations"),
            "{note}"
        );
        assert!(note.contains("12 of 12 of or overlapping the counterexample, 15,000 of 22,500 fail/info, 4,988 of 127,488 ok"), "{note}");
        assert!(note.contains("3 values or errors"), "{note}");
        let l = LineSelection {
            kept: (0..10).collect(),
            total: 100,
            errors_kept: 2,
            errors: 5,
            window_ms: Some(1_500.0),
        };
        let note = logs_note(&l, 0).unwrap();
        assert!(
            note.contains(
                "10 of the 100 log lines: 2 of 5 ERROR lines, and the lines within ±1.50 s"
            ),
            "{note}"
        );
    }
}

//! The bounds that keep a report light however long the run: how many raw
//! latency points are drawn, how many operations and how much log text the
//! page embeds, and where long values are cut. Everything left out stays in
//! the run folder (history.jsonl, history.csv, nodes/*/node.log), and the
//! report says what it left out. README.md ("Reports") states these numbers.

/// At most this many `ok` points are drawn in `latency-raw.svg`; beyond it
/// they are thinned to one per grid cell. `fail` and `info` points are
/// never thinned, and the quantile lines use every point.
pub const RAW_OK_POINTS: usize = 40_000;

/// At most this many operations are embedded for the page's timeline.
pub const TIMELINE_OPS: usize = 20_000;

/// The timeline's embedded JSON is at most this many bytes (fewer
/// operations are embedded when long values or errors would exceed it).
pub const TIMELINE_BYTES: usize = 1024 * 1024;

/// The node logs' embedded JSON is at most this many bytes.
pub const LOG_BYTES: usize = 512 * 1024;

/// An operation's value is cut to this many characters on the timeline.
pub const VALUE_CHARS: usize = 64;

/// An operation's error is cut to this many characters on the timeline.
pub const ERROR_CHARS: usize = 160;

/// A log line is cut to this many characters on the page.
pub const LOG_LINE_CHARS: usize = 400;

/// `text` cut to at most `max` characters, an ellipsis marking the cut.
pub fn cut(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => text.into(),
        Some(_) => {
            let keep: String = text.chars().take(max.saturating_sub(1)).collect();
            format!("{keep}…").into()
        }
    }
}

/// `n` with thousands separators: `127465` → `127,465`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_keeps_short_text_and_marks_cuts() {
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("abcd", 3), "ab…");
        assert_eq!(cut("ééééé", 4).chars().count(), 4);
        assert_eq!(cut("", 0), "");
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(127_465), "127,465");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}

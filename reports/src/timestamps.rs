//! Wall-clock time values as they appear in run files: RFC 3339 strings
//! (node logs, test.json) or Unix epoch numbers; and the run folder stamp.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;

/// Format of a run folder name in the store (`YYYYmmddTHHMMSS`, UTC).
pub const STAMP_FORMAT: &str = "%Y%m%dT%H%M%S";

/// Parses an RFC 3339 timestamp (any offset) into UTC.
pub fn parse_rfc3339(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A time from JSON: an RFC 3339 string, or a Unix epoch number whose unit
/// is told by its size (seconds below 1e11, ms below 1e14, µs below 1e17,
/// else ns).
pub fn parse_time_value(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::String(s) => parse_rfc3339(s),
        Value::Number(n) => {
            let v = n.as_f64()?;
            if !(0.0..=9.0e18).contains(&v) {
                return None;
            }
            let ns = if v < 1e11 {
                v * 1e9
            } else if v < 1e14 {
                v * 1e6
            } else if v < 1e17 {
                v * 1e3
            } else {
                v
            };
            Some(Utc.timestamp_nanos(ns as i64))
        }
        _ => None,
    }
}

/// Parses a run folder name (`20240501T120000`, optionally with a suffix
/// after the seconds such as `-2`) as a UTC time.
pub fn parse_stamp(name: &str) -> Option<DateTime<Utc>> {
    let head = name.get(..15)?;
    NaiveDateTime::parse_from_str(head, STAMP_FORMAT)
        .ok()
        .map(|t| t.and_utc())
}

/// `2024-05-01 12:00:00 UTC`: how times are shown in reports.
pub fn display(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A duration in seconds as short text: `850 ms`, `42.5 s`, `3 min 20 s`.
pub fn display_duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return "?".to_string();
    }
    if seconds < 1.0 {
        format!("{:.0} ms", seconds * 1000.0)
    } else if seconds < 120.0 {
        format!("{seconds:.1} s")
    } else {
        let total = seconds.round() as u64;
        format!("{} min {} s", total / 60, total % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc3339_with_offsets_and_fractions() {
        let a = parse_rfc3339("2024-05-01T12:00:00.250Z").unwrap();
        let b = parse_rfc3339("2024-05-01T14:00:00.250+02:00").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.timestamp_subsec_millis(), 250);
        assert!(parse_rfc3339("yesterday").is_none());
    }

    #[test]
    fn epoch_numbers_by_magnitude() {
        let s = parse_time_value(&json!(1_714_564_800)).unwrap();
        let ms = parse_time_value(&json!(1_714_564_800_000u64)).unwrap();
        let ns = parse_time_value(&json!(1_714_564_800_000_000_000u64)).unwrap();
        assert_eq!(s, ms);
        assert_eq!(ms, ns);
        assert_eq!(display(&s), "2024-05-01 12:00:00 UTC");
        assert!(parse_time_value(&json!(-5)).is_none());
        assert!(parse_time_value(&json!([1])).is_none());
    }

    #[test]
    fn stamps_and_durations() {
        let t = parse_stamp("20240501T120000").unwrap();
        assert_eq!(display(&t), "2024-05-01 12:00:00 UTC");
        assert!(parse_stamp("20240501T120000-2").is_some());
        assert!(parse_stamp("latest").is_none());
        assert!(parse_stamp("2024050xT120000").is_none());
        assert_eq!(display_duration(0.85), "850 ms");
        assert_eq!(display_duration(42.54), "42.5 s");
        assert_eq!(display_duration(200.0), "3 min 20 s");
    }
}

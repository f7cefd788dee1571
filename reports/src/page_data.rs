//! The compact JSON that the report page's scripts draw from (timeline
//! operations, fault intervals, node log lines), and how it is embedded
//! safely in a `<script type="application/json">` element.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use crate::faults::FaultInterval;
use crate::node_logs::NodeLogs;
use crate::ops::OpView;
use crate::palette::{FaultColours, hex};

/// Serializes `value` as JSON that is safe inside a `<script>` element:
/// `<`, `>` and `&` (which can only occur inside JSON strings) become
/// `\u003c`, `\u003e`, `\u0026`, so no `</script>` or `<!--` can appear.
pub fn script_json<T: Serialize>(value: &T) -> String {
    let text = serde_json::to_string(value).unwrap_or_else(|_| "null".to_string());
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Milliseconds with microsecond precision, as JSON numbers stay short.
fn ms(ns: u64) -> f64 {
    (ns / 1_000) as f64 / 1_000.0
}

/// Interns strings into a table, returning their positions.
#[derive(Default)]
struct Table {
    names: Vec<String>,
    at: HashMap<String, usize>,
}

impl Table {
    fn id(&mut self, name: &str) -> i64 {
        if let Some(&i) = self.at.get(name) {
            return i as i64;
        }
        self.names.push(name.to_string());
        self.at.insert(name.to_string(), self.names.len() - 1);
        (self.names.len() - 1) as i64
    }
}

/// Number of values per operation in the flat `ops` array of the timeline:
/// lane, start ms, end ms (-1: never completed), outcome (0 ok, 1 fail,
/// 2 info), f id, key id (-1: none), node id (-1: none), history index.
pub const OP_STRIDE: usize = 8;

/// What the timeline is drawn from, besides the operations.
pub struct TimelineInput<'a> {
    pub faults: &'a [FaultInterval],
    pub fault_kinds: &'a [String],
    pub fault_colours: &'a FaultColours,
    pub fs: &'a [String],
    pub end_ns: u64,
    /// Number of client workers (test.json `concurrency`): lets the page
    /// offer one lane per worker (process mod workers).
    pub workers: Option<u64>,
}

/// The timeline's data: lanes (one per process, numeric order), the
/// operations as one flat number array, their values and errors, and the
/// fault intervals with their colours.
pub fn timeline_data(ops: &[OpView], input: &TimelineInput<'_>) -> Value {
    let TimelineInput {
        faults,
        fault_kinds,
        fault_colours,
        fs,
        end_ns,
        workers,
    } = *input;
    let mut processes: Vec<u64> = ops.iter().map(|o| o.process).collect();
    processes.sort_unstable();
    processes.dedup();
    let lane_of: HashMap<u64, usize> = processes.iter().enumerate().map(|(i, p)| (*p, i)).collect();
    let mut f_table = Table::default();
    for f in fs {
        f_table.id(f);
    }
    let (mut keys, mut nodes) = (Table::default(), Table::default());
    let mut flat: Vec<f64> = Vec::with_capacity(ops.len() * OP_STRIDE);
    let mut values: Vec<&str> = Vec::with_capacity(ops.len());
    let mut errors: Vec<(usize, &str)> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        flat.extend([
            lane_of[&op.process] as f64,
            ms(op.start_ns),
            op.end_ns.map(ms).unwrap_or(-1.0),
            f64::from(op.outcome.code()),
            f_table.id(&op.f) as f64,
            op.key.as_deref().map(|k| keys.id(k)).unwrap_or(-1) as f64,
            op.node.as_deref().map(|n| nodes.id(n)).unwrap_or(-1) as f64,
            op.index as f64,
        ]);
        values.push(&op.value);
        if let Some(e) = &op.error {
            errors.push((i, e));
        }
    }
    let kinds: Vec<Value> = fault_kinds
        .iter()
        .map(|k| json!({"name": k, "color": hex(fault_colours.of(k))}))
        .collect();
    let fault_rows: Vec<Value> = faults
        .iter()
        .map(|f| {
            json!({
                "kind": fault_kinds.iter().position(|k| k == &f.kind).unwrap_or(0),
                "s": compact(ms(f.start_ns)),
                "e": compact(ms(f.end_ns)),
                "detail": f.detail,
                "healed": f.healed,
            })
        })
        .collect();
    json!({
        "end": ms(end_ns),
        "workers": workers,
        "stride": OP_STRIDE,
        "lanes": processes.iter().map(u64::to_string).collect::<Vec<_>>(),
        "fs": f_table.names,
        "keys": keys.names,
        "nodes": nodes.names,
        "ops": flat.iter().map(|v| compact(*v)).collect::<Vec<_>>(),
        "vals": values,
        "errs": errors,
        "kinds": kinds,
        "faults": fault_rows,
    })
}

/// Whole numbers as JSON integers (shorter than `12.0`).
fn compact(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        Value::from(v as i64)
    } else {
        Value::from(v)
    }
}

/// The node logs' data: node names, and per line its time in ms since the
/// run began (`null` when unknown), node id, level and text. `run_start` is
/// the wall-clock start of the run; without it, times count from the first
/// timestamped log line and `base` says so.
pub fn logs_data(logs: &NodeLogs, run_start: Option<DateTime<Utc>>) -> Value {
    let first = logs.lines.iter().find_map(|l| l.time);
    let (base, base_note) = match (run_start, first) {
        (Some(s), _) => (Some(s), "run start (test.json)"),
        (None, Some(f)) => (Some(f), "first log line (test.json has no start time)"),
        (None, None) => (None, "no timestamps"),
    };
    let levels = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"];
    let times: Vec<Value> = logs
        .lines
        .iter()
        .map(|l| match (l.time, base) {
            (Some(t), Some(b)) => {
                let us = (t - b).num_microseconds().unwrap_or(0);
                compact(us as f64 / 1000.0)
            }
            _ => Value::Null,
        })
        .collect();
    json!({
        "nodes": logs.nodes,
        "base": base_note,
        "levels": levels,
        "t": times,
        "n": logs.lines.iter().map(|l| l.node).collect::<Vec<_>>(),
        "lv": logs.lines.iter().map(|l| {
            l.level.as_deref().and_then(|lv| levels.iter().position(|x| *x == lv)).map(|i| i as i64).unwrap_or(-1)
        }).collect::<Vec<_>>(),
        "x": logs.lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node_logs::parse_log;
    use crate::ops::Outcome;

    #[test]
    fn script_json_cannot_close_the_script_element() {
        let s = script_json(&json!({"x": "</script><!-- & \u{2028}"}));
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('&'));
        let back: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back["x"], "</script><!-- & \u{2028}");
    }

    #[test]
    fn timeline_ops_are_flat_and_lanes_numeric() {
        let op = |process, start, end: Option<u64>, outcome| OpView {
            index: process * 10,
            process,
            f: "get".into(),
            key: Some("k".into()),
            value: "v".into(),
            outcome,
            start_ns: start,
            end_ns: end,
            node: None,
            error: (outcome == Outcome::Fail).then(|| "boom".to_string()),
        };
        let ops = vec![
            op(10, 1_000_000, Some(2_500_000), Outcome::Ok),
            op(2, 3_000_000, None, Outcome::Info),
            op(2, 4_000_000, Some(5_000_000), Outcome::Fail),
        ];
        let faults = vec![FaultInterval {
            kind: "kill".into(),
            start_ns: 0,
            end_ns: 7_000_000,
            detail: String::new(),
            healed: true,
        }];
        let kinds = vec!["kill".to_string()];
        let colours = FaultColours::new(&kinds, &[]);
        let input = TimelineInput {
            faults: &faults,
            fault_kinds: &kinds,
            fault_colours: &colours,
            fs: &["get".into()],
            end_ns: 9_000_000,
            workers: Some(4),
        };
        let d = timeline_data(&ops, &input);
        assert_eq!(d["workers"], json!(4));
        assert_eq!(d["lanes"], json!(["2", "10"]));
        let flat = d["ops"].as_array().unwrap();
        assert_eq!(flat.len(), 3 * OP_STRIDE);
        assert_eq!(
            flat[..8],
            [
                json!(1),
                json!(1),
                json!(2.5),
                json!(0),
                json!(0),
                json!(0),
                json!(-1),
                json!(100)
            ]
        );
        assert_eq!(flat[8 + 2], json!(-1));
        assert_eq!(d["errs"], json!([[2, "boom"]]));
        assert_eq!(d["faults"][0]["e"], json!(7));
        assert_eq!(d["kinds"][0]["color"], json!("#d62728"));
    }

    #[test]
    fn log_times_relative_to_run_start_or_first_line() {
        let logs = NodeLogs {
            nodes: vec!["n1".into()],
            lines: parse_log(
                0,
                "2024-05-01T12:00:01.5Z INFO a\n2024-05-01T12:00:02Z DEBUG b\n",
            ),
        };
        let start = crate::timestamps::parse_rfc3339("2024-05-01T12:00:00Z");
        let d = logs_data(&logs, start);
        assert_eq!(d["t"], json!([1500, 2000]));
        assert_eq!(d["lv"], json!([2, 1]));
        let d = logs_data(&logs, None);
        assert_eq!(d["t"], json!([0, 500]));
        assert!(d["base"].as_str().unwrap().contains("first log line"));
    }
}

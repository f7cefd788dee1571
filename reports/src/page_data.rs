//! The compact JSON that the report page's scripts draw from (timeline
//! operations, fault intervals, node log lines), and how it is embedded
//! safely in a `<script type="application/json">` element. Both are kept
//! within the byte bounds of [`crate::limits`]: the timeline embeds the
//! operations [`crate::timeline_thinning`] picks, the logs the lines
//! [`crate::log_thinning`] picks.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use crate::faults::FaultInterval;
use crate::limits::{
    ERROR_CHARS, LOG_BYTES, LOG_LINE_CHARS, TIMELINE_BYTES, TIMELINE_OPS, VALUE_CHARS, cut,
};
use crate::log_thinning::{LineCost, LineSelection, select_lines};
use crate::node_logs::{LogLine, NodeLogs};
use crate::ops::OpView;
use crate::palette::{FaultColours, hex};
use crate::timeline_thinning::{Focus, OpSelection, select_ops};

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

/// The timeline's embedded JSON and what it holds.
#[derive(Debug, Clone)]
pub struct Timeline {
    /// The JSON, safe inside `<script>` ([`script_json`]).
    pub json: String,
    pub selection: OpSelection,
    /// Values or errors cut to [`VALUE_CHARS`] / [`ERROR_CHARS`].
    pub cut: usize,
}

/// The timeline's data within [`TIMELINE_OPS`] operations and
/// [`TIMELINE_BYTES`] bytes: fewer operations when long values or errors
/// would make it larger.
pub fn bounded_timeline(ops: &[OpView], focus: &Focus, input: &TimelineInput<'_>) -> Timeline {
    let mut cap = TIMELINE_OPS;
    loop {
        let selection = select_ops(ops, focus, cap);
        let (value, cut) = timeline_data(ops, &selection, input);
        let json = script_json(&value);
        if json.len() <= TIMELINE_BYTES || cap == 0 {
            return Timeline {
                json,
                selection,
                cut,
            };
        }
        let shrunk = (cap as f64 * TIMELINE_BYTES as f64 / json.len() as f64 * 0.95) as usize;
        cap = shrunk.min(cap - 1);
    }
}

/// The timeline's data: lanes (one per process with an embedded operation,
/// numeric order), the `selection` of operations as one flat number array,
/// their values and errors (cut, errors as ids into a table), the run's
/// operation count, and the fault intervals with their colours. Also
/// returns how many values or errors were cut.
pub fn timeline_data(
    ops: &[OpView],
    selection: &OpSelection,
    input: &TimelineInput<'_>,
) -> (Value, usize) {
    let TimelineInput {
        faults,
        fault_kinds,
        fault_colours,
        fs,
        end_ns,
        workers,
    } = *input;
    let kept: Vec<&OpView> = selection.kept.iter().map(|&i| &ops[i]).collect();
    let mut processes: Vec<u64> = kept.iter().map(|o| o.process).collect();
    processes.sort_unstable();
    processes.dedup();
    let lane_of: HashMap<u64, usize> = processes.iter().enumerate().map(|(i, p)| (*p, i)).collect();
    let mut f_table = Table::default();
    for f in fs {
        f_table.id(f);
    }
    let (mut keys, mut nodes, mut error_texts) =
        (Table::default(), Table::default(), Table::default());
    let mut flat: Vec<f64> = Vec::with_capacity(kept.len() * OP_STRIDE);
    let mut values: Vec<Cow<'_, str>> = Vec::with_capacity(kept.len());
    let mut errors: Vec<(usize, i64)> = Vec::new();
    let mut cuts = 0;
    for (i, op) in kept.iter().enumerate() {
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
        let value = cut(&op.value, VALUE_CHARS);
        cuts += usize::from(matches!(value, Cow::Owned(_)));
        values.push(value);
        if let Some(e) = &op.error {
            let text = cut(e, ERROR_CHARS);
            cuts += usize::from(matches!(text, Cow::Owned(_)));
            errors.push((i, error_texts.id(&text)));
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
    let value = json!({
        "end": ms(end_ns),
        "workers": workers,
        "total": selection.total,
        "stride": OP_STRIDE,
        "lanes": processes.iter().map(u64::to_string).collect::<Vec<_>>(),
        "fs": f_table.names,
        "keys": keys.names,
        "nodes": nodes.names,
        "ops": flat.iter().map(|v| compact(*v)).collect::<Vec<_>>(),
        "vals": values,
        "errors": error_texts.names,
        "errs": errors,
        "kinds": kinds,
        "faults": fault_rows,
    });
    (value, cuts)
}

/// Whole numbers as JSON integers (shorter than `12.0`).
fn compact(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        Value::from(v as i64)
    } else {
        Value::from(v)
    }
}

/// The time logs are counted from: the run's start, else the first
/// timestamped line; and how the page names it.
fn log_base(
    logs: &NodeLogs,
    run_start: Option<DateTime<Utc>>,
) -> (Option<DateTime<Utc>>, &'static str) {
    let first = logs.lines.iter().find_map(|l| l.time);
    match (run_start, first) {
        (Some(s), _) => (Some(s), "run start (test.json)"),
        (None, Some(f)) => (Some(f), "first log line (test.json has no start time)"),
        (None, None) => (None, "no timestamps"),
    }
}

const LEVELS: [&str; 5] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"];

/// One line's entries in the `t`, `n`, `lv` and `x` columns.
fn log_row(line: &LogLine, base: Option<DateTime<Utc>>) -> [Value; 4] {
    let t = match (line.time, base) {
        (Some(t), Some(b)) => compact((t - b).num_microseconds().unwrap_or(0) as f64 / 1000.0),
        _ => Value::Null,
    };
    let lv = line
        .level
        .as_deref()
        .and_then(|lv| LEVELS.iter().position(|x| *x == lv))
        .map(|i| i as i64)
        .unwrap_or(-1);
    [
        t,
        Value::from(line.node),
        Value::from(lv),
        Value::from(cut(&line.text, LOG_LINE_CHARS).into_owned()),
    ]
}

/// The node logs' embedded JSON and what it holds.
#[derive(Debug, Clone)]
pub struct Logs {
    pub json: String,
    pub selection: LineSelection,
    /// Lines cut to [`LOG_LINE_CHARS`].
    pub cut: usize,
}

/// The node logs' data within [`LOG_BYTES`] bytes: the lines
/// [`select_lines`] picks around `moments` (ms since the run began).
pub fn bounded_logs(logs: &NodeLogs, run_start: Option<DateTime<Utc>>, moments: &[f64]) -> Logs {
    let (base, _) = log_base(logs, run_start);
    let costs: Vec<LineCost> = logs
        .lines
        .iter()
        .map(|line| {
            let row = log_row(line, base);
            let t_ms = row[0].as_f64();
            // Each of the four values plus its comma, as embedded.
            let bytes = script_json(&row).len() - 2 + 1;
            LineCost {
                t_ms,
                error: line.level.as_deref() == Some("ERROR"),
                bytes,
            }
        })
        .collect();
    let empty = LineSelection::default();
    let overhead = script_json(&logs_data(logs, run_start, &empty)).len();
    let selection = select_lines(&costs, moments, LOG_BYTES.saturating_sub(overhead));
    let cut = selection
        .kept
        .iter()
        .filter(|&&i| logs.lines[i].text.chars().count() > LOG_LINE_CHARS)
        .count();
    Logs {
        json: script_json(&logs_data(logs, run_start, &selection)),
        selection,
        cut,
    }
}

/// The node logs' data: node names, and per kept line its time in ms since
/// the run began (`null` when unknown), node id, level and text (cut to
/// [`LOG_LINE_CHARS`]). `run_start` is the wall-clock start of the run;
/// without it, times count from the first timestamped log line and `base`
/// says so. `total` is the number of lines of all logs.
pub fn logs_data(
    logs: &NodeLogs,
    run_start: Option<DateTime<Utc>>,
    selection: &LineSelection,
) -> Value {
    let (base, base_note) = log_base(logs, run_start);
    let mut columns: [Vec<Value>; 4] = Default::default();
    for &i in &selection.kept {
        for (column, value) in columns.iter_mut().zip(log_row(&logs.lines[i], base)) {
            column.push(value);
        }
    }
    let [t, n, lv, x] = columns;
    json!({
        "nodes": logs.nodes,
        "base": base_note,
        "levels": LEVELS,
        "total": logs.lines.len(),
        "t": t,
        "n": n,
        "lv": lv,
        "x": x,
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
        let all = select_ops(&ops, &Focus::default(), 10);
        let (d, cuts) = timeline_data(&ops, &all, &input);
        assert_eq!(cuts, 0);
        assert_eq!(d["total"], json!(3));
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
        assert_eq!(d["errs"], json!([[2, 0]]));
        assert_eq!(d["errors"], json!(["boom"]));
        assert_eq!(d["faults"][0]["e"], json!(7));
        assert_eq!(d["kinds"][0]["color"], json!("#d62728"));

        // Two of three kept: only their lanes; long values and errors cut.
        let mut long = ops.clone();
        long[2].value = "v".repeat(VALUE_CHARS + 10);
        long[2].error = Some("e".repeat(ERROR_CHARS * 2));
        let two = OpSelection {
            kept: vec![1, 2],
            total: 3,
            ..OpSelection::default()
        };
        let (d, cuts) = timeline_data(&long, &two, &input);
        assert_eq!(cuts, 2);
        assert_eq!(d["lanes"], json!(["2"]));
        assert_eq!(d["ops"].as_array().unwrap().len(), 2 * OP_STRIDE);
        assert_eq!(d["vals"][1].as_str().unwrap().chars().count(), VALUE_CHARS);
        assert!(d["vals"][1].as_str().unwrap().ends_with('…'));
        assert_eq!(
            d["errors"][0].as_str().unwrap().chars().count(),
            ERROR_CHARS
        );
        assert_eq!(d["total"], json!(3));
    }

    #[test]
    fn the_bounded_timeline_stays_within_its_bytes_even_with_long_values() {
        // 30,000 ops with values at the cut length: over both bounds.
        let ops: Vec<OpView> = (0..30_000u64)
            .map(|i| OpView {
                index: i * 2,
                process: i % 50,
                f: "append".into(),
                key: Some(format!("k{}", i % 9)),
                value: "x".repeat(200),
                outcome: if i % 5 == 0 {
                    Outcome::Fail
                } else {
                    Outcome::Ok
                },
                start_ns: i * 3_000_000,
                end_ns: Some(i * 3_000_000 + 1_234_567),
                node: Some("n1".into()),
                error: (i % 5 == 0).then(|| format!("error number {i}")),
            })
            .collect();
        let kinds: Vec<String> = Vec::new();
        let colours = FaultColours::new(&kinds, &[]);
        let input = TimelineInput {
            faults: &[],
            fault_kinds: &kinds,
            fault_colours: &colours,
            fs: &["append".into()],
            end_ns: 90_000_000_000,
            workers: None,
        };
        let t = bounded_timeline(&ops, &Focus::default(), &input);
        assert!(t.json.len() <= TIMELINE_BYTES, "{}", t.json.len());
        assert!(t.selection.thinned());
        assert!(
            t.selection.kept.len() < TIMELINE_OPS,
            "fewer ops for long values"
        );
        assert!(t.json.len() > TIMELINE_BYTES * 8 / 10, "the budget is used");
        assert_eq!(t.cut, t.selection.kept.len());
        let back: Value = serde_json::from_str(&t.json).unwrap();
        assert_eq!(back["total"], json!(30_000));
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
        let all = bounded_logs(&logs, start, &[]);
        assert!(!all.selection.thinned());
        let d: Value = serde_json::from_str(&all.json).unwrap();
        assert_eq!(d["t"], json!([1500, 2000]));
        assert_eq!(d["lv"], json!([2, 1]));
        assert_eq!(d["total"], json!(2));
        let d: Value = serde_json::from_str(&bounded_logs(&logs, None, &[]).json).unwrap();
        assert_eq!(d["t"], json!([0, 500]));
        assert!(d["base"].as_str().unwrap().contains("first log line"));
    }

    #[test]
    fn bounded_logs_stay_within_their_bytes_and_cut_long_lines() {
        // 20,000 lines of ~60 bytes (1.2 MB), one every 10 ms on two nodes,
        // and one very long line.
        let mut text = String::new();
        for i in 0..10_000u64 {
            let (s, ms) = (i / 100, (i % 100) * 10);
            text.push_str(&format!(
                "2024-05-01T12:{:02}:{:02}.{ms:03}Z  INFO kvnode::kv: applied index={i} <&>\n",
                s / 60,
                s % 60
            ));
        }
        text.push_str(&format!(
            "2024-05-01T12:01:40Z ERROR {}\n",
            "y".repeat(5_000)
        ));
        let logs = NodeLogs {
            nodes: vec!["n1".into(), "n2".into()],
            lines: crate::node_logs::merge(vec![parse_log(0, &text), parse_log(1, &text)]),
        };
        let start = crate::timestamps::parse_rfc3339("2024-05-01T12:00:00Z");
        let l = bounded_logs(&logs, start, &[0.0, 50_000.0]);
        assert!(l.json.len() <= LOG_BYTES, "{}", l.json.len());
        assert!(l.json.len() > LOG_BYTES * 9 / 10, "the budget is used");
        assert!(l.selection.thinned());
        assert_eq!(
            (l.selection.errors_kept, l.selection.errors, l.cut),
            (2, 2, 2)
        );
        let d: Value = serde_json::from_str(&l.json).unwrap();
        assert_eq!(d["total"], json!(20_002));
        let texts = d["x"].as_array().unwrap();
        assert_eq!(texts.len(), l.selection.kept.len());
        assert!(
            texts
                .iter()
                .all(|t| t.as_str().unwrap().chars().count() <= LOG_LINE_CHARS)
        );
        // Windows around 0 s and 50 s: the line at 50.000 s is there.
        assert!(
            texts
                .iter()
                .any(|t| t.as_str().unwrap().contains("index=5000 "))
        );
        assert!(
            !texts
                .iter()
                .any(|t| t.as_str().unwrap().contains("index=2500 "))
        );
    }
}

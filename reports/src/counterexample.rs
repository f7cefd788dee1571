//! The counterexample of a linearizability checker, shown in the manner of
//! Porcupine: the failing operation, the longest partial linearization with
//! the state after each step, and the operations concurrent with the
//! failure. faultline-checker's `Counterexample` is read as such; any other
//! JSON is read by field name, leniently, so the report still renders what
//! another checker produced. Operation times missing from it are looked up
//! in the history by index.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::ops::OpView;

/// One operation of a counterexample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CeOp {
    /// Short description, e.g. `put k1 5 → ok`.
    pub label: String,
    pub process: Option<String>,
    pub index: Option<u64>,
    pub start_ns: Option<u64>,
    pub end_ns: Option<u64>,
}

/// One step of the partial linearization.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CeStep {
    pub op: CeOp,
    /// The model state after this operation took effect.
    pub state: String,
}

/// Role of a bar in the diagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BarRole {
    Linearized,
    Failing,
    Concurrent,
}

/// One bar of the Porcupine-style diagram: positions in percent of the
/// diagram's time span.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CeBar {
    pub lane: usize,
    pub left_pct: f64,
    pub width_pct: f64,
    pub role: BarRole,
    /// 1-based step number for linearized operations.
    pub step: Option<usize>,
    pub label: String,
    pub tooltip: String,
}

/// Everything the report shows of one counterexample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CounterexampleView {
    pub key: Option<String>,
    pub message: Option<String>,
    pub failing: Option<CeOp>,
    /// The model's state before any step, when the checker gives it.
    pub initial_state: Option<String>,
    /// State before the failing operation (the last step's state, or the
    /// checker's own field).
    pub state_before_failure: Option<String>,
    pub steps: Vec<CeStep>,
    pub concurrent: Vec<CeOp>,
    /// Lane labels (processes) of the diagram.
    pub lanes: Vec<String>,
    pub bars: Vec<CeBar>,
    /// Time span of the diagram in seconds since the run began.
    pub span_start_s: f64,
    pub span_end_s: f64,
    /// The whole counterexample, pretty-printed.
    pub json: String,
}

const STEP_KEYS: [&str; 7] = [
    "longest_partial_linearization",
    "partial_linearization",
    "longest_linearization",
    "linearization",
    "steps",
    "prefix",
    "linearized",
];
const FAILING_KEYS: [&str; 5] = ["failing_op", "failed_op", "failing", "operation", "op"];
const CONCURRENT_KEYS: [&str; 4] = [
    "concurrent",
    "concurrent_ops",
    "concurrent_operations",
    "pending",
];
const STATE_KEYS: [&str; 4] = ["state_after", "state", "after", "model_state"];

/// Builds the view of a counterexample; `ops` are the run's operations,
/// used to find times and processes by history index.
pub fn counterexample_view(ce: &Value, ops: &[OpView]) -> CounterexampleView {
    let by_index = index_ops(ops);
    let mut view = match serde_json::from_value::<faultline_checker::Counterexample>(ce.clone()) {
        Ok(typed) => typed_view(&typed, &by_index),
        Err(_) => generic_view(ce, &by_index),
    };
    view.json = serde_json::to_string_pretty(ce).unwrap_or_default();
    layout_diagram(&mut view);
    view
}

/// The view of faultline-checker's own counterexample.
fn typed_view(
    ce: &faultline_checker::Counterexample,
    by_index: &HashMap<u64, &OpView>,
) -> CounterexampleView {
    let steps: Vec<CeStep> = ce
        .linearization
        .iter()
        .map(|s| CeStep {
            op: checker_op(&s.op, by_index),
            state: s.state.clone(),
        })
        .collect();
    let state_before_failure = steps
        .last()
        .map(|s| s.state.clone())
        .or_else(|| Some(ce.initial_state.clone()));
    CounterexampleView {
        key: ce.key.clone(),
        message: Some(ce.message.clone()),
        failing: ce.op.as_ref().map(|o| checker_op(o, by_index)),
        initial_state: Some(ce.initial_state.clone()),
        state_before_failure,
        steps,
        concurrent: ce
            .concurrent
            .iter()
            .map(|o| checker_op(o, by_index))
            .collect(),
        lanes: Vec::new(),
        bars: Vec::new(),
        span_start_s: 0.0,
        span_end_s: 0.0,
        json: String::new(),
    }
}

fn checker_op(op: &faultline_checker::OpView, by_index: &HashMap<u64, &OpView>) -> CeOp {
    let index = u64::from(op.call_index);
    let known = by_index.get(&index);
    let mut label = op.f.clone();
    if let Some(k) = &op.key {
        label.push(' ');
        label.push_str(k);
    }
    if !op.input.is_null() {
        label.push_str(&format!(" {}", op.input));
    }
    if let Some(out) = &op.output {
        label.push_str(&format!(" → {out}"));
    }
    if op.outcome != "ok" {
        label.push_str(&format!(" ({})", op.outcome));
    }
    CeOp {
        label,
        process: Some(op.process.to_string()),
        index: Some(index),
        start_ns: op.call_time.or_else(|| known.map(|k| k.start_ns)),
        end_ns: op.return_time.or_else(|| known.and_then(|k| k.end_ns)),
    }
}

/// The view of a counterexample of unknown shape, read by field names.
fn generic_view(ce: &Value, by_index: &HashMap<u64, &OpView>) -> CounterexampleView {
    let empty = Map::new();
    let obj = ce.as_object().unwrap_or(&empty);
    let steps: Vec<CeStep> = first(obj, &STEP_KEYS)
        .and_then(Value::as_array)
        .map(|items| items.iter().map(|s| step(s, by_index)).collect())
        .unwrap_or_default();
    let failing = first(obj, &FAILING_KEYS).map(|v| op(v, by_index));
    let concurrent: Vec<CeOp> = first(obj, &CONCURRENT_KEYS)
        .and_then(Value::as_array)
        .map(|items| items.iter().map(|v| op(v, by_index)).collect())
        .unwrap_or_default();
    let state_before_failure = first(obj, &["state_before", "state_before_failure", "last_state"])
        .map(text)
        .or_else(|| steps.last().map(|s| s.state.clone()));
    CounterexampleView {
        key: obj.get("key").filter(|v| !v.is_null()).map(text),
        message: first(obj, &["message", "reason", "explanation"]).map(text),
        failing,
        initial_state: first(obj, &["initial_state", "init"]).map(text),
        state_before_failure,
        steps,
        concurrent,
        lanes: Vec::new(),
        bars: Vec::new(),
        span_start_s: 0.0,
        span_end_s: 0.0,
        json: String::new(),
    }
}

/// Places every operation that has times on a lane per process.
fn layout_diagram(view: &mut CounterexampleView) {
    let mut entries: Vec<(&CeOp, BarRole, Option<usize>)> = Vec::new();
    entries.extend(
        view.steps
            .iter()
            .enumerate()
            .map(|(i, s)| (&s.op, BarRole::Linearized, Some(i + 1))),
    );
    entries.extend(view.failing.iter().map(|o| (o, BarRole::Failing, None)));
    entries.extend(
        view.concurrent
            .iter()
            .map(|o| (o, BarRole::Concurrent, None)),
    );
    let timed: Vec<_> = entries
        .into_iter()
        .filter(|(o, _, _)| o.start_ns.is_some())
        .collect();
    let Some(lo) = timed.iter().filter_map(|(o, _, _)| o.start_ns).min() else {
        return;
    };
    let hi = timed
        .iter()
        .map(|(o, _, _)| o.end_ns.or(o.start_ns).unwrap_or(lo))
        .max()
        .unwrap_or(lo);
    let pad = ((hi - lo) / 20).max(1);
    let (lo, hi) = (lo.saturating_sub(pad), hi + pad);
    let span = (hi - lo) as f64;
    let mut lanes: Vec<String> = Vec::new();
    let mut bars = Vec::new();
    let mut seen: Vec<(Option<u64>, String)> = Vec::new();
    for (o, role, step) in timed {
        // An op listed twice (e.g. failing and concurrent) is drawn once.
        let identity = match o.index {
            Some(i) => (Some(i), String::new()),
            None => (None, o.label.clone()),
        };
        if seen.contains(&identity) {
            continue;
        }
        seen.push(identity);
        let lane_name = o.process.clone().unwrap_or_else(|| "?".to_string());
        let lane = lanes
            .iter()
            .position(|l| l == &lane_name)
            .unwrap_or_else(|| {
                lanes.push(lane_name.clone());
                lanes.len() - 1
            });
        let start = o.start_ns.unwrap_or(lo);
        let end = o.end_ns.unwrap_or(hi).max(start);
        let left_pct = (start - lo) as f64 / span * 100.0;
        let width_pct = ((end - start) as f64 / span * 100.0).max(1.5);
        let times = match o.end_ns {
            Some(e) => format!("{:.6} s – {:.6} s", start as f64 / 1e9, e as f64 / 1e9),
            None => format!("{:.6} s – (never completed)", start as f64 / 1e9),
        };
        bars.push(CeBar {
            lane,
            // Wide enough to see; shifted left if that runs past the end.
            left_pct: left_pct.min(100.0 - width_pct.min(100.0)),
            width_pct: width_pct.min(100.0),
            role,
            step,
            label: o.label.clone(),
            tooltip: format!("process {lane_name}: {} ({times})", o.label),
        });
    }
    view.lanes = lanes;
    view.bars = bars;
    view.span_start_s = lo as f64 / 1e9;
    view.span_end_s = hi as f64 / 1e9;
}

/// Operations by the history index of their invocation.
fn index_ops(ops: &[OpView]) -> HashMap<u64, &OpView> {
    ops.iter().map(|o| (o.index, o)).collect()
}

fn first<'a>(obj: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter()
        .find_map(|k| obj.get(*k))
        .filter(|v| !v.is_null())
}

fn step(value: &Value, by_index: &HashMap<u64, &OpView>) -> CeStep {
    let empty = Map::new();
    let obj = value.as_object().unwrap_or(&empty);
    let op_value = first(obj, &["op", "operation"]).unwrap_or(value);
    CeStep {
        op: op(op_value, by_index),
        state: first(obj, &STATE_KEYS).map(text).unwrap_or_default(),
    }
}

/// Reads an operation from an object (flat, or with nested `invoke` and
/// `complete` events), a bare history index, or any other JSON.
fn op(value: &Value, by_index: &HashMap<u64, &OpView>) -> CeOp {
    let Some(obj) = value.as_object() else {
        if let Some(i) = value.as_u64()
            && let Some(known) = by_index.get(&i)
        {
            return from_history(known);
        }
        return CeOp {
            label: text(value),
            process: None,
            index: None,
            start_ns: None,
            end_ns: None,
        };
    };
    let invoke = obj.get("invoke").and_then(Value::as_object).unwrap_or(obj);
    let complete = ["complete", "completion", "return"]
        .iter()
        .find_map(|k| obj.get(*k).and_then(Value::as_object));
    let get = |keys: &[&str]| first(obj, keys).or_else(|| first(invoke, keys));
    let index = get(&["index", "call_index", "id", "invoke_index"]).and_then(Value::as_u64);
    let known = index.and_then(|i| by_index.get(&i));
    let process = get(&["process", "client", "client_id"])
        .map(text)
        .or_else(|| known.map(|k| k.process.to_string()));
    let f = get(&["f", "kind", "func", "op"])
        .filter(|v| v.is_string())
        .map(text)
        .or_else(|| known.map(|k| k.f.clone()))
        .unwrap_or_else(|| "op".to_string());
    let input = get(&["value", "input"]).map(text);
    let output = first(obj, &["output", "result"])
        .or_else(|| complete.and_then(|c| c.get("value")))
        .map(text);
    let outcome = first(obj, &["type", "outcome"])
        .or_else(|| complete.and_then(|c| c.get("type")))
        .map(text);
    let key = get(&["key"])
        .map(text)
        .or_else(|| known.and_then(|k| k.key.clone()));
    let mut label = f;
    if let Some(k) = &key {
        label.push(' ');
        label.push_str(k);
    }
    if let Some(i) = &input {
        label.push(' ');
        label.push_str(i);
    }
    if let Some(o) = output.filter(|o| Some(o) != input.as_ref()) {
        label.push_str(" → ");
        label.push_str(&o);
    }
    if let Some(o) = outcome {
        label.push_str(&format!(" ({o})"));
    }
    let time = |keys: &[&str]| get(keys).and_then(Value::as_u64);
    CeOp {
        label,
        process,
        index,
        start_ns: time(&[
            "start_ns",
            "start",
            "call_time",
            "call",
            "invoke_time",
            "time",
        ])
        .or_else(|| known.map(|k| k.start_ns)),
        end_ns: time(&["end_ns", "end", "return_time", "complete_time"])
            .or_else(|| complete.and_then(|c| c.get("time")).and_then(Value::as_u64))
            .or_else(|| known.and_then(|k| k.end_ns)),
    }
}

fn from_history(op: &OpView) -> CeOp {
    let key = op
        .key
        .as_deref()
        .map(|k| format!(" {k}"))
        .unwrap_or_default();
    CeOp {
        label: format!("{}{key} {} ({})", op.f, op.value, op.outcome.as_str()),
        process: Some(op.process.to_string()),
        index: Some(op.index),
        start_ns: Some(op.start_ns),
        end_ns: op.end_ns,
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Outcome;
    use serde_json::json;

    fn hist_op(index: u64, process: u64, start: u64, end: u64) -> OpView {
        OpView {
            index,
            process,
            f: "put".into(),
            key: Some("k1".into()),
            value: "5".into(),
            outcome: Outcome::Ok,
            start_ns: start,
            end_ns: Some(end),
            node: None,
            error: None,
        }
    }

    #[test]
    fn reads_steps_failing_and_concurrent_ops() {
        let ce = json!({
            "key": "k1",
            "message": "no linearization",
            "longest_partial_linearization": [
                {"op": {"index": 0, "process": 1, "f": "put", "value": 5, "start": 100, "end": 200}, "state": 5},
                {"op": {"index": 2, "process": 2, "f": "get", "output": 5, "start": 150, "end": 300}, "state_after": 5}
            ],
            "failing_op": {"index": 4, "process": 3, "f": "get", "output": 7, "type": "ok"},
            "concurrent": [4, {"index": 6, "process": 1, "f": "put", "value": 7}]
        });
        let ops = vec![hist_op(4, 3, 250, 400), hist_op(6, 1, 260, 500)];
        let v = counterexample_view(&ce, &ops);
        assert_eq!(v.key.as_deref(), Some("k1"));
        assert_eq!(v.steps.len(), 2);
        assert_eq!(v.steps[0].state, "5");
        assert_eq!(v.steps[0].op.label, "put 5");
        assert_eq!(v.steps[1].op.label, "get → 5");
        let failing = v.failing.as_ref().unwrap();
        assert_eq!(failing.label, "get k1 → 7 (ok)");
        assert_eq!((failing.start_ns, failing.end_ns), (Some(250), Some(400)));
        assert_eq!(v.state_before_failure.as_deref(), Some("5"));
        assert_eq!(v.concurrent.len(), 2);
        assert_eq!(v.concurrent[1].end_ns, Some(500));
        // The failing op is also listed as concurrent (index 4): drawn once.
        assert_eq!(v.bars.len(), 4);
        assert_eq!(v.lanes, vec!["1", "2", "3"]);
        assert_eq!(v.bars[0].step, Some(1));
        assert_eq!(v.bars[2].role, BarRole::Failing);
        for b in &v.bars {
            assert!(
                b.left_pct >= 0.0 && b.left_pct + b.width_pct <= 100.0 + 1e-9,
                "{b:?}"
            );
        }
    }

    #[test]
    fn reads_the_checkers_own_counterexample() {
        use faultline_checker::{Counterexample, OpView as CheckerOp, Step, Value as V};
        let cop = |process,
                   f: &str,
                   input: V,
                   output: Option<V>,
                   call: u32,
                   times: Option<(u64, u64)>| CheckerOp {
            process,
            f: f.into(),
            key: Some("k1".into()),
            input,
            output,
            outcome: "ok".into(),
            call_index: call,
            return_index: Some(call + 1),
            call_line: call + 1,
            return_line: Some(call + 2),
            call_time: times.map(|t| t.0),
            return_time: times.map(|t| t.1),
        };
        let ce = Counterexample {
            key: Some("k1".into()),
            message: "key k1: can't read 3 from register holding 4".into(),
            op: Some(cop(2, "get", V::Null, Some(V::Int(3)), 6, Some((300, 400)))),
            last_linearized: None,
            initial_state: "nil".into(),
            linearization: vec![Step {
                op: cop(1, "put", V::Int(4), None, 4, None),
                state: "4".into(),
            }],
            concurrent: vec![cop(3, "put", V::Int(3), None, 8, Some((350, 500)))],
        };
        // The put's times are missing from the checker's view: found in the history.
        let ops = vec![hist_op(4, 1, 100, 200)];
        let v = counterexample_view(&serde_json::to_value(&ce).unwrap(), &ops);
        assert_eq!(v.initial_state.as_deref(), Some("nil"));
        assert_eq!(
            v.message.as_deref(),
            Some("key k1: can't read 3 from register holding 4")
        );
        assert_eq!(v.steps[0].op.label, "put k1 4");
        assert_eq!(
            (v.steps[0].op.start_ns, v.steps[0].op.end_ns),
            (Some(100), Some(200))
        );
        assert_eq!(v.failing.as_ref().unwrap().label, "get k1 → 3");
        assert_eq!(v.state_before_failure.as_deref(), Some("4"));
        assert_eq!(v.concurrent[0].process.as_deref(), Some("3"));
        assert_eq!(v.bars.len(), 3);
        assert_eq!(v.lanes, vec!["1", "2", "3"]);
    }

    #[test]
    fn nested_invoke_complete_events_and_unknown_shapes() {
        let ce = json!({
            "steps": [{"invoke": {"process": 4, "f": "cas", "value": [1, 2], "time": 10},
                       "complete": {"type": "ok", "time": 20}, "state": 2}],
            "op": "weird"
        });
        let v = counterexample_view(&ce, &[]);
        assert_eq!(v.steps[0].op.label, "cas [1,2] (ok)");
        assert_eq!(
            (v.steps[0].op.start_ns, v.steps[0].op.end_ns),
            (Some(10), Some(20))
        );
        assert_eq!(v.failing.as_ref().unwrap().label, "weird");
        assert_eq!(v.bars.len(), 1);
        let none = counterexample_view(&json!("just text"), &[]);
        assert!(none.steps.is_empty() && none.bars.is_empty());
        assert!(none.json.contains("just text"));
    }
}

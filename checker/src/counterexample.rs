//! Counterexamples: what an invalid partition looks like to a person (and to
//! the HTML report): the key, the operation that cannot be linearized, the
//! last one that could, the longest partial linearization with the model
//! state after each step, the concurrent operations, and a one-line message.

use serde::{Deserialize, Serialize};

use crate::history::Value;
use crate::models::Model;
use crate::ops::Operation;
use crate::search::Trace;

/// An operation as shown in a counterexample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpView {
    pub process: u64,
    pub f: String,
    pub key: Option<String>,
    /// The argument (value written, `[expected, new]` for cas).
    pub input: Value,
    /// What a read returned.
    pub output: Option<Value>,
    /// `ok`, or `info` for an unknown outcome.
    pub outcome: String,
    /// Positions of the invocation and completion in the history's events.
    pub call_index: u32,
    pub return_index: Option<u32>,
    /// Source lines (0 when the history was built in memory).
    pub call_line: u32,
    pub return_line: Option<u32>,
    pub call_time: Option<u64>,
    pub return_time: Option<u64>,
}

impl OpView {
    pub fn new(op: &Operation) -> Self {
        OpView {
            process: op.process,
            f: op.f.name().to_string(),
            key: op.key.as_deref().map(str::to_string),
            input: op.input.clone(),
            output: op.output.clone(),
            outcome: if op.is_info() { "info" } else { "ok" }.to_string(),
            call_index: op.call,
            return_index: (!op.is_info()).then_some(op.ret),
            call_line: op.call_line,
            return_line: (op.ret_line != 0).then_some(op.ret_line),
            call_time: op.call_time,
            return_time: op.ret_time,
        }
    }

    /// A short description: `process 3: get -> 4 (line 17)`.
    pub fn describe(&self) -> String {
        let what = match (&self.output, self.f.as_str()) {
            (Some(out), _) => format!("{} -> {}", self.f, out),
            (None, _) => format!("{} {}", self.f, self.input),
        };
        let info = if self.outcome == "info" {
            " (outcome unknown)"
        } else {
            ""
        };
        if self.call_line > 0 {
            format!(
                "process {}: {what}{info} (line {})",
                self.process, self.call_line
            )
        } else {
            format!(
                "process {}: {what}{info} (event {})",
                self.process, self.call_index
            )
        }
    }
}

/// One step of the partial linearization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub op: OpView,
    /// The model state after the operation.
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counterexample {
    /// The partition's key (`None` for a keyless or joint history).
    pub key: Option<String>,
    /// One line, e.g. "key k7: can't read 3 from register holding 4 (...)".
    pub message: String,
    /// The operation that cannot be linearized.
    pub op: Option<OpView>,
    /// The last operation that could.
    pub last_linearized: Option<OpView>,
    pub initial_state: String,
    /// The longest partial linearization found.
    pub linearization: Vec<Step>,
    /// The operations concurrent with `op` at that point.
    pub concurrent: Vec<OpView>,
}

/// Builds a counterexample from the search's deepest trace.
pub(crate) fn build<M: Model>(
    model: &mut M,
    key: Option<&str>,
    ops: &[&Operation],
    compiled: &[M::Op],
    trace: &Trace,
) -> Counterexample {
    let view = |i: u32| OpView::new(ops[i as usize]);
    let initial_state = {
        let s = model.init();
        model.show_state(s)
    };
    let linearization: Vec<Step> = trace
        .path
        .iter()
        .map(|&(op, state)| Step {
            op: view(op),
            state: model.show_state(state),
        })
        .collect();
    let op = (trace.blocked != u32::MAX).then(|| view(trace.blocked));
    let prefix = key.map_or(String::new(), |k| format!("key {k}: "));
    let message = match &op {
        Some(v) => {
            let compiled_op = compiled[trace.blocked as usize];
            if model.step(trace.state, compiled_op).is_none() {
                format!(
                    "{prefix}{} ({})",
                    model.explain(trace.state, compiled_op),
                    v.describe()
                )
            } else {
                format!(
                    "{prefix}{} cannot be linearized: after {} operations no order of the {} concurrent ones lets it take effect before it returned",
                    v.describe(),
                    trace.path.len(),
                    trace.concurrent.len()
                )
            }
        }
        None => format!("{prefix}no linearization found"),
    };
    Counterexample {
        key: key.map(str::to_string),
        message,
        op,
        last_linearized: trace.path.last().map(|&(op, _)| view(op)),
        initial_state,
        linearization,
        concurrent: trace
            .concurrent
            .iter()
            .filter(|&&i| i != trace.blocked)
            .map(|&i| view(i))
            .collect(),
    }
}

//! Client operations as the report shows them: each invocation paired with
//! its completion into one [`OpView`] (start, end, outcome).

use std::collections::HashMap;

use crate::history::{EventType, HistoryEvent, Process, value_text};

/// How an operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// Took effect.
    Ok,
    /// Certainly did not take effect.
    Fail,
    /// Unknown: may take effect at any later time (also: never completed).
    Info,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Ok, Outcome::Fail, Outcome::Info];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Fail => "fail",
            Outcome::Info => "info",
        }
    }

    /// Small integer used in the compact timeline JSON (0 ok, 1 fail, 2 info).
    pub fn code(self) -> u8 {
        match self {
            Outcome::Ok => 0,
            Outcome::Fail => 1,
            Outcome::Info => 2,
        }
    }
}

/// One client operation: an invocation and its completion.
#[derive(Debug, Clone, PartialEq)]
pub struct OpView {
    /// History index of the invocation.
    pub index: u64,
    pub process: u64,
    pub f: String,
    pub key: Option<String>,
    /// The completion's value when it has one, else the invocation's.
    pub value: String,
    pub outcome: Outcome,
    pub start_ns: u64,
    /// `None` when the operation never completed.
    pub end_ns: Option<u64>,
    pub node: Option<String>,
    pub error: Option<String>,
}

impl OpView {
    /// Latency in nanoseconds, for completed operations.
    pub fn latency_ns(&self) -> Option<u64> {
        self.end_ns.map(|end| end.saturating_sub(self.start_ns))
    }
}

/// Pairs client invocations with their completions, in invocation order.
/// Nemesis and other named processes are skipped (see `faults`). A completion
/// without an invocation is ignored; an invocation that never completes
/// becomes an `Info` operation with no end.
pub fn pair_operations(events: &[HistoryEvent]) -> Vec<OpView> {
    let mut ops: Vec<OpView> = Vec::new();
    let mut open: HashMap<u64, usize> = HashMap::new();
    for event in events {
        let Process::Client(process) = event.process else {
            continue;
        };
        match event.kind {
            EventType::Invoke => {
                if let Some(previous) = open.insert(process, ops.len()) {
                    // A second invoke on a busy process: the first one's fate is unknown.
                    ops[previous].outcome = Outcome::Info;
                }
                ops.push(OpView {
                    index: event.index,
                    process,
                    f: event.f.clone(),
                    key: event.key.clone(),
                    value: display_value(&event.value),
                    outcome: Outcome::Info,
                    start_ns: event.time_ns,
                    end_ns: None,
                    node: event.node.clone(),
                    error: event.error.clone(),
                });
            }
            kind => {
                let Some(at) = open.remove(&process) else {
                    continue;
                };
                let op = &mut ops[at];
                op.outcome = match kind {
                    EventType::Ok => Outcome::Ok,
                    EventType::Fail => Outcome::Fail,
                    _ => Outcome::Info,
                };
                op.end_ns = Some(event.time_ns.max(op.start_ns));
                if !event.value.is_null() {
                    op.value = display_value(&event.value);
                }
                if event.node.is_some() {
                    op.node = event.node.clone();
                }
                if event.error.is_some() {
                    op.error = event.error.clone();
                }
            }
        }
    }
    ops
}

fn display_value(value: &serde_json::Value) -> String {
    if value.is_null() {
        String::new()
    } else {
        value_text(value.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::parse_line;

    fn events(lines: &[&str]) -> Vec<HistoryEvent> {
        lines.iter().map(|l| parse_line(l).unwrap()).collect()
    }

    #[test]
    fn pairs_invocations_with_completions_per_process() {
        let ev = events(&[
            r#"{"time":10,"process":1,"type":"invoke","f":"put","key":"a","value":1}"#,
            r#"{"time":12,"process":2,"type":"invoke","f":"get","key":"a"}"#,
            r#"{"time":20,"process":"nemesis","type":"invoke","f":"start-kill"}"#,
            r#"{"time":30,"process":2,"type":"ok","f":"get","key":"a","value":1,"node":"n2"}"#,
            r#"{"time":40,"process":1,"type":"fail","f":"put","key":"a","value":1,"error":"not leader"}"#,
            r#"{"time":50,"process":3,"type":"invoke","f":"cas","key":"b","value":[1,2]}"#,
        ]);
        let ops = pair_operations(&ev);
        assert_eq!(ops.len(), 3);
        assert_eq!(
            (ops[0].outcome, ops[0].latency_ns()),
            (Outcome::Fail, Some(30))
        );
        assert_eq!(ops[0].error.as_deref(), Some("not leader"));
        assert_eq!((ops[1].outcome, ops[1].value.as_str()), (Outcome::Ok, "1"));
        assert_eq!(ops[1].node.as_deref(), Some("n2"));
        assert_eq!((ops[2].outcome, ops[2].end_ns), (Outcome::Info, None));
        assert_eq!(ops[2].value, "[1,2]");
    }

    #[test]
    fn info_completion_and_orphans() {
        let ev = events(&[
            r#"{"time":5,"process":9,"type":"ok","f":"get","key":"a"}"#,
            r#"{"time":10,"process":1,"type":"invoke","f":"put","key":"a","value":1}"#,
            r#"{"time":90,"process":1,"type":"info","f":"put","key":"a","value":1}"#,
        ]);
        let ops = pair_operations(&ev);
        assert_eq!(ops.len(), 1);
        assert_eq!(ops[0].outcome, Outcome::Info);
        assert_eq!(ops[0].latency_ns(), Some(80));
    }
}

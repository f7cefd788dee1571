//! Pairing: turns a history's events into operations. Each client invocation
//! is matched with its process's next completion: `ok` gives a call and return
//! position; `info` (or no completion at all) gives a return of +infinity (may
//! take effect any time after the call, or never); `fail` drops the operation
//! (it never took effect), and so does an `info` read (its value is unknown,
//! and a read changes nothing). Nemesis events are skipped.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::CheckError;
use crate::history::{Event, EventType, Func, History, Process, Value};

/// The return position of an operation whose outcome is unknown.
pub const INFINITY: u32 = u32::MAX;

/// One client operation with its real-time interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    pub process: u64,
    pub key: Option<Arc<str>>,
    pub f: Func,
    /// The argument: the value written or appended, `[expected, new]` for cas.
    pub input: Value,
    /// What an `ok` read returned; `None` for writes.
    pub output: Option<Value>,
    /// Position of the invocation in the history's event list.
    pub call: u32,
    /// Position of the completion, or `INFINITY` for an unknown outcome.
    pub ret: u32,
    /// Source lines (0 when unknown / in memory) and recorded times.
    pub call_line: u32,
    pub ret_line: u32,
    pub call_time: Option<u64>,
    pub ret_time: Option<u64>,
}

impl Operation {
    /// True when the outcome is unknown (`info`, or never completed).
    pub fn is_info(&self) -> bool {
        self.ret == INFINITY
    }
}

/// The operations of a history and what pairing left out.
#[derive(Debug, Clone, Default)]
pub struct Paired {
    pub ops: Vec<Operation>,
    /// `fail` completions (never took effect).
    pub failed: usize,
    /// Reads whose outcome is unknown (they constrain nothing).
    pub unknown_reads: usize,
}

/// Pairs invocations with completions, per process.
pub fn pair(history: &History) -> Result<Paired, CheckError> {
    let mut out = Paired::default();
    let mut open: HashMap<u64, usize> = HashMap::new();
    if history.events.len() >= INFINITY as usize {
        return Err(CheckError::Pairing {
            line: 0,
            message: format!(
                "{} events are more than this checker handles",
                history.events.len()
            ),
        });
    }
    let mut invokes: Vec<Option<Operation>> = Vec::new();
    for (pos, e) in history.events.iter().enumerate() {
        let Process::Client(p) = e.process else {
            continue;
        };
        match e.kind {
            EventType::Invoke => match open.entry(p) {
                Entry::Occupied(o) => {
                    let prev = invokes[*o.get()].as_ref().map_or(0, |op| op.call_line);
                    return Err(CheckError::Pairing {
                        line: e.line,
                        message: format!(
                            "process {p} invokes `{}` while its invocation at line {prev} is still open",
                            e.f
                        ),
                    });
                }
                Entry::Vacant(v) => {
                    v.insert(invokes.len());
                    invokes.push(Some(invocation(p, pos as u32, e)));
                }
            },
            kind => {
                let Some(slot) = open.remove(&p) else {
                    return Err(CheckError::Pairing {
                        line: e.line,
                        message: format!(
                            "process {p} completes `{}` but has no open invocation",
                            e.f
                        ),
                    });
                };
                let Some(mut op) = invokes[slot].take() else {
                    continue;
                };
                if op.f != e.f {
                    return Err(CheckError::Pairing {
                        line: e.line,
                        message: format!(
                            "process {p} completes `{}` but invoked `{}` at line {}",
                            e.f, op.f, op.call_line
                        ),
                    });
                }
                match kind {
                    EventType::Ok => {
                        op.ret = pos as u32;
                        op.ret_line = e.line;
                        op.ret_time = e.time;
                        if op.f == Func::Get {
                            op.output = Some(e.value.clone());
                        } else if op.input.is_null() {
                            op.input = e.value.clone();
                        }
                        invokes[slot] = Some(op);
                    }
                    EventType::Fail => out.failed += 1,
                    _ => {
                        op.ret_line = e.line;
                        invokes[slot] = Some(op);
                    }
                }
            }
        }
    }
    for op in invokes.into_iter().flatten() {
        if op.is_info() && op.f == Func::Get {
            out.unknown_reads += 1;
        } else {
            out.ops.push(op);
        }
    }
    Ok(out)
}

fn invocation(process: u64, pos: u32, e: &Event) -> Operation {
    Operation {
        process,
        key: e.key.clone(),
        f: e.f.clone(),
        input: if e.f == Func::Get {
            Value::Null
        } else {
            e.value.clone()
        },
        output: None,
        call: pos,
        ret: INFINITY,
        call_line: e.line,
        ret_line: 0,
        call_time: e.time,
        ret_time: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(p: u64, kind: EventType, f: Func, v: Value) -> Event {
        Event::client(p, kind, f, None, v)
    }

    #[test]
    fn pairs_ok_info_fail_and_open_invocations() {
        let h = History::from_events(vec![
            ev(0, EventType::Invoke, Func::Put, 1.into()),
            ev(1, EventType::Invoke, Func::Get, Value::Null),
            ev(2, EventType::Invoke, Func::Put, 2.into()),
            ev(3, EventType::Invoke, Func::Get, Value::Null),
            ev(0, EventType::Ok, Func::Put, 1.into()),
            ev(1, EventType::Ok, Func::Get, 1.into()),
            ev(2, EventType::Fail, Func::Put, 2.into()),
            ev(3, EventType::Info, Func::Get, Value::Null),
            ev(4, EventType::Invoke, Func::Put, 3.into()),
        ]);
        let p = pair(&h).unwrap();
        assert_eq!(p.failed, 1);
        assert_eq!(p.unknown_reads, 1);
        assert_eq!(p.ops.len(), 3);
        assert_eq!((p.ops[0].call, p.ops[0].ret), (0, 4));
        assert_eq!(p.ops[1].output, Some(1.into()));
        assert!(p.ops[2].is_info());
        assert_eq!(p.ops[2].input, 3.into());
    }

    #[test]
    fn rejects_broken_pairing() {
        let h = History::from_events(vec![ev(0, EventType::Ok, Func::Put, 1.into())]);
        assert!(
            pair(&h)
                .unwrap_err()
                .to_string()
                .contains("no open invocation")
        );
        let h = History::from_events(vec![
            ev(0, EventType::Invoke, Func::Put, 1.into()),
            ev(0, EventType::Invoke, Func::Put, 1.into()),
        ]);
        assert!(pair(&h).unwrap_err().to_string().contains("still open"));
        let h = History::from_events(vec![
            ev(0, EventType::Invoke, Func::Put, 1.into()),
            ev(0, EventType::Ok, Func::Get, 1.into()),
        ]);
        assert!(pair(&h).unwrap_err().to_string().contains("invoked `put`"));
    }
}

//! Random linearizable histories for benchmarks and tests: `procs` client
//! processes run get / put / cas against real per-key registers. Each
//! operation is invoked, takes effect atomically at a random later moment
//! (its linearization point), and completes later still, so windows overlap.
//! Some operations end `info` (before or after taking effect); a cas whose
//! comparison fails ends `fail` (it changed nothing).

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::history::{Event, EventType, Func, History, Process, Value};

/// The shape of a generated history.
#[derive(Debug, Clone)]
pub struct Shape {
    pub ops: usize,
    pub keys: usize,
    pub procs: usize,
    /// Fraction of operations whose outcome is unknown.
    pub info_rate: f64,
    /// Distinct values written (small values make the search work harder).
    pub values: i64,
    pub seed: u64,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            ops: 1000,
            keys: 10,
            procs: 8,
            info_rate: 0.01,
            values: 5,
            seed: 0,
        }
    }
}

#[derive(Clone)]
struct Pending {
    key: usize,
    f: Func,
    arg: Value,
    result: Option<Value>,
    applied: bool,
    cas_ok: bool,
}

/// Generates a linearizable cas-register history of the given shape.
pub fn cas_register_history(shape: &Shape) -> History {
    let mut rng = ChaCha8Rng::seed_from_u64(shape.seed);
    let keys: Vec<Arc<str>> = (0..shape.keys.max(1))
        .map(|k| Arc::from(format!("k{k}")))
        .collect();
    let mut registers: Vec<Value> = vec![Value::Null; keys.len()];
    let procs = shape.procs.max(1);
    let mut ids: Vec<u64> = (0..procs as u64).collect();
    let mut pending: Vec<Option<Pending>> = vec![None; procs];
    let mut events = Vec::with_capacity(shape.ops * 2 + procs);
    let mut invoked = 0;
    let mut open = 0;
    let push = |events: &mut Vec<Event>, p: u64, kind, f: Func, key: &Arc<str>, value| {
        let n = events.len() as u64;
        events.push(Event {
            index: n,
            time: Some(n * 1000),
            process: Process::Client(p),
            kind,
            f,
            key: Some(key.clone()),
            value,
            node: None,
            error: None,
            line: 0,
        });
    };
    while invoked < shape.ops || open > 0 {
        let slot = rng.random_range(0..procs);
        match pending[slot].take() {
            None => {
                if invoked >= shape.ops {
                    continue;
                }
                let key = rng.random_range(0..keys.len());
                let roll = rng.random_range(0..10);
                let (f, arg) = match roll {
                    0..=4 => (Func::Get, Value::Null),
                    5..=7 => (Func::Put, Value::Int(rng.random_range(0..shape.values))),
                    _ => {
                        let from = if rng.random_bool(0.2) {
                            Value::Null
                        } else {
                            Value::Int(rng.random_range(0..shape.values))
                        };
                        (
                            Func::Cas,
                            Value::List(
                                vec![from, Value::Int(rng.random_range(0..shape.values))].into(),
                            ),
                        )
                    }
                };
                push(
                    &mut events,
                    ids[slot],
                    EventType::Invoke,
                    f.clone(),
                    &keys[key],
                    arg.clone(),
                );
                pending[slot] = Some(Pending {
                    key,
                    f,
                    arg,
                    result: None,
                    applied: false,
                    cas_ok: false,
                });
                invoked += 1;
                open += 1;
            }
            Some(mut op) => {
                let info = rng.random_bool(shape.info_rate.clamp(0.0, 1.0));
                let skip = info && rng.random_bool(0.5);
                if !op.applied && !skip {
                    // The linearization point.
                    let reg = &mut registers[op.key];
                    match op.f {
                        Func::Get => op.result = Some(reg.clone()),
                        Func::Put => *reg = op.arg.clone(),
                        _ => {
                            if let Some((from, to)) = op.arg.as_pair() {
                                op.cas_ok = from == reg;
                                if op.cas_ok {
                                    *reg = to.clone();
                                }
                            }
                        }
                    }
                    op.applied = true;
                    pending[slot] = Some(op);
                    continue;
                }
                let key = &keys[op.key];
                open -= 1;
                if info {
                    push(&mut events, ids[slot], EventType::Info, op.f, key, op.arg);
                    ids[slot] += procs as u64;
                } else if op.f == Func::Get {
                    push(
                        &mut events,
                        ids[slot],
                        EventType::Ok,
                        op.f,
                        key,
                        op.result.unwrap_or_default(),
                    );
                } else if op.f == Func::Cas && !op.cas_ok {
                    push(&mut events, ids[slot], EventType::Fail, op.f, key, op.arg);
                } else {
                    push(&mut events, ids[slot], EventType::Ok, op.f, key, op.arg);
                }
            }
        }
    }
    History {
        events,
        source: None,
    }
}

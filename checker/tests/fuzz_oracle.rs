//! Differential fuzzing: small random histories (2-4 processes, up to 7
//! operations, 1-2 keys, ok / info / fail mixed) are checked both by the
//! checker (partitioned and joint) and by an independent brute-force oracle
//! that tries every order of the operations respecting real time (and every
//! subset of the unknown-outcome ones). They must never disagree. A second
//! generator makes append-heavy `kv` histories with more concurrency, whose
//! gets read some order of the values appended so far (so gets often fit),
//! to exercise the lazy (unordered) concurrent appends of the `kv` model.

mod support;

use std::collections::HashMap;

use faultline_checker::{
    CheckOptions, EventType, Func, History, ModelKind, Process, Value, Verdict, check,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use support::{cas, ev, history};

/// One operation as the oracle sees it.
#[derive(Debug, Clone)]
struct OracleOp {
    key: Option<String>,
    f: Func,
    input: Value,
    output: Option<Value>,
    call: usize,
    ret: usize,
    optional: bool,
}

/// The oracle's own pairing: fail dropped, info optional (never returns).
fn oracle_ops(h: &History) -> Vec<OracleOp> {
    let mut open: HashMap<u64, OracleOp> = HashMap::new();
    let mut out = Vec::new();
    for (i, e) in h.events.iter().enumerate() {
        let Process::Client(p) = e.process else {
            continue;
        };
        match e.kind {
            EventType::Invoke => {
                open.insert(
                    p,
                    OracleOp {
                        key: e.key.as_deref().map(str::to_string),
                        f: e.f.clone(),
                        input: e.value.clone(),
                        output: None,
                        call: i,
                        ret: usize::MAX,
                        optional: true,
                    },
                );
            }
            EventType::Ok => {
                let mut op = open.remove(&p).unwrap();
                op.ret = i;
                op.optional = false;
                if op.f == Func::Get {
                    op.output = Some(e.value.clone());
                }
                out.push(op);
            }
            EventType::Fail => {
                open.remove(&p);
            }
            EventType::Info => out.push(open.remove(&p).unwrap()),
        }
    }
    out.extend(open.into_values());
    out
}

/// Applies `op` to the per-key map; false if the observation is impossible.
fn apply(model: ModelKind, state: &mut HashMap<Option<String>, Value>, op: &OracleOp) -> bool {
    let cur = state.get(&op.key).cloned().unwrap_or(match model {
        ModelKind::Kv => Value::Str("".into()),
        _ => Value::Null,
    });
    match op.f {
        Func::Get => match &op.output {
            None => true,
            Some(v) => {
                let v = if model == ModelKind::Kv && v.is_null() {
                    Value::Str("".into())
                } else {
                    v.clone()
                };
                v == cur
            }
        },
        Func::Put => {
            state.insert(op.key.clone(), op.input.clone());
            true
        }
        Func::Append => {
            let joined = format!(
                "{}{}",
                cur.as_str().unwrap_or(""),
                op.input.as_str().unwrap_or("")
            );
            state.insert(op.key.clone(), Value::Str(joined.into()));
            true
        }
        Func::Cas => {
            let (from, to) = op.input.as_pair().unwrap();
            if *from != cur {
                return false;
            }
            state.insert(op.key.clone(), to.clone());
            true
        }
        Func::Other(_) => false,
    }
}

/// Depth-first over all orders: `used` ops are placed; an op may go next if
/// every op that returned before its call is placed.
fn oracle(model: ModelKind, ops: &[OracleOp]) -> bool {
    fn go(
        model: ModelKind,
        ops: &[OracleOp],
        used: &mut Vec<bool>,
        state: &HashMap<Option<String>, Value>,
    ) -> bool {
        if ops.iter().zip(used.iter()).all(|(o, &u)| u || o.optional) {
            return true;
        }
        for i in 0..ops.len() {
            if used[i] {
                continue;
            }
            let ready = (0..ops.len()).all(|j| used[j] || j == i || ops[j].ret > ops[i].call);
            if !ready {
                continue;
            }
            let mut next = state.clone();
            if apply(model, &mut next, &ops[i]) {
                used[i] = true;
                if go(model, ops, used, &next) {
                    return true;
                }
                used[i] = false;
            }
        }
        false
    }
    go(model, ops, &mut vec![false; ops.len()], &HashMap::new())
}

fn random_value(rng: &mut ChaCha8Rng, model: ModelKind) -> Value {
    match model {
        ModelKind::Kv => Value::Str(["", "a", "b", "ab"][rng.random_range(0..4)].into()),
        _ => {
            if rng.random_bool(0.2) {
                Value::Null
            } else {
                Value::Int(rng.random_range(0..3))
            }
        }
    }
}

fn random_history(rng: &mut ChaCha8Rng, model: ModelKind) -> History {
    let procs = rng.random_range(2..=4u64);
    let total = rng.random_range(1..=7);
    let keys = rng.random_range(1..=2);
    let mut ids: Vec<u64> = (0..procs).collect();
    let mut pending: Vec<Option<(Func, Option<String>, Value)>> = vec![None; procs as usize];
    let mut invoked = 0;
    let mut events = Vec::new();
    while invoked < total || pending.iter().any(Option::is_some) {
        let p = rng.random_range(0..procs as usize);
        match pending[p].take() {
            None if invoked < total => {
                let key = (keys > 1).then(|| format!("k{}", rng.random_range(0..keys)));
                let (f, v) = match (model, rng.random_range(0..3)) {
                    (_, 0) => (Func::Get, Value::Null),
                    (ModelKind::Kv, 1) => (Func::Append, random_value(rng, model)),
                    (ModelKind::CasRegister, 2) => (
                        Func::Cas,
                        cas(random_value(rng, model), random_value(rng, model)),
                    ),
                    _ => (Func::Put, random_value(rng, model)),
                };
                events.push(ev(
                    ids[p],
                    EventType::Invoke,
                    f.clone(),
                    key.as_deref(),
                    v.clone(),
                ));
                pending[p] = Some((f, key, v));
                invoked += 1;
            }
            None => {}
            Some((f, key, v)) => {
                let roll = rng.random_range(0..10);
                if roll == 0 && invoked < total {
                    // Leave it open: it may never complete.
                    ids[p] += procs;
                    continue;
                }
                let kind = match roll {
                    1 => EventType::Info,
                    2 => EventType::Fail,
                    _ => EventType::Ok,
                };
                let value = if f == Func::Get && kind == EventType::Ok {
                    random_value(rng, model)
                } else {
                    v
                };
                events.push(ev(ids[p], kind, f, key.as_deref(), value));
                if kind == EventType::Info {
                    ids[p] += procs;
                }
            }
        }
    }
    history(events)
}

#[test]
fn checker_agrees_with_brute_force_on_thousands_of_small_histories() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed);
    let mut counts = HashMap::new();
    for case in 0..6000 {
        let model = [ModelKind::Register, ModelKind::CasRegister, ModelKind::Kv][case % 3];
        let h = random_history(&mut rng, model);
        let want = oracle(model, &oracle_ops(&h));
        for no_partition in [false, true] {
            let opts = CheckOptions {
                no_partition,
                all: true,
                ..Default::default()
            };
            let got = check(&h, model, &opts).unwrap();
            assert_ne!(got.verdict, Verdict::Unknown);
            assert_eq!(
                got.verdict == Verdict::Valid,
                want,
                "case {case}, model {model}, no_partition {no_partition}: checker {:?}, oracle valid={want}\n{:#?}",
                got.verdict,
                h.events
            );
        }
        *counts.entry(want).or_insert(0) += 1;
    }
    // The generator must produce both kinds in bulk, or the test proves little.
    assert!(counts[&true] > 1000 && counts[&false] > 1000, "{counts:?}");
}

/// Append-heavy kv histories: 3-5 processes, up to 8 ops, 1-2 keys; a get
/// returns a random order of a random subset of the values appended so far
/// (on any key), so valid and invalid histories both come in bulk and the
/// checker has to untangle orders of concurrent appends.
fn append_heavy_history(rng: &mut ChaCha8Rng) -> History {
    const TOKENS: [&str; 5] = ["a", "b", "ab", "ba", ""];
    let procs = rng.random_range(3..=5u64);
    let total = rng.random_range(2..=8);
    let keys = rng.random_range(1..=2);
    let mut ids: Vec<u64> = (0..procs).collect();
    let mut pending: Vec<Option<(Func, Option<String>, Value)>> = vec![None; procs as usize];
    let mut appended: Vec<String> = Vec::new();
    let mut invoked = 0;
    let mut events = Vec::new();
    while invoked < total || pending.iter().any(Option::is_some) {
        let p = rng.random_range(0..procs as usize);
        match pending[p].take() {
            None if invoked < total => {
                let key = (keys > 1).then(|| format!("k{}", rng.random_range(0..keys)));
                let (f, v) = match rng.random_range(0..20) {
                    0..=5 => (Func::Get, Value::Null),
                    6 => (Func::Put, Value::Str(TOKENS[rng.random_range(0..4)].into())),
                    _ => {
                        let t = TOKENS[rng.random_range(0..TOKENS.len())];
                        appended.push(t.to_string());
                        (Func::Append, Value::Str(t.into()))
                    }
                };
                events.push(ev(
                    ids[p],
                    EventType::Invoke,
                    f.clone(),
                    key.as_deref(),
                    v.clone(),
                ));
                pending[p] = Some((f, key, v));
                invoked += 1;
            }
            None => {}
            Some((f, key, v)) => {
                let kind = match rng.random_range(0..16) {
                    0 => EventType::Info,
                    1 => EventType::Fail,
                    _ => EventType::Ok,
                };
                let value = if f == Func::Get && kind == EventType::Ok {
                    let mut pool = appended.clone();
                    let mut read = String::new();
                    for _ in 0..rng.random_range(0..=pool.len()) {
                        read += &pool.swap_remove(rng.random_range(0..pool.len()));
                    }
                    Value::Str(read.into())
                } else {
                    v
                };
                events.push(ev(ids[p], kind, f, key.as_deref(), value));
                if kind == EventType::Info {
                    ids[p] += procs;
                }
            }
        }
    }
    history(events)
}

#[test]
fn kv_checker_agrees_with_brute_force_on_append_heavy_histories() {
    let mut rng = ChaCha8Rng::seed_from_u64(0xa99e4d);
    let mut counts = HashMap::new();
    for case in 0..3000 {
        let h = append_heavy_history(&mut rng);
        let want = oracle(ModelKind::Kv, &oracle_ops(&h));
        for no_partition in [false, true] {
            let opts = CheckOptions {
                no_partition,
                all: true,
                ..Default::default()
            };
            let got = check(&h, ModelKind::Kv, &opts).unwrap();
            assert_ne!(got.verdict, Verdict::Unknown);
            assert_eq!(
                got.verdict == Verdict::Valid,
                want,
                "case {case}, no_partition {no_partition}: checker {:?}, oracle valid={want}\n{:#?}",
                got.verdict,
                h.events
            );
        }
        *counts.entry(want).or_insert(0) += 1;
    }
    assert!(counts[&true] > 500 && counts[&false] > 500, "{counts:?}");
}

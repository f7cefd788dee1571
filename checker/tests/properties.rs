//! Property tests: a random sequential execution on real registers, whose
//! operations are stretched into overlapping windows around their
//! linearization points (with `info` and `fail` outcomes mixed in), is
//! always valid; the same history with one read changed to a value never
//! written is always invalid.

mod support;

use faultline_checker::{
    CheckOptions, Event, EventType, Func, History, ModelKind, Value, Verdict, check,
};
use proptest::prelude::*;
use support::{cas, ev};

#[derive(Debug, Clone)]
struct Spec {
    key: usize,
    kind: u8,
    value: i64,
    before: u64,
    after: u64,
    outcome: u8,
}

fn spec() -> impl Strategy<Value = Spec> {
    (0..3usize, 0..3u8, 0..4i64, 0..40u64, 0..40u64, 0..12u8).prop_map(
        |(key, kind, value, before, after, outcome)| Spec {
            key,
            kind,
            value,
            before,
            after,
            outcome,
        },
    )
}

/// Builds the history; returns it and the event index of each ok read.
fn build(specs: &[Spec]) -> (History, Vec<usize>) {
    let mut registers = [Value::Null, Value::Null, Value::Null];
    // (call time, ret time, f, key, invoke value, completion kind, completion value)
    let mut ops = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        let lin = 100 * i as u64 + 50;
        let reg = &mut registers[s.key];
        let applied = s.outcome > 1;
        let (f, arg, mut kind, mut out) = match s.kind {
            0 => (Func::Get, Value::Null, EventType::Ok, reg.clone()),
            1 => (
                Func::Put,
                Value::Int(s.value),
                EventType::Ok,
                Value::Int(s.value),
            ),
            _ => {
                // Half the time compare against the current value, so cas succeeds.
                let from = if s.value % 2 == 0 {
                    reg.clone()
                } else {
                    Value::Int(s.value)
                };
                let arg = cas(from, Value::Int(s.value + 10));
                (Func::Cas, arg.clone(), EventType::Ok, arg)
            }
        };
        if applied {
            match f {
                Func::Put => *reg = arg.clone(),
                Func::Cas => {
                    let (from, to) = arg.as_pair().unwrap();
                    if from == reg {
                        *reg = to.clone();
                    } else {
                        kind = EventType::Fail;
                    }
                }
                _ => {}
            }
            if s.outcome == 2 {
                kind = EventType::Info;
            }
        } else {
            // Never took effect: a failed write, or one whose outcome is unknown.
            kind = if s.outcome == 0 && f != Func::Get {
                EventType::Fail
            } else {
                EventType::Info
            };
            if f == Func::Get {
                out = Value::Null;
            }
        }
        let call = (lin - s.before.min(lin)) * 4;
        let ret = (lin + s.after) * 4 + 1;
        ops.push((call, ret, f, format!("k{}", s.key), arg, kind, out));
    }
    // Give each operation a process that is free at its call.
    let mut order: Vec<usize> = (0..ops.len()).collect();
    order.sort_by_key(|&i| ops[i].0);
    let mut busy_until: Vec<u64> = Vec::new();
    let mut timed: Vec<(u64, Event, bool)> = Vec::new();
    for i in order {
        let (call, ret, f, key, arg, kind, out) = &ops[i];
        let p = match busy_until.iter().position(|&b| b < *call) {
            Some(p) => p,
            None => {
                busy_until.push(0);
                busy_until.len() - 1
            }
        };
        // After an info the process never returns: its slot stays busy.
        busy_until[p] = if *kind == EventType::Info {
            u64::MAX
        } else {
            *ret
        };
        timed.push((
            *call,
            ev(
                p as u64,
                EventType::Invoke,
                f.clone(),
                Some(key),
                arg.clone(),
            ),
            false,
        ));
        let ok_read = *f == Func::Get && *kind == EventType::Ok;
        timed.push((
            *ret,
            ev(p as u64, *kind, f.clone(), Some(key), out.clone()),
            ok_read,
        ));
    }
    timed.sort_by_key(|(t, _, _)| *t);
    let reads = timed
        .iter()
        .enumerate()
        .filter(|(_, (_, _, r))| *r)
        .map(|(i, _)| i)
        .collect();
    (
        History::from_events(timed.into_iter().map(|(_, e, _)| e).collect()),
        reads,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn stretched_sequential_executions_are_valid(specs in prop::collection::vec(spec(), 1..40)) {
        let (h, _) = build(&specs);
        for no_partition in [false, true] {
            let opts = CheckOptions { no_partition, ..Default::default() };
            let r = check(&h, ModelKind::CasRegister, &opts).unwrap();
            prop_assert_eq!(r.verdict, Verdict::Valid, "no_partition {}: {:?}", no_partition, r.counterexample);
        }
    }

    #[test]
    fn a_read_of_a_value_never_written_is_invalid(specs in prop::collection::vec(spec(), 1..40), pick in any::<prop::sample::Index>()) {
        let (mut h, reads) = build(&specs);
        prop_assume!(!reads.is_empty());
        let at = reads[pick.index(reads.len())];
        h.events[at].value = Value::Int(99);
        let r = check(&h, ModelKind::CasRegister, &CheckOptions::default()).unwrap();
        prop_assert_eq!(r.verdict, Verdict::Invalid);
        let cx = r.counterexample.unwrap();
        prop_assert!(cx.key.is_some());
        prop_assert!(!cx.message.is_empty());
    }
}

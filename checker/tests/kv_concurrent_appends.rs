//! Regression for the `kv` blow-up on append workloads: many concurrent
//! appends between two gets make every order of the appends a different
//! string, which a memo of (linearized set, string) explores one by one
//! (k! of them). The `kv` model keeps concurrent appends unordered until a
//! get reveals their order. These histories have that shape: rounds of 12
//! appends from 12 processes, all concurrent, then one get that reveals
//! their order (a shuffled one, not the order of the events).

mod support;

use faultline_checker::{CheckOptions, EventType, Func, History, ModelKind, Value, Verdict, check};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use support::{ev, history};

const WRITERS: u64 = 12;
const READER: u64 = WRITERS;

fn s(v: &str) -> Value {
    Value::Str(v.into())
}

/// Appends "r.p," for every writer p in each round, all concurrent; a get
/// after each round reads the string with that round's tokens in a shuffled
/// order. `reveal[r]` is the order the round-r get reports; `reads[r]` is
/// the whole string it returns (normally the previous read plus this round).
struct Rounds {
    events: Vec<faultline_checker::Event>,
    reads: Vec<String>,
}

fn rounds(key: Option<&str>, n: usize, rng: &mut ChaCha8Rng) -> Rounds {
    let mut events = Vec::new();
    let mut reads = Vec::new();
    let mut text = String::new();
    for r in 0..n {
        let token = |p: u64| format!("{r}.{p},");
        for p in 0..WRITERS {
            events.push(ev(p, EventType::Invoke, Func::Append, key, s(&token(p))));
        }
        let mut done: Vec<u64> = (0..WRITERS).collect();
        done.shuffle(rng);
        for &p in &done {
            events.push(ev(p, EventType::Ok, Func::Append, key, s(&token(p))));
        }
        let mut order: Vec<u64> = (0..WRITERS).collect();
        order.shuffle(rng);
        for p in order {
            text += &token(p);
        }
        events.push(ev(READER, EventType::Invoke, Func::Get, key, Value::Null));
        events.push(ev(READER, EventType::Ok, Func::Get, key, s(&text)));
        reads.push(text.clone());
    }
    Rounds { events, reads }
}

fn verdict(h: &History, no_partition: bool) -> Verdict {
    let opts = CheckOptions {
        no_partition,
        all: true,
        ..Default::default()
    };
    check(h, ModelKind::Kv, &opts).unwrap().verdict
}

/// Replaces the value returned by the `nth` get (0-based).
fn set_read(events: &mut [faultline_checker::Event], nth: usize, value: &str) {
    let e = events
        .iter_mut()
        .filter(|e| e.kind == EventType::Ok && e.f == Func::Get)
        .nth(nth)
        .unwrap();
    e.value = s(value);
}

#[test]
fn rounds_of_twelve_concurrent_appends_then_a_get_are_valid() {
    let mut rng = ChaCha8Rng::seed_from_u64(331);
    let h = history(rounds(None, 8, &mut rng).events);
    assert_eq!(verdict(&h, false), Verdict::Valid);
    assert_eq!(verdict(&h, true), Verdict::Valid);
}

#[test]
fn a_later_get_contradicting_a_revealed_order_is_invalid() {
    let mut rng = ChaCha8Rng::seed_from_u64(332);
    let Rounds { mut events, reads } = rounds(None, 6, &mut rng);
    // The round-4 get swaps two round-1 tokens that the round-1 get revealed
    // in the other order (each string alone fits some order of the appends).
    let first = &reads[1][reads[0].len()..];
    let tokens: Vec<&str> = first.split_inclusive(',').collect();
    let mut swapped: Vec<&str> = tokens.clone();
    swapped.swap(2, 7);
    let bad = format!(
        "{}{}{}",
        reads[0],
        swapped.concat(),
        &reads[4][reads[1].len()..]
    );
    assert_eq!(bad.len(), reads[4].len());
    set_read(&mut events, 4, &bad);
    let h = history(events);
    assert_eq!(verdict(&h, false), Verdict::Invalid);
    assert_eq!(verdict(&h, true), Verdict::Invalid);
}

#[test]
fn a_get_missing_a_completed_append_or_reading_a_foreign_order_is_invalid() {
    let mut rng = ChaCha8Rng::seed_from_u64(333);
    let Rounds { events, reads } = rounds(None, 4, &mut rng);
    // Round 2's get without one of round 2's tokens (all returned before it).
    let mut missing = events.clone();
    let token = "2.5,";
    set_read(&mut missing, 2, &reads[2].replacen(token, "", 1));
    assert_eq!(verdict(&history(missing), false), Verdict::Invalid);
    // Round 2's get with a round-3 token (appended after the get returned).
    let mut early = events.clone();
    set_read(&mut early, 2, &format!("{}3.0,", reads[2]));
    assert_eq!(verdict(&history(early), false), Verdict::Invalid);
    // The unmodified history is valid, so the two above fail for their edit.
    assert_eq!(verdict(&history(events), false), Verdict::Valid);
}

#[test]
fn staggered_appends_keep_real_time_order_between_bags() {
    // a [0, 3] and b [1, 4] overlap; c is called after a returned, so c is
    // after a, but c overlaps b: "b,a,c," and "a,c,b," are possible,
    // "c,a,b," is not.
    let key = Some("k");
    let build = |read: &str| {
        let mut events = vec![
            ev(0, EventType::Invoke, Func::Append, key, s("a,")),
            ev(1, EventType::Invoke, Func::Append, key, s("b,")),
            ev(0, EventType::Ok, Func::Append, key, s("a,")),
            ev(2, EventType::Invoke, Func::Append, key, s("c,")),
            ev(1, EventType::Ok, Func::Append, key, s("b,")),
            ev(2, EventType::Ok, Func::Append, key, s("c,")),
        ];
        events.push(ev(3, EventType::Invoke, Func::Get, key, Value::Null));
        events.push(ev(3, EventType::Ok, Func::Get, key, s(read)));
        history(events)
    };
    for (read, want) in [
        ("a,b,c,", Verdict::Valid),
        ("b,a,c,", Verdict::Valid),
        ("a,c,b,", Verdict::Valid),
        ("c,a,b,", Verdict::Invalid),
        ("b,c,a,", Verdict::Invalid),
        ("c,b,a,", Verdict::Invalid),
    ] {
        for no_partition in [false, true] {
            assert_eq!(verdict(&build(read), no_partition), want, "{read}");
        }
    }
}

#[test]
fn unknown_appends_join_every_bag_and_may_never_happen() {
    // x is info (may take effect any time after its call, or never).
    let key = Some("k");
    let build = |reads: [&str; 2]| {
        let mut events = vec![
            ev(0, EventType::Invoke, Func::Append, key, s("x,")),
            ev(1, EventType::Invoke, Func::Append, key, s("a,")),
            ev(1, EventType::Ok, Func::Append, key, s("a,")),
            ev(0, EventType::Info, Func::Append, key, s("x,")),
            ev(1, EventType::Invoke, Func::Append, key, s("b,")),
            ev(1, EventType::Ok, Func::Append, key, s("b,")),
        ];
        for r in reads {
            events.push(ev(2, EventType::Invoke, Func::Get, key, Value::Null));
            events.push(ev(2, EventType::Ok, Func::Get, key, s(r)));
        }
        history(events)
    };
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for (reads, want) in [
        (["a,b,", "a,b,"], Verdict::Valid),
        (["x,a,b,", "x,a,b,"], Verdict::Valid),
        (["a,x,b,", "a,x,b,"], Verdict::Valid),
        (["a,b,", "a,b,x,"], Verdict::Valid),
        (["a,b,x,", "a,b,"], Verdict::Invalid),
        (["b,a,", "b,a,"], Verdict::Invalid),
        (["a,b,x,", "a,b,x,x,"], Verdict::Invalid),
    ] {
        let no_partition = rng.random_bool(0.5);
        assert_eq!(verdict(&build(reads), no_partition), want, "{reads:?}");
    }
}

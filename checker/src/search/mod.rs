//! The linearizability search for one partition: Wing & Gong's algorithm with
//! Lowe's just-in-time linearization and a memo of visited (linearized set,
//! state) nodes, as in Porcupine, plus:
//! - reads first: an enabled read-only operation consistent with the current
//!   state is linearized at once without branching (moving it earlier is
//!   always safe: it changes nothing and nothing pending returned before it);
//! - unknown outcomes (`info`) are optional: they have no return event, never
//!   block the search, and may stay unlinearized (they never took effect);
//! - O(1) incremental (Zobrist) hashing of the linearized set.

mod events;
mod memo;

use crate::budget::{Budget, Exhausted};
use crate::models::Model;
use events::{Events, HEAD, NIL};
use memo::{Memo, entry_hash, zobrist};

/// An operation as the search sees it.
#[derive(Debug, Clone, Copy)]
pub struct SearchOp<O> {
    pub call: u32,
    /// `None`: unknown outcome (optional, never returns).
    pub ret: Option<u32>,
    pub op: O,
}

/// The deepest point the search reached (for counterexamples).
#[derive(Debug, Clone, Default)]
pub struct Trace {
    /// Operations linearized, each with the model state after it.
    pub path: Vec<(u32, u32)>,
    /// The earliest-returning operation not linearized: it cannot be placed.
    pub blocked: u32,
    /// The state in which it could not be placed.
    pub state: u32,
    /// Operations concurrent with it (enabled candidates at that point).
    pub concurrent: Vec<u32>,
}

#[derive(Debug, Clone)]
pub enum Outcome {
    Valid,
    Invalid(Option<Trace>),
    Exhausted(Exhausted),
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    pub steps: u64,
    pub memo_entries: usize,
    pub memo_bytes: usize,
}

struct Frame {
    op: u32,
    state_before: u32,
    forced: bool,
}

/// Searches for a linearization of `ops` against `model`. With `track`, an
/// invalid outcome carries the longest partial linearization found.
pub fn search<M: Model>(model: &mut M, ops: &[SearchOp<M::Op>], budget: &Budget<'_>, track: bool) -> (Outcome, Stats) {
    let n = ops.len();
    let mut events = Events::new(ops.iter().map(|o| (o.call, o.ret)));
    let words = n.div_ceil(64).max(1);
    let mut bits = vec![0u64; words];
    let mut bits_hash = 0u64;
    let mut memo = Memo::new(words);
    let mut stack: Vec<Frame> = Vec::new();
    let mut state = model.init();
    let mut remaining = ops.iter().filter(|o| o.ret.is_some()).count();
    let mut stats = Stats::default();
    let mut best: Option<Trace> = None;
    let mut node = HEAD;
    // `fresh`: we just arrived at a new search node and should try reads first.
    let mut fresh = true;

    let outcome = 'search: loop {
        if remaining == 0 {
            break Outcome::Valid;
        }
        stats.steps += 1;
        if stats.steps & 0xfff == 0 {
            if let Some(why) = budget.exhausted(memo.bytes(), memo.len()) {
                break Outcome::Exhausted(why);
            }
        }
        if fresh {
            fresh = false;
            if track && best.as_ref().is_none_or(|b| stack.len() > b.path.len()) {
                best = Some(trace(&events, &stack, state));
            }
            // Reads first: a consistent enabled read is a forced move.
            let mut c = events.next(HEAD);
            let mut dead = false;
            let mut forced = None;
            while c != NIL && events.is_call(c) {
                let op = events.op(c);
                let o = ops[op as usize].op;
                if M::read_only(o) && model.step(state, o).is_some() {
                    forced = Some(op);
                    break;
                }
                c = events.next(c);
            }
            if let Some(op) = forced {
                let h = bits_hash ^ zobrist(op);
                set(&mut bits, op);
                if memo.insert(entry_hash(h, state), &bits, state) {
                    stack.push(Frame { op, state_before: state, forced: true });
                    bits_hash = h;
                    events.lift(op);
                    if ops[op as usize].ret.is_some() {
                        remaining -= 1;
                    }
                    fresh = true;
                    continue;
                }
                clear(&mut bits, op);
                dead = true;
            }
            if dead {
                // The successor was explored and failed, so this node fails too.
                match backtrack(&mut events, &mut stack, &mut bits, &mut bits_hash, &mut state, &mut remaining, ops) {
                    Some(next) => node = next,
                    None => break 'search Outcome::Invalid(best),
                }
                continue;
            }
            node = events.next(HEAD);
        }
        if node != NIL && events.is_call(node) {
            let op = events.op(node);
            if let Some(next_state) = model.step(state, ops[op as usize].op) {
                let h = bits_hash ^ zobrist(op);
                set(&mut bits, op);
                if memo.insert(entry_hash(h, next_state), &bits, next_state) {
                    stack.push(Frame { op, state_before: state, forced: false });
                    bits_hash = h;
                    state = next_state;
                    events.lift(op);
                    if ops[op as usize].ret.is_some() {
                        remaining -= 1;
                    }
                    fresh = true;
                    continue;
                }
                clear(&mut bits, op);
            }
            node = events.next(node);
        } else {
            match backtrack(&mut events, &mut stack, &mut bits, &mut bits_hash, &mut state, &mut remaining, ops) {
                Some(next) => node = next,
                None => break 'search Outcome::Invalid(best),
            }
        }
    };
    stats.memo_entries = memo.len();
    stats.memo_bytes = memo.bytes();
    (outcome, stats)
}

/// Undoes frames until one with alternatives left; returns the node to try next.
fn backtrack<O>(
    events: &mut Events,
    stack: &mut Vec<Frame>,
    bits: &mut [u64],
    bits_hash: &mut u64,
    state: &mut u32,
    remaining: &mut usize,
    ops: &[SearchOp<O>],
) -> Option<u32> {
    while let Some(f) = stack.pop() {
        events.unlift(f.op);
        clear(bits, f.op);
        *bits_hash ^= zobrist(f.op);
        *state = f.state_before;
        if ops[f.op as usize].ret.is_some() {
            *remaining += 1;
        }
        if !f.forced {
            return Some(events.next(events.call_node(f.op)));
        }
    }
    None
}

fn trace(events: &Events, stack: &[Frame], state: u32) -> Trace {
    let mut path: Vec<(u32, u32)> = Vec::with_capacity(stack.len());
    for (i, f) in stack.iter().enumerate() {
        let after = stack.get(i + 1).map_or(state, |g| g.state_before);
        path.push((f.op, after));
    }
    let mut concurrent = Vec::new();
    let mut c = events.next(HEAD);
    while c != NIL && events.is_call(c) {
        concurrent.push(events.op(c));
        c = events.next(c);
    }
    let blocked = if c == NIL { NIL } else { events.op(c) };
    Trace { path, blocked, state, concurrent }
}

#[inline]
fn set(bits: &mut [u64], op: u32) {
    bits[(op / 64) as usize] |= 1 << (op % 64);
}

#[inline]
fn clear(bits: &mut [u64], op: u32) {
    bits[(op / 64) as usize] &= !(1 << (op % 64));
}

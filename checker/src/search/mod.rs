//! The linearizability search for one partition: Wing & Gong's algorithm with
//! Lowe's just-in-time linearization and a memo of visited (linearized set,
//! state) nodes, as in Porcupine, plus:
//! - reads first: an enabled read-only operation that leaves the current
//!   state unchanged is linearized at once without branching (moving it
//!   earlier is always safe: it changes nothing and nothing pending returned
//!   before it). A read that is consistent but changes the state (a `kv` get
//!   fixing the order of a lazy state's concurrent appends) picks one of
//!   several strings, so it is an ordinary branch;
//! - unknown outcomes (`info`) are optional: they have no return event, never
//!   block the search, and may stay unlinearized (they never took effect);
//! - one key at a time (a partial-order reduction for multi-key states):
//!   operations on different keys commute, so if any linearization extends
//!   the current prefix, one extends it with an operation on the key of the
//!   earliest-returning pending operation; only those candidates are tried
//!   (the first operation on that key in a valid completion is enabled now
//!   and can move to the front);
//! - operations with a known outcome are tried before unknown ones, so a
//!   valid history is usually confirmed without guessing when (or whether)
//!   an unknown write took effect;
//! - O(1) incremental (Zobrist) hashing of the linearized set;
//! - resumable: `Search::run` works for a slice of steps, so a scheduler can
//!   interleave partitions and stop early at the first invalid one.

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
    /// The branching key and candidate pass of the node this frame left.
    key: u32,
    pass: u8,
    forced: bool,
}

/// A search in progress over one partition.
pub struct Search<M: Model> {
    model: M,
    ops: Vec<SearchOp<M::Op>>,
    events: Events,
    bits: Vec<u64>,
    bits_hash: u64,
    memo: Memo,
    stack: Vec<Frame>,
    state: u32,
    remaining: usize,
    node: u32,
    /// We just arrived at a new search node and should try reads first.
    fresh: bool,
    /// The key whose candidates this node branches on.
    key: u32,
    /// Candidate pass at this node: 0 = known outcomes, 1 = unknown outcomes.
    pass: u8,
    track: bool,
    best: Option<Trace>,
    steps: u64,
}

impl<M: Model> Search<M> {
    /// Prepares a search; with `track`, an invalid outcome carries the
    /// longest partial linearization found.
    pub fn new(mut model: M, ops: Vec<SearchOp<M::Op>>, track: bool) -> Self {
        let words = ops.len().div_ceil(64).max(1);
        let state = model.init();
        let events = Events::new(ops.iter().map(|o| (o.call, o.ret)));
        let remaining = ops.iter().filter(|o| o.ret.is_some()).count();
        Search {
            model,
            ops,
            events,
            bits: vec![0; words],
            bits_hash: 0,
            memo: Memo::new(words),
            stack: Vec::new(),
            state,
            remaining,
            node: HEAD,
            fresh: true,
            key: 0,
            pass: 0,
            track,
            best: None,
            steps: 0,
        }
    }

    /// The model and the operations (to build a counterexample).
    pub fn into_parts(self) -> (M, Vec<SearchOp<M::Op>>) {
        (self.model, self.ops)
    }

    pub fn stats(&self) -> Stats {
        Stats {
            steps: self.steps,
            memo_entries: self.memo.len(),
            memo_bytes: self.memo.bytes(),
        }
    }

    /// Runs up to about `slice` steps; `None` if the search is not finished.
    pub fn run(&mut self, budget: &Budget<'_>, slice: u64) -> Option<Outcome> {
        let until = self.steps.saturating_add(slice);
        loop {
            if self.remaining == 0 {
                return Some(Outcome::Valid);
            }
            self.steps += 1;
            if self.steps & 0xfff == 0 {
                if let Some(why) = budget.exhausted(self.memo.bytes(), self.memo.len()) {
                    return Some(Outcome::Exhausted(why));
                }
                if self.steps >= until {
                    return None;
                }
            }
            let advanced = if self.fresh {
                self.arrive()
            } else {
                self.try_next()
            };
            if !advanced && !self.backtrack() {
                return Some(Outcome::Invalid(self.best.take()));
            }
        }
    }

    /// At a new node: record the trace, then linearize a consistent enabled
    /// read if there is one. False if this node is known to fail.
    fn arrive(&mut self) -> bool {
        self.fresh = false;
        if self.track
            && self
                .best
                .as_ref()
                .is_none_or(|b| self.stack.len() > b.path.len())
        {
            self.best = Some(self.trace());
        }
        let mut c = self.events.next(HEAD);
        while c != NIL && self.events.is_call(c) {
            let op = self.events.op(c);
            let o = self.ops[op as usize].op;
            if M::read_only(o) && self.model.step(self.state, o) == Some(self.state) {
                // A forced move: if its successor was already explored (and
                // failed), this node fails too.
                return self.linearize(op, self.state, true);
            }
            c = self.events.next(c);
        }
        // `c` is the earliest return: branch on its key only.
        if c != NIL {
            self.key = M::key(self.ops[self.events.op(c) as usize].op);
        }
        self.node = self.events.next(HEAD);
        self.pass = 0;
        true
    }

    /// Tries the candidate at `self.node`; false when there is none left.
    #[inline]
    fn try_next(&mut self) -> bool {
        let node = self.node;
        if node == NIL || !self.events.is_call(node) {
            if self.pass == 0 {
                self.pass = 1;
                self.node = self.events.next(HEAD);
                return true;
            }
            return false;
        }
        let op = self.events.op(node);
        let o = self.ops[op as usize].op;
        let unknown = self.ops[op as usize].ret.is_none();
        if u8::from(unknown) == self.pass
            && M::key(o) == self.key
            && let Some(next_state) = self.model.step(self.state, o)
            && self.linearize(op, next_state, false)
        {
            return true;
        }
        self.node = self.events.next(node);
        true
    }

    /// Linearizes `op` reaching `next_state` unless that node was seen.
    #[inline]
    fn linearize(&mut self, op: u32, next_state: u32, forced: bool) -> bool {
        let h = self.bits_hash ^ zobrist(op);
        set(&mut self.bits, op);
        if !self
            .memo
            .insert(entry_hash(h, next_state), &self.bits, next_state)
        {
            clear(&mut self.bits, op);
            return false;
        }
        self.stack.push(Frame {
            op,
            state_before: self.state,
            key: self.key,
            pass: self.pass,
            forced,
        });
        self.bits_hash = h;
        self.state = next_state;
        self.events.lift(op);
        if self.ops[op as usize].ret.is_some() {
            self.remaining -= 1;
        }
        self.fresh = true;
        true
    }

    /// Undoes frames until one with alternatives left; false if none is left.
    fn backtrack(&mut self) -> bool {
        while let Some(f) = self.stack.pop() {
            self.events.unlift(f.op);
            clear(&mut self.bits, f.op);
            self.bits_hash ^= zobrist(f.op);
            self.state = f.state_before;
            if self.ops[f.op as usize].ret.is_some() {
                self.remaining += 1;
            }
            if !f.forced {
                self.key = f.key;
                self.pass = f.pass;
                self.node = self.events.next(self.events.call_node(f.op));
                return true;
            }
        }
        false
    }

    fn trace(&self) -> Trace {
        let stack = &self.stack;
        let path = stack
            .iter()
            .enumerate()
            .map(|(i, f)| {
                (
                    f.op,
                    stack.get(i + 1).map_or(self.state, |g| g.state_before),
                )
            })
            .collect();
        let mut concurrent = Vec::new();
        let mut c = self.events.next(HEAD);
        while c != NIL && self.events.is_call(c) {
            concurrent.push(self.events.op(c));
            c = self.events.next(c);
        }
        let blocked = if c == NIL { NIL } else { self.events.op(c) };
        Trace {
            path,
            blocked,
            state: self.state,
            concurrent,
        }
    }
}

#[inline]
fn set(bits: &mut [u64], op: u32) {
    bits[(op / 64) as usize] |= 1 << (op % 64);
}

#[inline]
fn clear(bits: &mut [u64], op: u32) {
    bits[(op / 64) as usize] &= !(1 << (op % 64));
}

//! The event trace of a run: one readable line per event, messages in the
//! test kit's format
//! (`t=1234 n1 -> n2 AppendEntries{term:2, prev:(1,1), entries:[(2,"v1")], commit:1}`),
//! kept as a ring of the last lines and folded into a running hash of all of
//! them (the determinism check). Tracing is off in the fast path: a violating
//! seed is replayed with tracing on, which the determinism of the simulator
//! makes exact.

use std::collections::VecDeque;

use faultline_raft::testkit::{Formatter, Text};
use faultline_raft::{Message, NodeId};

use super::rng::{hash_bytes, mix};

/// How many trailing lines a violation report shows.
pub const TRACE_TAIL: usize = 40;

/// The trace of one run.
#[derive(Debug, Clone)]
pub struct Trace {
    enabled: bool,
    cap: usize,
    lines: VecDeque<String>,
    hash: u64,
    count: u64,
}

impl Trace {
    /// A trace that records nothing (the fast path).
    pub fn off() -> Trace {
        Trace {
            enabled: false,
            cap: 0,
            lines: VecDeque::new(),
            hash: 0,
            count: 0,
        }
    }

    /// A trace that hashes every line and keeps the last `cap` of them.
    pub fn keeping(cap: usize) -> Trace {
        Trace {
            enabled: true,
            cap,
            lines: VecDeque::with_capacity(cap),
            hash: 0,
            count: 0,
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Records one line, prefixed with the virtual time.
    pub fn push(&mut self, time: u64, line: &str) {
        if !self.enabled {
            return;
        }
        let full = format!("t={time} {line}");
        self.hash = mix(self.hash, hash_bytes(full.as_bytes()));
        self.count += 1;
        if self.cap == 0 {
            return;
        }
        if self.lines.len() == self.cap {
            self.lines.pop_front();
        }
        self.lines.push_back(full);
    }

    /// The hash of every line recorded so far.
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// How many lines were recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The kept trailing lines, oldest first.
    pub fn tail(&self) -> Vec<String> {
        self.lines.iter().cloned().collect()
    }
}

/// `n3`
pub fn node_name(id: NodeId) -> String {
    format!("n{id}")
}

/// How traces show messages: text payloads, at most 4 entries per message.
pub const FORMAT: Formatter<Text> = Formatter {
    payload: Text,
    max_entries: 4,
};

/// A message body with its term, e.g. `RequestVote{term:3, last:(4,2)}`.
pub fn fmt_message(msg: &Message) -> String {
    FORMAT.message(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_show_at_most_four_entries() {
        use faultline_raft::{Entry, EntryKind, MessageBody};
        let msg = Message {
            from: 1,
            to: 2,
            term: 2,
            body: MessageBody::AppendEntries {
                prev_log_index: 1,
                prev_log_term: 1,
                entries: (2..8)
                    .map(|index| Entry {
                        term: 2,
                        index,
                        kind: EntryKind::Normal,
                        data: format!("v{index}").into_bytes(),
                    })
                    .collect(),
                commit: 1,
            },
        };
        assert_eq!(
            fmt_message(&msg),
            "AppendEntries{term:2, prev:(1,1), entries:[(2,\"v2\"),(2,\"v3\"),(2,\"v4\"),(2,\"v5\"),...+2], commit:1}"
        );
    }

    #[test]
    fn ring_keeps_the_tail_and_hashes_everything() {
        let mut a = Trace::keeping(2);
        let mut b = Trace::keeping(0);
        for i in 0..5 {
            a.push(i, "x");
            b.push(i, "x");
        }
        assert_eq!(a.tail(), vec!["t=3 x".to_string(), "t=4 x".to_string()]);
        assert_eq!(a.hash(), b.hash());
        assert_eq!(a.count(), 5);
        let mut off = Trace::off();
        off.push(1, "x");
        assert_eq!(off.count(), 0);
    }
}

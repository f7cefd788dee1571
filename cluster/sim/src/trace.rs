//! The event trace of a run: one readable line per event
//! (`t=1234 n1 -> n2 AppendEntries{term:2, prev:(i1,t1), entries:[(2,"v1")], commit:1}`),
//! kept as a ring of the last lines and folded into a running hash of all of
//! them (the determinism check). Tracing is off in the fast path: a violating
//! seed is replayed with tracing on, which the determinism of the simulator
//! makes exact.

use std::collections::VecDeque;
use std::fmt::Write as _;

use faultline_raft::{Entry, EntryKind, Message, MessageBody, NodeId};

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

/// One entry as `(term,"value")` or `(term,noop)`.
pub fn fmt_entry(out: &mut String, e: &Entry) {
    match e.kind {
        EntryKind::Noop => {
            let _ = write!(out, "({},noop)", e.term);
        }
        EntryKind::Normal => {
            let _ = write!(out, "({},{:?})", e.term, String::from_utf8_lossy(&e.data));
        }
    }
}

fn fmt_entries(out: &mut String, entries: &[Entry]) {
    const SHOWN: usize = 4;
    out.push('[');
    for (i, e) in entries.iter().take(SHOWN).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        fmt_entry(out, e);
    }
    if entries.len() > SHOWN {
        let _ = write!(out, ", ...+{}", entries.len() - SHOWN);
    }
    out.push(']');
}

fn fmt_ctx(ctx: &Option<Vec<u8>>) -> String {
    match ctx {
        Some(c) => format!("{:?}", String::from_utf8_lossy(c)),
        None => "-".to_string(),
    }
}

/// A message body with its term, e.g. `RequestVote{term:3, last:(i4,t2)}`.
pub fn fmt_message(msg: &Message) -> String {
    let mut s = String::new();
    let t = msg.term;
    match &msg.body {
        MessageBody::PreVote {
            last_log_index,
            last_log_term,
        } => {
            let _ = write!(
                s,
                "PreVote{{term:{t}, last:(i{last_log_index},t{last_log_term})}}"
            );
        }
        MessageBody::PreVoteResponse { reject } => {
            let _ = write!(s, "PreVoteResponse{{term:{t}, reject:{reject}}}");
        }
        MessageBody::RequestVote {
            last_log_index,
            last_log_term,
        } => {
            let _ = write!(
                s,
                "RequestVote{{term:{t}, last:(i{last_log_index},t{last_log_term})}}"
            );
        }
        MessageBody::RequestVoteResponse { reject } => {
            let _ = write!(s, "RequestVoteResponse{{term:{t}, reject:{reject}}}");
        }
        MessageBody::AppendEntries {
            prev_log_index,
            prev_log_term,
            entries,
            commit,
        } => {
            let _ = write!(
                s,
                "AppendEntries{{term:{t}, prev:(i{prev_log_index},t{prev_log_term}), entries:"
            );
            fmt_entries(&mut s, entries);
            let _ = write!(s, ", commit:{commit}}}");
        }
        MessageBody::AppendEntriesResponse {
            reject,
            index,
            hint,
        } => {
            let _ = write!(
                s,
                "AppendEntriesResponse{{term:{t}, reject:{reject}, index:{index}"
            );
            if let Some((ht, hi)) = hint {
                let _ = write!(s, ", hint:(t{ht},i{hi})");
            }
            s.push('}');
        }
        MessageBody::Heartbeat { commit, ctx } => {
            let _ = write!(
                s,
                "Heartbeat{{term:{t}, commit:{commit}, ctx:{}}}",
                fmt_ctx(ctx)
            );
        }
        MessageBody::HeartbeatResponse { ctx } => {
            let _ = write!(s, "HeartbeatResponse{{term:{t}, ctx:{}}}", fmt_ctx(ctx));
        }
        MessageBody::InstallSnapshot { snapshot } => {
            let _ = write!(
                s,
                "InstallSnapshot{{term:{t}, last:(i{},t{})}}",
                snapshot.meta.index, snapshot.meta.term
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_append_entries_readably() {
        let msg = Message {
            from: 1,
            to: 2,
            term: 2,
            body: MessageBody::AppendEntries {
                prev_log_index: 1,
                prev_log_term: 1,
                entries: vec![Entry {
                    term: 2,
                    index: 2,
                    kind: EntryKind::Normal,
                    data: b"v1".to_vec(),
                }],
                commit: 1,
            },
        };
        assert_eq!(
            fmt_message(&msg),
            "AppendEntries{term:2, prev:(i1,t1), entries:[(2,\"v1\")], commit:1}"
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

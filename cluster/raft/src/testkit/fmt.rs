//! The one readable form of messages and entries, shared by the raft
//! tests' transcripts, the simulator's traces and the model checker's
//! counterexamples, e.g.
//! `n1 -> n2 AppendEntries{term:2, prev:(1,1), entries:[(2,"v1")], commit:1}`.
//!
//! Entries print as `(term,value)`, `(term,noop)` or `(term,conf:add-voter 4)`; `prev` and `last` as
//! `(index,term)`. How an entry's data and a read's context look is the
//! host's business (a `Payload`): text for the simulator and the tests,
//! one-byte register values for the model.

use std::fmt::Write as _;

use crate::types::{Entry, EntryKind, Message, MessageBody, Term};

/// How a host's opaque bytes read: an entry's data, a ReadIndex context.
pub trait Payload {
    /// An entry's data, e.g. `"v1"`.
    fn data(&self, out: &mut String, data: &[u8]);
    /// A ReadIndex context, e.g. `r5`.
    fn ctx(&self, out: &mut String, ctx: &[u8]);
}

/// Bytes as (lossy) UTF-8 text: data quoted (`"v17"`), contexts bare (`r3`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Text;

impl Payload for Text {
    fn data(&self, out: &mut String, data: &[u8]) {
        let _ = write!(out, "{:?}", String::from_utf8_lossy(data));
    }

    fn ctx(&self, out: &mut String, ctx: &[u8]) {
        out.push_str(&String::from_utf8_lossy(ctx));
    }
}

/// The formatter: a payload reading and how many entries a message shows.
#[derive(Debug, Clone, Copy)]
pub struct Formatter<P> {
    pub payload: P,
    /// Entries shown in one AppendEntries; the rest print as `...+N`.
    pub max_entries: usize,
}

impl Formatter<Text> {
    /// Text payloads, every entry shown.
    pub fn text() -> Formatter<Text> {
        Formatter {
            payload: Text,
            max_entries: usize::MAX,
        }
    }
}

impl<P: Payload> Formatter<P> {
    /// `(term,"value")` or `(term,noop)`.
    pub fn entry_parts(&self, term: Term, kind: &EntryKind, data: &[u8]) -> String {
        let mut out = String::new();
        self.write_entry(&mut out, term, kind, data);
        out
    }

    /// One entry, as `entry_parts` shows it.
    pub fn entry(&self, e: &Entry) -> String {
        self.entry_parts(e.term, &e.kind, &e.data)
    }

    /// Entries as `[(1,noop),(1,"v1")]`, every one shown.
    pub fn entries(&self, entries: &[Entry]) -> String {
        let mut out = String::new();
        self.write_entries(&mut out, entries, usize::MAX);
        out
    }

    /// A message body with its term, e.g. `RequestVote{term:3, last:(4,2)}`.
    pub fn message(&self, m: &Message) -> String {
        let mut s = String::new();
        let t = m.term;
        match &m.body {
            MessageBody::PreVote {
                last_log_index,
                last_log_term,
            } => {
                let _ = write!(
                    s,
                    "PreVote{{term:{t}, last:({last_log_index},{last_log_term})}}"
                );
            }
            MessageBody::PreVoteResponse { reject } => {
                let _ = write!(s, "PreVoteResponse{{term:{t}, {}}}", granted(*reject));
            }
            MessageBody::RequestVote {
                last_log_index,
                last_log_term,
            } => {
                let _ = write!(
                    s,
                    "RequestVote{{term:{t}, last:({last_log_index},{last_log_term})}}"
                );
            }
            MessageBody::RequestVoteResponse { reject } => {
                let _ = write!(s, "RequestVoteResponse{{term:{t}, {}}}", granted(*reject));
            }
            MessageBody::AppendEntries {
                prev_log_index,
                prev_log_term,
                entries,
                commit,
            } => {
                let _ = write!(
                    s,
                    "AppendEntries{{term:{t}, prev:({prev_log_index},{prev_log_term}), entries:"
                );
                self.write_entries(&mut s, entries, self.max_entries);
                let _ = write!(s, ", commit:{commit}}}");
            }
            MessageBody::AppendEntriesResponse {
                reject,
                index,
                hint,
            } => {
                let verdict = if *reject { "reject" } else { "ok" };
                let _ = write!(
                    s,
                    "AppendEntriesResponse{{term:{t}, {verdict}, index:{index}"
                );
                if let (true, Some((ht, hi))) = (*reject, hint) {
                    let _ = write!(s, ", hint:({hi},{ht})");
                }
                s.push('}');
            }
            MessageBody::Heartbeat { commit, ctx } => {
                let _ = write!(s, "Heartbeat{{term:{t}, commit:{commit}");
                self.write_ctx(&mut s, ctx.as_deref());
                s.push('}');
            }
            MessageBody::HeartbeatResponse { ctx } => {
                let _ = write!(s, "HeartbeatResponse{{term:{t}");
                self.write_ctx(&mut s, ctx.as_deref());
                s.push('}');
            }
            MessageBody::InstallSnapshot { snapshot } => {
                let _ = write!(
                    s,
                    "InstallSnapshot{{term:{t}, last:({},{})}}",
                    snapshot.meta.index, snapshot.meta.term
                );
            }
        }
        s
    }

    /// A message on the wire: `n1 -> n2 RequestVote{term:1, last:(0,0)}`.
    pub fn delivery(&self, m: &Message) -> String {
        format!("n{} -> n{} {}", m.from, m.to, self.message(m))
    }

    fn write_entry(&self, out: &mut String, term: Term, kind: &EntryKind, data: &[u8]) {
        match kind {
            EntryKind::Noop => {
                let _ = write!(out, "({term},noop)");
            }
            EntryKind::Normal => {
                let _ = write!(out, "({term},");
                self.payload.data(out, data);
                out.push(')');
            }
            EntryKind::ConfChange(cc) => {
                let _ = write!(out, "({term},conf:{cc})");
            }
        }
    }

    fn write_entries(&self, out: &mut String, entries: &[Entry], shown: usize) {
        out.push('[');
        for (i, e) in entries.iter().take(shown).enumerate() {
            if i > 0 {
                out.push(',');
            }
            self.write_entry(out, e.term, &e.kind, &e.data);
        }
        if entries.len() > shown {
            let _ = write!(out, ",...+{}", entries.len() - shown);
        }
        out.push(']');
    }

    fn write_ctx(&self, out: &mut String, ctx: Option<&[u8]>) {
        match ctx {
            // A lease round of a lease leader (`lease.rs`): `lease:N`.
            Some(c)
                if c.len() == crate::lease::LEASE_CTX_LEN
                    && c.starts_with(&crate::lease::LEASE_CTX_PREFIX) =>
            {
                let mut n = [0u8; 8];
                n.copy_from_slice(&c[2..]);
                let _ = write!(out, ", lease:{}", u64::from_be_bytes(n));
            }
            Some(c) => {
                out.push_str(", read:");
                self.payload.ctx(out, c);
            }
            None => {}
        }
    }
}

fn granted(reject: bool) -> &'static str {
    if reject { "rejected" } else { "granted" }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn append(entries: usize) -> Message {
        Message {
            from: 1,
            to: 2,
            term: 2,
            body: MessageBody::AppendEntries {
                prev_log_index: 1,
                prev_log_term: 1,
                entries: (0..entries as u64)
                    .map(|k| Entry {
                        term: 2,
                        index: 2 + k,
                        kind: EntryKind::Normal,
                        data: format!("v{}", k + 1).into_bytes(),
                    })
                    .collect(),
                commit: 1,
            },
        }
    }

    #[test]
    fn append_entries_reads_like_the_paper() {
        assert_eq!(
            Formatter::text().delivery(&append(1)),
            "n1 -> n2 AppendEntries{term:2, prev:(1,1), entries:[(2,\"v1\")], commit:1}"
        );
    }

    #[test]
    fn long_entry_lists_are_cut_where_asked() {
        let f = Formatter {
            payload: Text,
            max_entries: 2,
        };
        assert_eq!(
            f.message(&append(5)),
            "AppendEntries{term:2, prev:(1,1), entries:[(2,\"v1\"),(2,\"v2\"),...+3], commit:1}"
        );
        assert_eq!(f.entries(&[]), "[]");
    }

    #[test]
    fn answers_and_reads_render() {
        let m = |body| Message {
            from: 3,
            to: 1,
            term: 4,
            body,
        };
        let f = Formatter::text();
        assert_eq!(
            f.message(&m(MessageBody::RequestVoteResponse { reject: true })),
            "RequestVoteResponse{term:4, rejected}"
        );
        assert_eq!(
            f.message(&m(MessageBody::Heartbeat {
                commit: 2,
                ctx: Some(b"r5".to_vec())
            })),
            "Heartbeat{term:4, commit:2, read:r5}"
        );
        assert_eq!(
            f.message(&m(MessageBody::AppendEntriesResponse {
                reject: true,
                index: 3,
                hint: Some((1, 2)),
            })),
            "AppendEntriesResponse{term:4, reject, index:3, hint:(2,1)}"
        );
        assert_eq!(f.entry_parts(1, &EntryKind::Noop, b"ignored"), "(1,noop)");
    }
}

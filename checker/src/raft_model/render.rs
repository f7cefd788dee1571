//! Readable counterexamples: actions, messages, logs and states as short
//! text, e.g. `n1 -> n2 AppendEntries{term:2, prev:(1,1), entries:[(2,"v1")], commit:1}`.
//! Messages and entries in the test kit's format (`faultline_raft::testkit::fmt`),
//! with the model's payloads: one-byte register values and client threads.

use std::fmt::Write as _;

use faultline_raft::testkit::{Formatter, Payload};
use faultline_raft::{ConfChange, Entry, Role};
use serde::Serialize;

use crate::raft_model::action::Action;
use crate::raft_model::clients::value_name;
use crate::raft_model::state::ModelState;

/// The model's payloads: an entry's data is one byte, the register value
/// `k` that proposal `k` writes (`"v3"`); a read's context is its client
/// thread (`r2`). Anything else prints as bytes.
#[derive(Debug, Clone, Copy)]
pub struct RegisterValues;

impl Payload for RegisterValues {
    fn data(&self, out: &mut String, data: &[u8]) {
        match data {
            [v] => {
                let _ = write!(out, "\"v{v}\"");
            }
            other => {
                let _ = write!(out, "{other:?}");
            }
        }
    }

    fn ctx(&self, out: &mut String, ctx: &[u8]) {
        match ctx {
            [r] => {
                let _ = write!(out, "r{r}");
            }
            other => {
                let _ = write!(out, "{other:?}");
            }
        }
    }
}

/// How the model shows messages and entries: every entry shown.
pub const FORMAT: Formatter<RegisterValues> = Formatter {
    payload: RegisterValues,
    max_entries: usize::MAX,
};

/// `"v3"`: the register value written by proposal 3.
pub fn register_value_name(v: u8) -> String {
    let mut out = String::new();
    RegisterValues.data(&mut out, &[v]);
    out
}

/// One step of a trace: what happened, and the state it led to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraceStep {
    pub step: String,
    pub state: String,
}

/// The steps of a path from the initial state, one per action.
pub fn trace(pairs: &[(ModelState, Option<Action>)]) -> Vec<TraceStep> {
    let mut steps = Vec::with_capacity(pairs.len());
    for k in 0..pairs.len().saturating_sub(1) {
        if let Some(a) = &pairs[k].1 {
            steps.push(TraceStep {
                step: action(a),
                state: state(&pairs[k + 1].0),
            });
        }
    }
    steps
}

pub fn action(a: &Action) -> String {
    match a {
        Action::Deliver(m) => FORMAT.delivery(m),
        Action::Duplicate(m) => format!(
            "{} (duplicated: a copy stays in flight)",
            FORMAT.delivery(m)
        ),
        Action::Drop(m) => format!("lost: {}", FORMAT.delivery(m)),
        Action::Timeout(n) => format!("n{n} election timeout: campaigns"),
        Action::Heartbeat(n) => format!("n{n} heartbeat timeout: sends heartbeats"),
        Action::Crash(n) => format!("n{n} crashes and restarts from its disk"),
        Action::Propose(n, v) => format!("client proposes {} at n{n}", value_name(*v)),
        Action::Read(n) => format!("client reads at n{n} (ReadIndex)"),
        Action::ChangeConf(n, change) => match change {
            ConfChange::AddVoter(id) => format!("n{n} proposes a membership change: add n{id}"),
            ConfChange::AddLearner(id) => {
                format!("n{n} proposes a membership change: add n{id} as a learner")
            }
            ConfChange::Remove(id) => {
                format!("n{n} proposes a membership change: remove n{id}")
            }
        },
    }
}

/// `[(1,noop),(1,"v1")]`
pub fn log(entries: &[Entry]) -> String {
    FORMAT.entries(entries)
}

fn role(r: Role) -> &'static str {
    match r {
        Role::Follower => "follower",
        Role::PreCandidate => "pre-candidate",
        Role::Candidate => "candidate",
        Role::Leader => "leader",
    }
}

/// A compact, multi-line summary of a state: each server's role, term,
/// vote, log and commit (its voters when they differ from the initial
/// ones, and its disk when it differs), then the network size and the
/// committed log as observed.
pub fn state(s: &ModelState) -> String {
    let mut lines = Vec::new();
    for server in &s.servers {
        let c = &server.core;
        let vote = c.vote().map_or("-".to_string(), |v| format!("n{v}"));
        let mut line = format!(
            "n{} {} term {} vote {} log {} commit {}",
            c.id(),
            role(c.role()),
            c.term(),
            vote,
            log(c.log_entries()),
            c.commit()
        );
        // The configuration, once it differs from the initial one.
        let initial = (1..=s.initial_voters as u64).collect::<Vec<_>>();
        if c.peers() != initial.as_slice() {
            let voters: Vec<String> = c.peers().iter().map(|v| format!("n{v}")).collect();
            line.push_str(&format!(" voters {{{}}}", voters.join(",")));
        }
        let d = &server.disk;
        if d.hard_state.term != c.term()
            || d.hard_state.vote != c.vote()
            || d.entries != c.log_entries()
        {
            let dvote = d
                .hard_state
                .vote
                .map_or("-".to_string(), |v| format!("n{v}"));
            line.push_str(&format!(
                " | disk term {} vote {} log {}",
                d.hard_state.term,
                dvote,
                log(&d.entries)
            ));
        }
        lines.push(line);
    }
    let committed: Vec<String> = s
        .ghost
        .committed
        .iter()
        .map(|c| FORMAT.entry_parts(c.term, &c.kind, &c.data))
        .collect();
    lines.push(format!(
        "in flight {}, crashes {}, committed [{}]",
        s.network.len(),
        s.crashes,
        committed.join(",")
    ));
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use faultline_raft::{EntryKind, Message, MessageBody};

    use super::*;

    #[test]
    fn append_entries_reads_like_the_paper() {
        let m = Message {
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
                    data: vec![1],
                }],
                commit: 1,
            },
        };
        assert_eq!(
            action(&Action::Deliver(m)),
            "n1 -> n2 AppendEntries{term:2, prev:(1,1), entries:[(2,\"v1\")], commit:1}"
        );
    }

    #[test]
    fn votes_and_heartbeats_render() {
        let m = |body| Message {
            from: 3,
            to: 1,
            term: 4,
            body,
        };
        assert_eq!(
            FORMAT.message(&m(MessageBody::RequestVoteResponse { reject: true })),
            "RequestVoteResponse{term:4, rejected}"
        );
        assert_eq!(
            FORMAT.message(&m(MessageBody::Heartbeat {
                commit: 2,
                ctx: Some(vec![5])
            })),
            "Heartbeat{term:4, commit:2, read:r5}"
        );
        assert_eq!(
            action(&Action::Propose(2, 1)),
            "client proposes \"v1\" at n2"
        );
    }
}

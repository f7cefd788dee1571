//! Readable counterexamples: actions, messages, logs and states as short
//! text, e.g. `n1 -> n2 AppendEntries{term:2, prev:(1,1), entries:[(2,"v1")], commit:1}`.
//! Entries print as `(term,value)`, `prev` and `last` as `(index,term)`.

use faultline_raft::{Entry, Message, MessageBody, Role};
use serde::Serialize;

use crate::model::action::Action;
use crate::model::clients::value_name;
use crate::model::ghost::describe;
use crate::model::state::ModelState;

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
        Action::Deliver(m) => format!("n{} -> n{} {}", m.from, m.to, message(m)),
        Action::Duplicate(m) => format!(
            "n{} -> n{} {} (duplicated: a copy stays in flight)",
            m.from,
            m.to,
            message(m)
        ),
        Action::Drop(m) => format!("lost: n{} -> n{} {}", m.from, m.to, message(m)),
        Action::Timeout(n) => format!("n{n} election timeout: campaigns"),
        Action::Heartbeat(n) => format!("n{n} heartbeat timeout: sends heartbeats"),
        Action::Crash(n) => format!("n{n} crashes and restarts from its disk"),
        Action::Propose(n, v) => format!("client proposes {} at n{n}", value_name(*v)),
        Action::Read(n) => format!("client reads at n{n} (ReadIndex)"),
    }
}

pub fn message(m: &Message) -> String {
    let t = m.term;
    match &m.body {
        MessageBody::PreVote {
            last_log_index,
            last_log_term,
        } => format!("PreVote{{term:{t}, last:({last_log_index},{last_log_term})}}"),
        MessageBody::PreVoteResponse { reject } => {
            format!("PreVoteResponse{{term:{t}, {}}}", granted(*reject))
        }
        MessageBody::RequestVote {
            last_log_index,
            last_log_term,
        } => format!("RequestVote{{term:{t}, last:({last_log_index},{last_log_term})}}"),
        MessageBody::RequestVoteResponse { reject } => {
            format!("RequestVoteResponse{{term:{t}, {}}}", granted(*reject))
        }
        MessageBody::AppendEntries {
            prev_log_index,
            prev_log_term,
            entries,
            commit,
        } => format!(
            "AppendEntries{{term:{t}, prev:({prev_log_index},{prev_log_term}), entries:{}, commit:{commit}}}",
            log(entries)
        ),
        MessageBody::AppendEntriesResponse {
            reject,
            index,
            hint,
        } => match (reject, hint) {
            (false, _) => format!("AppendEntriesResponse{{term:{t}, ok, index:{index}}}"),
            (true, Some((ht, hi))) => format!(
                "AppendEntriesResponse{{term:{t}, reject, index:{index}, hint:({hi},{ht})}}"
            ),
            (true, None) => format!("AppendEntriesResponse{{term:{t}, reject, index:{index}}}"),
        },
        MessageBody::Heartbeat { commit, ctx } => {
            format!("Heartbeat{{term:{t}, commit:{commit}{}}}", read_ctx(ctx))
        }
        MessageBody::HeartbeatResponse { ctx } => {
            format!("HeartbeatResponse{{term:{t}{}}}", read_ctx(ctx))
        }
        MessageBody::InstallSnapshot { snapshot } => format!(
            "InstallSnapshot{{term:{t}, last:({},{})}}",
            snapshot.meta.index, snapshot.meta.term
        ),
    }
}

fn granted(reject: bool) -> &'static str {
    if reject { "rejected" } else { "granted" }
}

fn read_ctx(ctx: &Option<Vec<u8>>) -> String {
    match ctx.as_deref() {
        None => String::new(),
        Some([r]) => format!(", read:r{r}"),
        Some(other) => format!(", read:{other:?}"),
    }
}

/// `[(1,noop),(1,"v1")]`
pub fn log(entries: &[Entry]) -> String {
    let parts: Vec<String> = entries
        .iter()
        .map(|e| describe(e.term, &e.kind, &e.data))
        .collect();
    format!("[{}]", parts.join(","))
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
/// vote, log and commit (and its disk when it differs), then the network
/// size and the committed log as observed.
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
        .map(|c| describe(c.term, &c.kind, &c.data))
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
    use faultline_raft::EntryKind;

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
            message(&m(MessageBody::RequestVoteResponse { reject: true })),
            "RequestVoteResponse{term:4, rejected}"
        );
        assert_eq!(
            message(&m(MessageBody::Heartbeat {
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

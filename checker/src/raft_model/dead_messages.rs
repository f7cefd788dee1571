//! Dead-message collection: a reduction that removes, after each step, the
//! messages in flight whose delivery can never change anything.
//!
//! Messages that can only be ignored multiply the state space without
//! adding behaviour: a state with such a message in flight and the same
//! state without it have the same futures. A message is removed only when
//! both hold:
//!
//! 1. A Raft rule says its recipient will ignore it from now on, whatever
//!    else happens (terms never decrease, a follower never leads or
//!    campaigns in its current term, a leader's match index never
//!    decreases in its term):
//!    - its term is below the recipient's (stale; the recipient at most
//!      answers with its own term, and that answer must be dead too);
//!    - it is a vote answer to a server that is no longer campaigning in
//!      that term;
//!    - it is an append or heartbeat answer to a follower of that term;
//!    - it acknowledges, to the leader of that term, less than the leader
//!      already knows the follower matches;
//!    - it asks for a vote in the term where the recipient has already cast
//!      a vote, durably (its answer then never changes in that term; a
//!      vote only on the volatile side, as with the forget-vote bug, does
//!      not count).
//! 2. Delivering it to the real core *now* is checked to be a no-op: the
//!    core is unchanged and has nothing to persist or apply, and anything it
//!    sends is itself dead by these rules.
//!
//! Removing it is then what the network would do by delivering it, so
//! every state of the reduced model is a state of the full model, and no
//! behaviour is lost as long as the core keeps those Raft rules (which the
//! check in 2 confirms each time, in the state at hand).

use faultline_raft::{Message, MessageBody, RawNode, Role};

use crate::raft_model::state::ModelState;

/// Remove every dead message from the network.
pub fn collect(state: &mut ModelState) {
    let dead: Vec<Message> = state
        .network
        .iter()
        .filter(|m| is_dead(state, m, 1))
        .cloned()
        .collect();
    for m in &dead {
        state.network.remove(m);
    }
}

/// Whether `m` is dead in `state`; `answers` bounds how deep the answers
/// it provokes are followed.
pub fn is_dead(state: &ModelState, m: &Message, answers: u8) -> bool {
    if !ignored_for_good(state, m) {
        return false;
    }
    let core = &state.server(m.to).core;
    let mut probe = core.clone();
    let Some(sent) = deliver_without_effect(&mut probe, m) else {
        return false;
    };
    probe == *core
        && sent
            .iter()
            .all(|reply| answers > 0 && is_dead(state, reply, answers - 1))
}

/// Rule 1 of the module docs.
fn ignored_for_good(state: &ModelState, m: &Message) -> bool {
    let r = &state.server(m.to).core;
    if m.term < r.term() {
        return true;
    }
    if m.term > r.term() {
        return false;
    }
    match &m.body {
        MessageBody::RequestVote { .. } => {
            let disk = &state.server(m.to).disk.hard_state;
            r.vote().is_some() && disk.vote == r.vote() && disk.term == r.term()
        }
        MessageBody::RequestVoteResponse { .. } | MessageBody::PreVoteResponse { .. } => {
            !matches!(r.role(), Role::Candidate | Role::PreCandidate)
        }
        MessageBody::AppendEntriesResponse {
            reject: false,
            index,
            ..
        } => match r.role() {
            Role::Follower => true,
            Role::Leader => r
                .progress()
                .iter()
                .any(|&(id, matched, _)| id == m.from && matched > *index),
            _ => false,
        },
        MessageBody::AppendEntriesResponse { reject: true, .. }
        | MessageBody::HeartbeatResponse { .. } => r.role() == Role::Follower,
        _ => false,
    }
}

/// Deliver `m` to `core` and run its Ready loop; the messages it sent, or
/// None if it changed anything else (state to persist, entries to apply,
/// reads to serve, a role change) or refused the message.
fn deliver_without_effect(core: &mut RawNode, m: &Message) -> Option<Vec<Message>> {
    core.step(m.clone()).ok()?;
    let mut sent = Vec::new();
    while core.has_ready() {
        let ready = core.ready();
        let quiet = ready.soft_state.is_none()
            && ready.hard_state.is_none()
            && ready.entries.is_empty()
            && ready.snapshot.is_none()
            && ready.committed_entries.is_empty()
            && ready.read_states.is_empty();
        if !quiet {
            return None;
        }
        sent.extend(ready.messages.iter().cloned());
        sent.extend(ready.persisted_messages.iter().cloned());
        core.advance(ready);
    }
    Some(sent)
}

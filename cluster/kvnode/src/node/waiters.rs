//! Clients waiting on the Ready loop: proposals waiting for their entry to
//! apply (keyed by log index, checked against the term they were proposed
//! in), and reads waiting for a ReadIndex answer and then for the applied
//! index to reach it.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use faultline_raft::{Index, NodeId, Term};

use super::events::Responder;
use super::protocol::ClientResponse;

/// A proposal's client: answered when the entry at its index applies.
#[derive(Debug)]
pub struct ProposalWaiter {
    pub term: Term,
    pub respond: Responder,
}

/// A Get waiting to be served.
#[derive(Debug)]
pub struct ReadWaiter {
    pub key: String,
    pub respond: Responder,
}

/// Every client the loop owes an answer.
#[derive(Debug, Default)]
pub struct Waiters {
    proposals: HashMap<Index, ProposalWaiter>,
    /// ReadIndex rounds in flight: ctx -> (started, reads).
    rounds: HashMap<u64, (Instant, Vec<ReadWaiter>)>,
    /// Reads whose read index is known, waiting for apply.
    ready_reads: BTreeMap<Index, Vec<ReadWaiter>>,
}

impl Waiters {
    pub fn add_proposal(&mut self, index: Index, term: Term, respond: Responder) {
        if let Some(old) = self
            .proposals
            .insert(index, ProposalWaiter { term, respond })
        {
            // The index was reused by a new term of ours: the old proposal is gone.
            let _ = old
                .respond
                .send(ClientResponse::LostLeadership { leader: None });
        }
    }

    /// The waiter of the entry at `index`, if any.
    pub fn take_proposal(&mut self, index: Index) -> Option<ProposalWaiter> {
        self.proposals.remove(&index)
    }

    pub fn add_round(&mut self, ctx: u64, reads: Vec<ReadWaiter>) {
        self.rounds.insert(ctx, (Instant::now(), reads));
    }

    /// A ReadIndex round completed at `index`.
    pub fn round_done(&mut self, ctx: u64, index: Index) {
        if let Some((_, reads)) = self.rounds.remove(&ctx) {
            self.ready_reads.entry(index).or_default().extend(reads);
        }
    }

    /// Reads that may be served now that `applied` is applied.
    pub fn servable_reads(&mut self, applied: Index) -> Vec<ReadWaiter> {
        let later = self.ready_reads.split_off(&(applied + 1));
        let now = std::mem::replace(&mut self.ready_reads, later);
        now.into_values().flatten().collect()
    }

    /// Answer every proposal at or below `index` (covered by an installed
    /// snapshot: their fate is not known here, so the client retries with
    /// the same sequence and the session table answers).
    pub fn fail_proposals_upto(&mut self, index: Index, leader: Option<NodeId>) {
        let covered: Vec<Index> = self
            .proposals
            .keys()
            .copied()
            .filter(|&i| i <= index)
            .collect();
        for i in covered {
            if let Some(w) = self.proposals.remove(&i) {
                let _ = w.respond.send(ClientResponse::LostLeadership { leader });
            }
        }
    }

    /// Leadership was lost: proposals are told `LostLeadership` (a write may
    /// still apply later; the client retries with the same sequence), reads
    /// `NotLeader`.
    pub fn fail_all(&mut self, leader: Option<NodeId>) {
        let wrong = || ClientResponse::NotLeader { leader };
        for (_, w) in self.proposals.drain() {
            let _ = w.respond.send(ClientResponse::LostLeadership { leader });
        }
        for (_, (_, reads)) in self.rounds.drain() {
            for r in reads {
                let _ = r.respond.send(wrong());
            }
        }
        for r in std::mem::take(&mut self.ready_reads)
            .into_values()
            .flatten()
        {
            let _ = r.respond.send(wrong());
        }
    }

    /// Drop ReadIndex rounds older than `max_age` (the core drops a round
    /// silently in some cases; their clients have long timed out).
    pub fn expire_rounds(&mut self, max_age: Duration) {
        let now = Instant::now();
        self.rounds.retain(|_, (started, reads)| {
            let keep = now.duration_since(*started) < max_age;
            if !keep {
                for r in reads.drain(..) {
                    let _ = r.respond.send(ClientResponse::NotLeader { leader: None });
                }
            }
            keep
        });
    }
}

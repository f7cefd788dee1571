//! ReadIndex on the leader (Raft thesis §6.4): a read is served at the commit
//! index once (1) the leader has committed an entry of its own term, so that
//! commit index covers every write acknowledged by earlier leaders, and (2) a
//! quorum answered a heartbeat sent after the read arrived, so the leader was
//! still the leader when it fixed the read point. In lease mode
//! (`lease.rs`) a leader inside its lease skips (2).

use tracing::{debug, trace};

use crate::error::RaftError;
use crate::raft::Raft;
use crate::types::{NodeId, ReadState, Role};

impl Raft {
    /// Whether this leader has committed an entry of its own term.
    pub fn committed_in_term(&self) -> bool {
        self.log.term(self.log.committed()) == Some(self.term)
    }

    /// Ask for a read point. Followers and candidates refuse with the leader
    /// they know of (the caller redirects the client there).
    pub fn read_index(&mut self, ctx: Vec<u8>) -> Result<(), RaftError> {
        if self.role != Role::Leader {
            return Err(RaftError::NotLeader {
                leader: self.leader,
            });
        }
        if self.bugs.stale_read_index {
            // Planted bug: no proof of leadership, no wait for the term's
            // first commit.
            self.read_states.push(ReadState {
                index: self.log.committed(),
                ctx,
            });
            return Ok(());
        }
        if self.reads.contains(&ctx) {
            return Err(RaftError::ProposalDropped(
                "a read with this ctx is already pending",
            ));
        }
        if self.committed_in_term() && self.lease.as_ref().is_some_and(|l| l.valid()) {
            // Lease mode: a quorum answered a round within the lease, so no
            // other leader can exist yet: serve at the commit index.
            trace!(
                node = self.id,
                term = self.term,
                index = self.log.committed(),
                "lease read"
            );
            self.read_states.push(ReadState {
                index: self.log.committed(),
                ctx,
            });
            return Ok(());
        }
        if !self.committed_in_term() {
            trace!(
                node = self.id,
                term = self.term,
                "read waits for the leader's first commit"
            );
            self.reads.waiting.push(ctx);
            return Ok(());
        }
        self.start_reads(vec![ctx]);
        Ok(())
    }

    /// Fix the read point of `ctxs` at the current commit and start one
    /// heartbeat round for them (a group of one answers at once).
    fn start_reads(&mut self, ctxs: Vec<Vec<u8>>) {
        let index = self.log.committed();
        if self.quorum() == 1 && self.is_voter(self.id) {
            self.read_states
                .extend(ctxs.into_iter().map(|ctx| ReadState { index, ctx }));
            return;
        }
        for ctx in ctxs {
            self.reads.add_pending(index, ctx, self.id);
        }
        debug!(
            node = self.id,
            term = self.term,
            index,
            "read index: heartbeat round"
        );
        self.bcast_heartbeat();
    }

    /// After commit advanced: start the reads that waited for the term's
    /// first commit.
    pub fn release_waiting_reads(&mut self) {
        if !self.reads.waiting.is_empty() && self.committed_in_term() {
            let waiting = std::mem::take(&mut self.reads.waiting);
            self.start_reads(waiting);
        }
    }

    /// A follower confirmed leadership for the read `ctx`.
    pub fn read_acked(&mut self, from: NodeId, ctx: &[u8]) {
        if let Some(acks) = self.reads.ack(from, ctx)
            && acks >= self.quorum()
            && self.reads.acks_among(ctx, &self.peers) >= self.quorum()
        {
            let released = self.reads.release_through(ctx);
            trace!(
                node = self.id,
                term = self.term,
                n = released.len(),
                "reads confirmed"
            );
            self.read_states.extend(released);
        }
    }
}

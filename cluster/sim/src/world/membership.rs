//! Membership changes in a world: an operator asks a node (a leader) for a
//! single-server change, and what the driver needs to know about the
//! configuration (each node's voters, the majority a command needs for the
//! liveness watch). Which change to ask for, and when, is the runner's
//! (`crate::membership`).

use faultline_raft::{ConfChange, EntryKind, Index, NodeId, RaftError, Role};

use super::World;

impl World {
    /// Proposes `change` at node `i` (index from 0).
    pub fn change_conf(&mut self, i: usize, change: ConfChange) -> Result<Index, RaftError> {
        let id = self.nodes[i].id;
        let Some(raw) = self.nodes[i].raw.as_mut() else {
            return Err(RaftError::ProposalDropped("node is down"));
        };
        let result = raw.propose_conf_change(change);
        match &result {
            Ok(index) => {
                self.note(|| format!("operator conf change {change} -> n{id}: index {index}"))
            }
            Err(e) => self.note(|| format!("operator conf change {change} -> n{id}: {e}")),
        }
        self.drain(i);
        result
    }

    /// The voters of node `i`'s current configuration (None while it is down).
    pub fn voters_of(&self, i: usize) -> Option<&[NodeId]> {
        self.nodes[i].raw.as_ref().map(|r| r.peers())
    }

    /// Whether running node `i` committed an entry of its current term
    /// (a leader's no-op), as a correct leader needs before a change.
    pub fn committed_in_term(&self, i: usize) -> bool {
        self.nodes[i]
            .raw
            .as_ref()
            .is_some_and(|r| r.term_at(r.commit()) == Some(r.term()))
    }

    /// Whether running node `i`'s log holds a configuration change beyond
    /// its commit index (true while it is down: nothing is known).
    pub fn conf_pending(&self, i: usize) -> bool {
        let Some(r) = self.nodes[i].raw.as_ref() else {
            return true;
        };
        let commit = r.commit();
        r.log_entries()
            .iter()
            .any(|e| e.index > commit && matches!(e.kind, EntryKind::ConfChange(_)))
    }

    /// A majority of the voters of the current configuration, as the
    /// running leader of the highest term sees it; of every node when
    /// none leads. Without membership changes every node's voters are
    /// every node, so this is `majority()`.
    pub(super) fn voter_majority(&self) -> usize {
        let leader = (0..self.nodes.len())
            .filter(|&i| self.nodes[i].alive() && self.nodes[i].role == Role::Leader)
            .max_by_key(|&i| self.nodes[i].term);
        match leader.and_then(|i| self.voters_of(i)) {
            Some(voters) => voters.len() / 2 + 1,
            None => self.majority(),
        }
    }
}

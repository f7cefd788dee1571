//! The group's membership: a configuration (`ConfState`: voters and
//! learners), the single-server changes that move between configurations
//! (`ConfChange`), and why a proposed change is refused (`ConfChangeError`).
//!
//! Pure data and rules; how the core uses them (a change takes effect when
//! its entry is appended, the one-at-a-time and own-term-commit rules, the
//! leader stepping down) is in `confchange.rs`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::types::{Index, NodeId};

/// One single-server membership change, carried by an
/// `EntryKind::ConfChange` log entry (Raft dissertation §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ConfChange {
    /// Make the node a voter (adding it, or promoting it from learner).
    AddVoter(NodeId),
    /// Add the node as a learner: it receives the log but neither votes nor
    /// counts toward any quorum.
    AddLearner(NodeId),
    /// Remove the node (voter or learner) from the group.
    Remove(NodeId),
}

impl ConfChange {
    /// The node the change is about.
    pub fn node(self) -> NodeId {
        match self {
            ConfChange::AddVoter(id) | ConfChange::AddLearner(id) | ConfChange::Remove(id) => id,
        }
    }
}

impl fmt::Display for ConfChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfChange::AddVoter(id) => write!(f, "add-voter {id}"),
            ConfChange::AddLearner(id) => write!(f, "add-learner {id}"),
            ConfChange::Remove(id) => write!(f, "remove {id}"),
        }
    }
}

/// A configuration: who votes and who only learns. Both lists are sorted
/// and disjoint. An empty configuration means "not known yet" (a node
/// joining a group learns it from the leader's log or snapshot).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ConfState {
    pub voters: Vec<NodeId>,
    pub learners: Vec<NodeId>,
}

/// Why a configuration change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfChangeError {
    /// The leader has not yet committed an entry of its own term (its
    /// no-op): a change now could conflict with an uncommitted change of an
    /// earlier leader (the single-server change bug, Ongaro, raft-dev 2015).
    #[error("the leader has not committed an entry of its term yet")]
    NoCommitInTerm,
    /// The change at `index` is not committed yet: one change at a time.
    #[error("the configuration change at index {index} is not committed yet")]
    Pending { index: Index },
    #[error("node {0} is already a voter")]
    AlreadyVoter(NodeId),
    #[error("node {0} is already a learner")]
    AlreadyLearner(NodeId),
    #[error("node {0} is not a member")]
    NotMember(NodeId),
    #[error("node {0} is the last voter")]
    LastVoter(NodeId),
    #[error("node id 0 is reserved for \"none\"")]
    ZeroId,
}

impl ConfState {
    /// A configuration of `voters` (sorted and deduplicated) and no learners.
    pub fn with_voters(mut voters: Vec<NodeId>) -> ConfState {
        voters.sort_unstable();
        voters.dedup();
        ConfState {
            voters,
            learners: Vec::new(),
        }
    }

    pub fn is_voter(&self, id: NodeId) -> bool {
        self.voters.binary_search(&id).is_ok()
    }

    pub fn is_learner(&self, id: NodeId) -> bool {
        self.learners.binary_search(&id).is_ok()
    }

    /// Whether the node is a voter or a learner.
    pub fn contains(&self, id: NodeId) -> bool {
        self.is_voter(id) || self.is_learner(id)
    }

    /// Whether `change` may be proposed against this configuration.
    pub fn check(&self, change: ConfChange) -> Result<(), ConfChangeError> {
        if change.node() == 0 {
            return Err(ConfChangeError::ZeroId);
        }
        match change {
            ConfChange::AddVoter(id) if self.is_voter(id) => Err(ConfChangeError::AlreadyVoter(id)),
            ConfChange::AddLearner(id) if self.is_voter(id) => {
                // Demoting a voter is not supported.
                Err(ConfChangeError::AlreadyVoter(id))
            }
            ConfChange::AddLearner(id) if self.is_learner(id) => {
                Err(ConfChangeError::AlreadyLearner(id))
            }
            ConfChange::Remove(id) if !self.contains(id) => Err(ConfChangeError::NotMember(id)),
            ConfChange::Remove(id) if self.voters == [id] => Err(ConfChangeError::LastVoter(id)),
            _ => Ok(()),
        }
    }

    /// Apply `change`. Total and idempotent: a follower applies what the
    /// leader appended without judging it.
    pub fn apply(&mut self, change: ConfChange) {
        let remove = |v: &mut Vec<NodeId>, id| {
            if let Ok(pos) = v.binary_search(&id) {
                v.remove(pos);
            }
        };
        let insert = |v: &mut Vec<NodeId>, id| {
            if let Err(pos) = v.binary_search(&id) {
                v.insert(pos, id);
            }
        };
        match change {
            ConfChange::AddVoter(id) => {
                remove(&mut self.learners, id);
                insert(&mut self.voters, id);
            }
            ConfChange::AddLearner(id) => {
                if !self.is_voter(id) {
                    insert(&mut self.learners, id);
                }
            }
            ConfChange::Remove(id) => {
                remove(&mut self.voters, id);
                remove(&mut self.learners, id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_apply_idempotently() {
        let mut c = ConfState::with_voters(vec![3, 1, 2, 1]);
        assert_eq!(c.voters, vec![1, 2, 3]);
        c.apply(ConfChange::AddLearner(5));
        c.apply(ConfChange::AddLearner(5));
        assert_eq!(c.learners, vec![5]);
        c.apply(ConfChange::AddVoter(5));
        assert_eq!(
            (c.voters.clone(), c.learners.clone()),
            (vec![1, 2, 3, 5], vec![])
        );
        c.apply(ConfChange::AddLearner(5));
        assert!(c.learners.is_empty(), "a voter is not demoted");
        c.apply(ConfChange::Remove(2));
        c.apply(ConfChange::Remove(2));
        assert_eq!(c.voters, vec![1, 3, 5]);
    }

    #[test]
    fn proposals_are_checked() {
        let c = ConfState {
            voters: vec![1],
            learners: vec![2],
        };
        assert_eq!(
            c.check(ConfChange::AddVoter(1)),
            Err(ConfChangeError::AlreadyVoter(1))
        );
        assert_eq!(c.check(ConfChange::AddVoter(2)), Ok(()), "promotion");
        assert_eq!(
            c.check(ConfChange::AddLearner(2)),
            Err(ConfChangeError::AlreadyLearner(2))
        );
        assert_eq!(
            c.check(ConfChange::Remove(3)),
            Err(ConfChangeError::NotMember(3))
        );
        assert_eq!(
            c.check(ConfChange::Remove(1)),
            Err(ConfChangeError::LastVoter(1))
        );
        assert_eq!(c.check(ConfChange::Remove(2)), Ok(()));
        assert_eq!(
            c.check(ConfChange::AddVoter(0)),
            Err(ConfChangeError::ZeroId)
        );
    }
}

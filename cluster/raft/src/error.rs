//! Typed errors of the core.

use crate::types::NodeId;

/// Why the core refused an input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RaftError {
    #[error("not the leader (leader hint: {leader:?})")]
    NotLeader { leader: Option<NodeId> },
    #[error("proposal dropped: {0}")]
    ProposalDropped(&'static str),
    #[error("message from unknown node {0}")]
    UnknownPeer(NodeId),
    #[error("compaction index {index} is not in the applied, retained log ({first}..={applied})")]
    BadCompaction {
        index: u64,
        first: u64,
        applied: u64,
    },
    /// A peer sent a message that cannot be right (bad indexes, a conflict
    /// with committed entries, addressed elsewhere); it was ignored.
    #[error("invalid message from node {from}: {reason}")]
    InvalidMessage { from: NodeId, reason: &'static str },
    /// A message proves that Raft's safety was already broken elsewhere (two
    /// leaders in one term, or a leader whose log contradicts an entry this
    /// node knows is committed). Only a buggy peer or a planted bug causes
    /// it; the message was ignored. Simulators and tests should report it as
    /// a violation.
    #[error("safety violation seen in a message from node {from}: {what}")]
    SafetyViolation { from: NodeId, what: &'static str },
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// A membership change was refused (`RawNode::propose_conf_change`).
    #[error("configuration change refused: {0}")]
    ConfChange(#[from] crate::conf::ConfChangeError),
}

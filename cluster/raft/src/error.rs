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
    BadCompaction { index: u64, first: u64, applied: u64 },
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
}

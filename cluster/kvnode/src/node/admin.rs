//! The admin protocol: membership changes a person or the harness asks of a
//! group (add a member with its address, remove one), what the node
//! answers, and the context a change carries in its log entry (the new
//! member's address, so every node learns where it is along with the
//! change). Admin requests travel in `Frame::AdminRequest` frames, encoded
//! with the RPC payload codec.

use faultline_raft::{ConfState, Index, NodeId};
use serde::{Deserialize, Serialize};

use crate::rpc;

/// A membership change asked of the group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdminRequest {
    /// Make node `id`, serving at `addr` (host:port), a voter.
    AddMember { id: NodeId, addr: String },
    /// Remove node `id` from the group.
    RemoveMember { id: NodeId },
}

impl AdminRequest {
    /// The node the change is about.
    pub fn node(&self) -> NodeId {
        match self {
            AdminRequest::AddMember { id, .. } | AdminRequest::RemoveMember { id } => *id,
        }
    }
}

/// A node's answer to an [`AdminRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdminResponse {
    /// The change is committed (or the group already was in the asked
    /// state, its latest change committed): the configuration now.
    Done { index: Index, conf: ConfState },
    /// This node is not the leader; ask `leader` if known.
    NotLeader { leader: Option<NodeId> },
    /// Not now, the same request may succeed later (an earlier change is
    /// not committed yet, the leader has not committed its no-op, or it
    /// lost leadership before the change was decided).
    Retry(String),
    /// The change makes no sense (e.g. removing the last voter).
    Refused(String),
}

/// What a membership change entry carries (its data): the address of the
/// member it adds. Empty data (a change proposed without context) decodes
/// to no address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberContext {
    pub addr: String,
}

impl MemberContext {
    pub fn encode(&self) -> Vec<u8> {
        rpc::encode_payload(self).unwrap_or_default()
    }

    /// The context of a change entry's data; `None` when empty or not one.
    pub fn decode(data: &[u8]) -> Option<MemberContext> {
        if data.is_empty() {
            return None;
        }
        rpc::decode_payload(data).ok()
    }
}

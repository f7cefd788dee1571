//! The client protocol: what a client sends to a kvnode inside an RPC
//! request frame, and what it gets back. Encoded with the RPC payload codec.

use faultline_raft::NodeId;
use serde::{Deserialize, Serialize};

use crate::kv::{Op, Reply};

/// A client request: one operation, identified for exactly-once by
/// (client id, seq). Gets carry them too but are never logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRequest {
    pub client_id: u64,
    pub seq: u64,
    pub op: Op,
}

/// A node's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientResponse {
    /// The operation took effect (or was read) with this reply.
    Ok(Reply),
    /// This node is not the leader; try `leader` if known. The operation
    /// did not enter a log through this request (or its entry was certainly
    /// overwritten).
    NotLeader { leader: Option<NodeId> },
    /// The write was proposed, then this node lost leadership (or installed a
    /// snapshot) before learning its fate: it may still apply. Retry with the
    /// same (client id, seq); the session table answers if it did.
    LostLeadership { leader: Option<NodeId> },
    /// The request's seq is older than the last one applied for this client:
    /// the client moved on, nobody waits for this answer.
    StaleSequence { last_seq: u64 },
    /// This node is not a member of the group (it was removed, or it joins
    /// and has not yet learned the change adding it): it serves nothing.
    /// The operation did not apply through this request; ask `leader`, or
    /// another member.
    NotMember { leader: Option<NodeId> },
    /// The node could not take the request (e.g. it is shutting down); the
    /// operation did not apply through this request.
    Unavailable(String),
}

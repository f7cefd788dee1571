//! The steps of the Raft model: what the network, the timers, the crash
//! nemesis, the clients and the operator (membership changes) may do next.

use faultline_raft::{ConfChange, Message, NodeId};

/// One step of the model.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Action {
    /// The network delivers a message (and forgets it).
    Deliver(Message),
    /// The network delivers a message and keeps a copy in flight
    /// (`--duplicating`).
    Duplicate(Message),
    /// The network loses a message (`--lossy`).
    Drop(Message),
    /// A follower's or candidate's election timer fires: it campaigns.
    Timeout(NodeId),
    /// A leader's heartbeat timer fires (the core ticks through one
    /// election period, sending heartbeats).
    Heartbeat(NodeId),
    /// A server crashes and restarts from its disk.
    Crash(NodeId),
    /// A client proposes a write of value `.1` at leader `.0`.
    Propose(NodeId, u8),
    /// A client asks leader `.0` for a ReadIndex read.
    Read(NodeId),
    /// Leader `.0` proposes a membership change (`--conf-changes`).
    ChangeConf(NodeId, ConfChange),
}

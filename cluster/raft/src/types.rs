//! The vocabulary shared by the core and everything that drives it: ids, log
//! entries, hard state, snapshots, messages and read states. These types cross
//! the wire (kvnode RPC), the disk (WAL) and the model checker (hashing), so
//! they derive serde, `Hash` and `Eq`, and every field matters.

use serde::{Deserialize, Serialize};

use crate::conf::ConfChange;

/// A server's id. Ids are small positive integers (1, 2, 3, ...).
pub type NodeId = u64;
/// A Raft term.
pub type Term = u64;
/// A log index; the first real entry has index 1, 0 means "none".
pub type Index = u64;

/// What a log entry carries.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EntryKind {
    /// A client command for the state machine.
    Normal,
    /// The empty entry a new leader appends to commit entries of older terms.
    Noop,
    /// A single-server membership change (`conf.rs`); the entry's data is
    /// the host's opaque context (empty unless given with
    /// `RawNode::propose_conf_change_with_context`). It takes effect on a node as soon as it is in its log.
    ConfChange(ConfChange),
}

/// One log entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Entry {
    pub term: Term,
    pub index: Index,
    pub kind: EntryKind,
    pub data: Vec<u8>,
}

/// The state that must be durable before a node speaks (Raft Figure 2: currentTerm,
/// votedFor) plus the commit index, which is cheap to persist and shortens recovery.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HardState {
    pub term: Term,
    pub vote: Option<NodeId>,
    pub commit: Index,
}

/// Describes the log prefix a snapshot replaces.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SnapshotMeta {
    /// Index of the last entry the snapshot covers.
    pub index: Index,
    /// Term of that entry.
    pub term: Term,
    /// The voters of the group at that point (empty: not recorded; a
    /// restart then takes the configured peers).
    pub voters: Vec<NodeId>,
    /// The learners of the group at that point.
    #[serde(default)]
    pub learners: Vec<NodeId>,
}

/// A state-machine snapshot: opaque bytes produced by the application.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Snapshot {
    pub meta: SnapshotMeta,
    pub data: Vec<u8>,
}

/// The result of a ReadIndex request: once the application has applied up to
/// `index`, it may serve the read identified by `ctx`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ReadState {
    pub index: Index,
    pub ctx: Vec<u8>,
}

/// The role a node plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Role {
    Follower,
    PreCandidate,
    Candidate,
    Leader,
}

/// Volatile state that is useful to the caller but never persisted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SoftState {
    pub role: Role,
    pub leader: Option<NodeId>,
}

/// A message between two Raft nodes. `term` is the sender's term, except for
/// PreVote, where it is the term the sender would campaign in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Message {
    pub from: NodeId,
    pub to: NodeId,
    pub term: Term,
    pub body: MessageBody,
}

/// The kinds of Raft messages.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum MessageBody {
    PreVote {
        last_log_index: Index,
        last_log_term: Term,
    },
    PreVoteResponse {
        reject: bool,
    },
    RequestVote {
        last_log_index: Index,
        last_log_term: Term,
    },
    RequestVoteResponse {
        reject: bool,
    },
    AppendEntries {
        prev_log_index: Index,
        prev_log_term: Term,
        entries: Vec<Entry>,
        commit: Index,
    },
    /// On success `index` is the highest index the follower now matches. On
    /// rejection `index` is the rejected `prev_log_index` and `hint` gives the
    /// conflicting term and the first index the follower holds of that term
    /// (fast backup), or its last index when its log is too short.
    AppendEntriesResponse {
        reject: bool,
        index: Index,
        hint: Option<(Term, Index)>,
    },
    /// Leader liveness and commit propagation; `ctx` carries a ReadIndex round.
    Heartbeat {
        commit: Index,
        ctx: Option<Vec<u8>>,
    },
    HeartbeatResponse {
        ctx: Option<Vec<u8>>,
    },
    InstallSnapshot {
        snapshot: Snapshot,
    },
}

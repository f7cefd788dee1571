//! STUB: the API of `RawNode`, to be implemented by the Raft core work.
//! Signatures are the contract other crates code against.

use crate::error::RaftError;
use crate::node::{Config, PersistedState, Ready, Status};
use crate::types::{Entry, Index, Message, NodeId, Term};

/// One Raft node's core. Clone + Hash + Eq so the model checker can store it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawNode {
    id: NodeId,
}

impl RawNode {
    /// Start (or restart) a node from what survived on disk.
    pub fn new(_config: Config, _persisted: PersistedState) -> Result<RawNode, RaftError> {
        todo!()
    }
    /// Advance logical time by one tick (election / heartbeat timers).
    pub fn tick(&mut self) {
        todo!()
    }
    /// Start an election now (tests and leadership transfer).
    pub fn campaign(&mut self) {
        todo!()
    }
    /// Feed a message received from a peer.
    pub fn step(&mut self, _msg: Message) -> Result<(), RaftError> {
        todo!()
    }
    /// Propose a command; returns the index it will have if it commits.
    pub fn propose(&mut self, _data: Vec<u8>) -> Result<Index, RaftError> {
        todo!()
    }
    /// Ask for a linearizable read point; the answer arrives as a `ReadState`
    /// with the same `ctx` in a later `Ready`.
    pub fn read_index(&mut self, _ctx: Vec<u8>) -> Result<(), RaftError> {
        todo!()
    }
    pub fn has_ready(&self) -> bool {
        todo!()
    }
    pub fn ready(&mut self) -> Ready {
        todo!()
    }
    /// Tell the core the caller has handled `ready` (persisted, sent, applied).
    pub fn advance(&mut self, _ready: Ready) {
        todo!()
    }
    /// The application has a snapshot of its state at `index` (<= applied):
    /// discard the log up to it.
    pub fn compact(&mut self, _index: Index, _data: Vec<u8>) -> Result<(), RaftError> {
        todo!()
    }
    pub fn status(&self) -> Status {
        todo!()
    }
    pub fn id(&self) -> NodeId {
        self.id
    }
    /// Term of the entry at `index`, if it is in the retained log or is the snapshot point.
    pub fn term_at(&self, _index: Index) -> Option<Term> {
        todo!()
    }
    /// The retained log entries (after the snapshot), in order.
    pub fn log_entries(&self) -> &[Entry] {
        todo!()
    }
}

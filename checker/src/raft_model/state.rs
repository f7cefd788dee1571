//! The state of the Raft model: every server's core and durable disk, the
//! network, the bounded counters, the ghost history and the clients.
//!
//! Everything derives `Hash` and `PartialEq` field by field (the cores'
//! own impls cover every field of theirs), so two states are merged by the
//! checker only when they are equal in every field that matters; a test
//! (`tests/model_state_hash.rs`) changes each field in turn to pin that.
//! Large parts sit behind `Arc`, so a step copies only what it changes.

use std::sync::Arc;

use faultline_raft::testkit::MemDisk;
use faultline_raft::{NodeId, RawNode, Role, Term};

use crate::raft_model::clients::Clients;
use crate::raft_model::ghost::Ghost;
use crate::raft_model::network::Network;

/// One server: its running core and what its disk holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Server {
    pub core: RawNode,
    /// What the server made durable; a restart starts from exactly this.
    pub disk: MemDisk,
}

/// A state of the model.
#[derive(Debug, Clone, PartialEq, Hash)]
pub struct ModelState {
    /// Server with id `k + 1` at `k`: the initial voters, then the spares.
    pub servers: Vec<Arc<Server>>,
    pub network: Network,
    /// Crashes (each followed by a restart) so far.
    pub crashes: u8,
    /// Client proposals accepted so far (proposal k writes value k).
    pub proposals: u8,
    /// Client reads started so far.
    pub reads: u8,
    /// Leader heartbeat timeouts so far.
    pub heartbeats: u8,
    /// Election timeouts so far (counted only when they are bounded).
    pub elections: u8,
    /// Membership changes proposed so far.
    pub conf_changes: u8,
    /// How many servers started as voters (ids 1..=initial_voters; the
    /// rest are spares). Fixed for a model; symmetry renames voters among
    /// voters and spares among spares (see `symmetry`).
    pub initial_voters: usize,
    pub ghost: Arc<Ghost>,
    pub clients: Arc<Clients>,
}

impl ModelState {
    /// The server with id `id` (ids start at 1).
    pub fn server(&self, id: NodeId) -> &Server {
        &self.servers[index_of(id)]
    }

    /// The lowest current term of any server.
    pub fn min_term(&self) -> Term {
        self.servers
            .iter()
            .map(|s| s.core.term())
            .min()
            .unwrap_or(0)
    }

    /// The ids of the servers that are leaders, lowest first.
    pub fn leaders(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.servers
            .iter()
            .filter(|s| s.core.role() == Role::Leader)
            .map(|s| s.core.id())
    }
}

/// The position of server `id` in `ModelState::servers`.
pub fn index_of(id: NodeId) -> usize {
    id as usize - 1
}

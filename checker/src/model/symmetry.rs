//! Symmetry reduction over server ids, as far as it is sound with the real
//! core.
//!
//! Full reduction (merging states that differ only by a renaming of the
//! servers) needs a canonical representative of each state, so every
//! server id inside each core would have to be rewritten: its own id, its
//! vote, its leader, the followers' progress records (kept in id order),
//! the votes of a campaign (kept in arrival order), the acks of pending
//! reads, and the RNG, which the core seeds from its id. `RawNode` keeps
//! all of that private and can only be built fresh from a disk, so a
//! renamed copy of a running core cannot be built: full reduction would
//! need a `RawNode::relabel(&self, map)` in `faultline-raft`.
//!
//! What is sound without it: while every server is still at term 0 with
//! nothing in flight (the initial state, possibly after crashes of fresh
//! servers), all servers are interchangeable, so only the lowest id needs
//! to act. Every behaviour whose first real move is made by server `n` is
//! a renaming of one whose first move is made by `n1`, and every property
//! of the model is invariant under renaming, so nothing is lost. The cores
//! behave the same under renaming in this model: the only id-dependent
//! input, the election-timeout RNG, matters only when followers tick, and
//! the model never ticks followers (see `raft_model`).

use crate::model::state::ModelState;

/// Whether every server is still interchangeable with every other: all at
/// term 0, nothing in flight, no client operation yet.
pub fn all_servers_interchangeable(state: &ModelState) -> bool {
    state.network.is_empty()
        && state.clients.invoked == 0
        && state.servers.iter().all(|s| s.core.term() == 0)
}

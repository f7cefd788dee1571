//! Symmetry reduction over server ids: states that differ only by the names
//! of the servers are explored once.
//!
//! After every step the model replaces the next state by a representative
//! of its class: the state with the servers renamed (`ModelState::relabel`,
//! on top of `faultline_raft::RawNode::relabel`) so that they are sorted by
//! a name-free signature, ties broken by trying every order of the tied
//! servers and keeping the renamed state with the smallest fingerprint.
//! Symmetric states (one a renaming of the other) get the same
//! representative, so the checker stores one of them.
//!
//! Why it is sound:
//! - *The core is equivariant.* `RawNode::relabel` is exact for cores
//!   seeded with `Config::id_independent_seed` (the model's), because the
//!   core never breaks a tie by id (see `faultline_raft::relabel`;
//!   `cluster/raft/tests/relabel.rs` runs random histories and their
//!   renamed twins side by side). The rest of the model keys everything
//!   by id too (the network is a set, ghost leaders and client operations
//!   name their server), so a renamed state steps to the renamed successors.
//! - *Every property is name-free*: election safety, log matching, ...,
//!   linearizability, and the goals, hold of a state iff of any renaming.
//!   (The text of a recorded violation names servers; it is kept as it is,
//!   which never merges states wrongly, since equal texts are required.)
//! - *So* exploring the representative instead of the state loses nothing:
//!   by induction on paths, every reachable state has a renaming among the
//!   explored ones. Any choice of representative inside the class would be
//!   sound; canonical choice only makes the reduction complete.
//!
//! Traces are found in renamed states; `real_path` replays them with the
//! names the initial state gave, so counterexamples read as one history.
//!
//! *Membership changes* (`--conf-changes`) keep this sound, adapted: the
//! model's servers are then not all alike, since the initial voters
//! (`Config::peers`, which the cores keep and a restart reads) are ids
//! 1..=servers and the spares are not among them. The renamings used are
//! those that map voters to voters and spares to spares: under them the
//! initial configuration, every core's `Config`, and so the whole model,
//! are unchanged, so the argument above holds for that smaller group.
//! `canonicalize` sorts each block separately, and the signature hashes
//! the server a membership entry names as "itself" or "another", so it
//! stays name-free. (A test checks the reduced space is exactly the
//! representatives of the full one with conf changes and a spare.)
//!
//! A cheaper part that needs no renaming stays in `model`
//! (`RaftModel::actions`): while every server is still at term 0 with
//! nothing in flight (the initial state, or
//! after crashes of fresh servers), all servers are interchangeable, so
//! only the lowest id is offered moves (the lowest voter, and the lowest
//! spare).

use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use faultline_raft::{ConfChange, Entry, EntryKind, NodeId, Renaming};

use crate::raft_model::action::Action;
use crate::raft_model::clients::Clients;
use crate::raft_model::ghost::Ghost;
use crate::raft_model::network::Network;
use crate::raft_model::state::{ModelState, Server, index_of};

/// Whether every server is still interchangeable with every other: all at
/// term 0, nothing in flight, no client operation yet.
pub fn all_servers_interchangeable(state: &ModelState) -> bool {
    state.network.is_empty()
        && state.clients.invoked == 0
        && state.servers.iter().all(|s| s.core.term() == 0)
}

fn fingerprint<T: Hash + ?Sized>(x: &T) -> u64 {
    BuildHasherDefault::<DefaultHasher>::default().hash_one(x)
}

impl ModelState {
    /// This state with every server id renamed by `r`: server `id` becomes
    /// server `r.apply(id)` (core, disk), and every id in the network, the
    /// ghost history and the clients' operations is renamed with it.
    /// `r` must only move ids of this state's servers.
    /// With spares, only renamings that map voters to voters and spares to
    /// spares are symmetries of the model (see the module docs).
    pub fn relabel(&self, r: &Renaming) -> ModelState {
        let group: Vec<NodeId> = self.servers.iter().map(|s| s.core.id()).collect();
        let mut servers = self.servers.clone();
        for s in &self.servers {
            let id = r.apply(s.core.id());
            let core = s
                .core
                .relabel_within(r, &group)
                .expect("renamings in the model move server ids only");
            servers[index_of(id)] = Arc::new(Server {
                core,
                disk: s.disk.relabel(r),
            });
        }
        let mut network = Network::default();
        for m in self.network.iter() {
            network.send(m.relabel(r));
        }
        let mut ghost: Ghost = (*self.ghost).clone();
        ghost.leaders.rename(|id| r.apply(id));
        for c in &mut ghost.committed {
            c.relabel(r);
        }
        let mut clients: Clients = (*self.clients).clone();
        for p in &mut clients.pending {
            p.node = r.apply(p.node);
        }
        ModelState {
            servers,
            network,
            crashes: self.crashes,
            proposals: self.proposals,
            reads: self.reads,
            heartbeats: self.heartbeats,
            elections: self.elections,
            conf_changes: self.conf_changes,
            initial_voters: self.initial_voters,
            ghost: Arc::new(ghost),
            clients: Arc::new(clients),
        }
    }
}

/// A name-free summary of server `k`: what it is, with the ids it holds
/// replaced by "itself", "another" or "none". Renaming the servers permutes
/// the signatures and changes none of them.
fn signature(state: &ModelState, k: usize) -> u64 {
    let s = &state.servers[k];
    let (core, disk) = (&s.core, &s.disk);
    let me = core.id();
    let rel = |x: Option<NodeId>| match x {
        None => 0u8,
        Some(v) if v == me => 1,
        Some(_) => 2,
    };
    let mut h = DefaultHasher::new();
    (
        core.term(),
        core.role(),
        rel(core.vote()),
        rel(core.leader()),
    )
        .hash(&mut h);
    hash_log(core.log_entries(), me, &mut h);
    (core.commit(), core.applied(), core.persisted_index()).hash(&mut h);
    let mut progress: Vec<(u64, u64)> = core.progress().iter().map(|p| (p.1, p.2)).collect();
    progress.sort_unstable();
    progress.hash(&mut h);
    (
        disk.hard_state.term,
        rel(disk.hard_state.vote),
        disk.hard_state.commit,
    )
        .hash(&mut h);
    hash_log(&disk.entries, me, &mut h);
    let sent = state.network.iter().filter(|m| m.from == me).count();
    let received = state.network.iter().filter(|m| m.to == me).count();
    (sent, received).hash(&mut h);
    h.finish()
}

/// Hash a log as `entries.hash` would, except that the server a
/// membership change names is hashed as "itself" or "another" (name-free).
/// Logs without membership changes hash exactly as before, so the runs
/// without `--conf-changes` keep their representatives.
fn hash_log(entries: &[Entry], me: NodeId, h: &mut DefaultHasher) {
    h.write_usize(entries.len());
    for e in entries {
        match e.kind {
            EntryKind::ConfChange(cc) => {
                let what = match cc {
                    ConfChange::AddVoter(_) => 0u8,
                    ConfChange::AddLearner(_) => 1,
                    ConfChange::Remove(_) => 2,
                };
                (e.term, e.index, what, cc.node() == me).hash(h);
            }
            _ => e.hash(h),
        }
    }
}

/// Every permutation of `items` (Heap's algorithm).
fn permutations(items: &[usize]) -> Vec<Vec<usize>> {
    fn heap(k: usize, a: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if k <= 1 {
            out.push(a.clone());
            return;
        }
        for i in 0..k {
            heap(k - 1, a, out);
            let j = if k.is_multiple_of(2) { i } else { 0 };
            a.swap(j, k - 1);
        }
    }
    let mut a = items.to_vec();
    let mut out = Vec::new();
    heap(a.len(), &mut a, &mut out);
    out.dedup();
    out
}

/// Above this many candidate orders a state is kept as it is (sound, just
/// less reduced): only states where most of 7 or more servers are alike.
const MAX_CANDIDATES: usize = 720;

/// The representative of `state`'s class, and the renaming that turns
/// `state` into it.
pub fn canonicalize(state: ModelState) -> (ModelState, Renaming) {
    let n = state.servers.len();
    let ids: Vec<NodeId> = state.servers.iter().map(|s| s.core.id()).collect();
    let sigs: Vec<u64> = (0..n).map(|k| signature(&state, k)).collect();
    // Within each block (the initial voters, then the spares), positions
    // sorted by signature; runs of equal signatures are ties. Blocks keep
    // their positions: a voter is never renamed into a spare.
    let voters = state.initial_voters.min(n);
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for block in [0..voters, voters..n] {
        let mut order: Vec<usize> = block.collect();
        order.sort_by_key(|&k| sigs[k]);
        let start = groups.len();
        for &k in &order {
            let in_block = groups.len() > start;
            match groups.last_mut() {
                Some(g) if in_block && sigs[g[0]] == sigs[k] => g.push(k),
                _ => groups.push(vec![k]),
            }
        }
    }
    let candidates: usize = groups
        .iter()
        .map(|g| (1..=g.len()).product::<usize>())
        .product();
    if candidates > MAX_CANDIDATES {
        return (
            state,
            Renaming::new([]).expect("the identity is a renaming"),
        );
    }
    // Each candidate lists old positions in new-position order.
    let mut orders: Vec<Vec<usize>> = vec![Vec::new()];
    for g in &groups {
        let perms = permutations(g);
        orders = orders
            .into_iter()
            .flat_map(|prefix| {
                perms.iter().map(move |p| {
                    let mut o = prefix.clone();
                    o.extend_from_slice(p);
                    o
                })
            })
            .collect();
    }
    let mut best: Option<(u64, ModelState, Renaming)> = None;
    for o in orders {
        // Old position o[k] takes the name of position k.
        let r = Renaming::new(o.iter().enumerate().map(|(k, &old)| (ids[old], ids[k])))
            .expect("an order of all positions is a permutation");
        let renamed = if o.iter().enumerate().all(|(k, &old)| k == old) {
            state.clone()
        } else {
            state.relabel(&r)
        };
        let fp = fingerprint(&renamed);
        if best.as_ref().is_none_or(|b| fp < b.0) {
            best = Some((fp, renamed, r));
        }
    }
    let (_, s, r) = best.expect("at least one order");
    (s, r)
}

/// An action with its server ids renamed.
pub fn relabel_action(a: &Action, r: &Renaming) -> Action {
    match a {
        Action::Deliver(m) => Action::Deliver(m.relabel(r)),
        Action::Duplicate(m) => Action::Duplicate(m.relabel(r)),
        Action::Drop(m) => Action::Drop(m.relabel(r)),
        Action::Timeout(n) => Action::Timeout(r.apply(*n)),
        Action::Heartbeat(n) => Action::Heartbeat(r.apply(*n)),
        Action::Crash(n) => Action::Crash(r.apply(*n)),
        Action::Propose(n, v) => Action::Propose(r.apply(*n), *v),
        Action::Read(n) => Action::Read(r.apply(*n)),
        Action::ChangeConf(n, cc) => Action::ChangeConf(
            r.apply(*n),
            match *cc {
                ConfChange::AddVoter(id) => ConfChange::AddVoter(r.apply(id)),
                ConfChange::AddLearner(id) => ConfChange::AddLearner(r.apply(id)),
                ConfChange::Remove(id) => ConfChange::Remove(r.apply(id)),
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutations_are_all_distinct_orders() {
        let p = permutations(&[4, 7, 9]);
        assert_eq!(p.len(), 6);
        let mut sorted = p.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 6);
        assert!(p.iter().all(|o| {
            let mut x = o.clone();
            x.sort();
            x == vec![4, 7, 9]
        }));
        assert_eq!(permutations(&[3]), vec![vec![3]]);
    }
}

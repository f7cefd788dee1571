//! Renaming servers: a `Renaming` is a permutation of server ids, and
//! `relabel` rewrites every id a value holds through it. The model checker
//! uses it for symmetry reduction (two states that differ only by the names
//! of the servers have the same futures, up to that renaming).
//!
//! `RawNode::relabel` is exact: the renamed node is equal (`Eq`) to the
//! node the renamed server would be after the renamed history, and behaves
//! the same from then on, up to the renaming. That holds because the core
//! never breaks a tie by comparing ids: it keeps `peers` and the
//! followers' progress in id order only to iterate them (which changes
//! the order of the messages in a `Ready`, never their set), counts votes
//! and read acknowledgements without looking at who gave them, and keys
//! everything else by id. The one input that does depend on the id is the
//! RNG, which `Rng::new` seeds from the id: renaming is exact for nodes
//! seeded with `Config::id_independent_seed`, whose streams do not depend
//! on the id (the RNG state is kept as it is). `tests/relabel.rs` runs
//! random histories and their renamed twins side by side to pin this.
//!
//! Pure data rewriting: no I/O, no allocation beyond the copies.

use crate::conf::ConfChange;
use crate::error::RaftError;
use crate::node::{PersistedState, Ready};
use crate::raw_node::RawNode;
use crate::types::{
    Entry, EntryKind, HardState, Message, MessageBody, NodeId, Snapshot, SoftState,
};

/// A permutation of server ids. Ids it does not mention keep their name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Renaming {
    /// (old, new) pairs, sorted by old id; the news are the olds reordered.
    pairs: Vec<(NodeId, NodeId)>,
}

impl Renaming {
    /// The renaming `old -> new` for each pair. Refused unless it is a
    /// permutation: the old ids are distinct, and the new ids are the same
    /// set as the old ones.
    pub fn new(pairs: impl IntoIterator<Item = (NodeId, NodeId)>) -> Result<Renaming, RaftError> {
        let mut pairs: Vec<(NodeId, NodeId)> = pairs.into_iter().collect();
        pairs.sort_unstable();
        let mut olds: Vec<NodeId> = pairs.iter().map(|p| p.0).collect();
        let mut news: Vec<NodeId> = pairs.iter().map(|p| p.1).collect();
        olds.dedup();
        news.sort_unstable();
        if olds.len() != pairs.len() || olds != news {
            return Err(RaftError::InvalidConfig(format!(
                "a renaming must be a permutation of server ids, got {pairs:?}"
            )));
        }
        Ok(Renaming { pairs })
    }

    /// The renaming of `ids[k]` to `ids[perm[k]]`, for the servers `ids`
    /// and a permutation `perm` of their positions.
    pub fn of_positions(ids: &[NodeId], perm: &[usize]) -> Result<Renaming, RaftError> {
        if perm.len() != ids.len() || perm.iter().any(|&p| p >= ids.len()) {
            return Err(RaftError::InvalidConfig(format!(
                "{perm:?} is not a permutation of {} positions",
                ids.len()
            )));
        }
        Renaming::new(ids.iter().zip(perm).map(|(&old, &p)| (old, ids[p])))
    }

    /// The new name of `id` (itself when the renaming does not move it).
    pub fn apply(&self, id: NodeId) -> NodeId {
        self.pairs.iter().find(|p| p.0 == id).map_or(id, |p| p.1)
    }

    /// The renaming that undoes this one.
    pub fn inverse(&self) -> Renaming {
        let mut pairs: Vec<(NodeId, NodeId)> = self.pairs.iter().map(|&(a, b)| (b, a)).collect();
        pairs.sort_unstable();
        Renaming { pairs }
    }

    /// Whether every id it moves is in `ids` (so it maps `ids` onto itself).
    pub fn moves_only(&self, ids: &[NodeId]) -> bool {
        self.pairs
            .iter()
            .all(|&(old, new)| old == new || ids.contains(&old))
    }

    fn opt(&self, id: Option<NodeId>) -> Option<NodeId> {
        id.map(|i| self.apply(i))
    }

    /// A sorted list of ids, renamed and sorted again.
    fn sorted(&self, ids: &[NodeId]) -> Vec<NodeId> {
        let mut out: Vec<NodeId> = ids.iter().map(|&i| self.apply(i)).collect();
        out.sort_unstable();
        out
    }
}

impl HardState {
    /// This hard state with the vote renamed.
    pub fn relabel(&self, r: &Renaming) -> HardState {
        HardState {
            term: self.term,
            vote: r.opt(self.vote),
            commit: self.commit,
        }
    }
}

impl SoftState {
    /// This soft state with the leader renamed.
    pub fn relabel(&self, r: &Renaming) -> SoftState {
        SoftState {
            role: self.role,
            leader: r.opt(self.leader),
        }
    }
}

impl Snapshot {
    /// This snapshot with its voters and learners renamed (the
    /// application's data is opaque and kept as it is).
    pub fn relabel(&self, r: &Renaming) -> Snapshot {
        let mut s = self.clone();
        s.meta.voters = r.sorted(&self.meta.voters);
        s.meta.learners = r.sorted(&self.meta.learners);
        s
    }
}

impl Entry {
    /// This entry with the server a membership change names renamed
    /// (other entries carry no ids).
    pub fn relabel(&self, r: &Renaming) -> Entry {
        let kind = match self.kind {
            EntryKind::ConfChange(cc) => EntryKind::ConfChange(match cc {
                ConfChange::AddVoter(id) => ConfChange::AddVoter(r.apply(id)),
                ConfChange::AddLearner(id) => ConfChange::AddLearner(r.apply(id)),
                ConfChange::Remove(id) => ConfChange::Remove(r.apply(id)),
            }),
            ref other => other.clone(),
        };
        Entry {
            kind,
            ..self.clone()
        }
    }
}

fn relabel_entries(entries: &[Entry], r: &Renaming) -> Vec<Entry> {
    entries.iter().map(|e| e.relabel(r)).collect()
}

impl Message {
    /// This message with sender, recipient and any ids it carries renamed.
    pub fn relabel(&self, r: &Renaming) -> Message {
        let body = match &self.body {
            MessageBody::InstallSnapshot { snapshot } => MessageBody::InstallSnapshot {
                snapshot: snapshot.relabel(r),
            },
            MessageBody::AppendEntries {
                prev_log_index,
                prev_log_term,
                entries,
                commit,
            } => MessageBody::AppendEntries {
                prev_log_index: *prev_log_index,
                prev_log_term: *prev_log_term,
                entries: relabel_entries(entries, r),
                commit: *commit,
            },
            other => other.clone(),
        };
        Message {
            from: r.apply(self.from),
            to: r.apply(self.to),
            term: self.term,
            body,
        }
    }
}

impl PersistedState {
    /// What the renamed server's disk would hold.
    pub fn relabel(&self, r: &Renaming) -> PersistedState {
        PersistedState {
            hard_state: self.hard_state.relabel(r),
            snapshot: self.snapshot.as_ref().map(|s| s.relabel(r)),
            entries: relabel_entries(&self.entries, r),
        }
    }
}

impl Ready {
    /// This Ready with every id renamed (messages keep their order).
    pub fn relabel(&self, r: &Renaming) -> Ready {
        Ready {
            soft_state: self.soft_state.as_ref().map(|s| s.relabel(r)),
            hard_state: self.hard_state.as_ref().map(|h| h.relabel(r)),
            entries: relabel_entries(&self.entries, r),
            snapshot: self.snapshot.as_ref().map(|s| s.relabel(r)),
            messages: self.messages.iter().map(|m| m.relabel(r)).collect(),
            persisted_messages: self
                .persisted_messages
                .iter()
                .map(|m| m.relabel(r))
                .collect(),
            committed_entries: relabel_entries(&self.committed_entries, r),
            read_states: self.read_states.clone(),
        }
    }
}

impl RawNode {
    /// This node as the server `r.apply(id)` of the renamed group: its own
    /// id, vote, known leader, the votes of a campaign, the leader's
    /// followers' progress, the acknowledgements of pending reads, queued
    /// messages, the configuration (voters, learners, the snapshot's and
    /// the membership changes in the log) are renamed; everything else
    /// (terms, log, cursors, timers, RNG state) is kept. Lists the core
    /// keeps in id order are sorted again; lists kept in arrival order keep
    /// their order. Refused when the renaming moves an id that is not a
    /// peer of this node. See the module docs for when this is exact.
    pub fn relabel(&self, r: &Renaming) -> Result<RawNode, RaftError> {
        if !r.moves_only(self.peers()) {
            return Err(RaftError::InvalidConfig(format!(
                "renaming {:?} moves ids that are not peers {:?}",
                r.pairs,
                self.peers()
            )));
        }
        Ok(self.relabel_unchecked(r))
    }

    /// `relabel` for a node of a group whose servers are `group` (voters,
    /// learners, joining and removed servers alike): refused when the
    /// renaming moves an id outside `group`. A node's current voters may
    /// leave out servers the renaming rightly moves (a server it removed,
    /// or one not yet added), which `relabel` would refuse.
    pub fn relabel_within(&self, r: &Renaming, group: &[NodeId]) -> Result<RawNode, RaftError> {
        if !r.moves_only(group) || !group.contains(&self.id()) {
            return Err(RaftError::InvalidConfig(format!(
                "renaming {:?} moves ids outside the group {group:?} of node {}",
                r.pairs,
                self.id()
            )));
        }
        Ok(self.relabel_unchecked(r))
    }
}

/// The field-by-field rewriting behind `RawNode::relabel`, for the state
/// machine's own fields (kept next to the struct definitions).
pub(crate) fn relabel_raft(raft: &crate::raft::Raft, r: &Renaming) -> crate::raft::Raft {
    let mut out = raft.clone();
    out.id = r.apply(raft.id);
    out.peers = r.sorted(&raft.peers);
    out.learners = r.sorted(&raft.learners);
    out.initial_voters = r.sorted(&raft.initial_voters);
    out.vote = r.opt(raft.vote);
    out.leader = r.opt(raft.leader);
    for v in &mut out.votes {
        v.0 = r.apply(v.0);
    }
    for p in &mut out.progress {
        p.id = r.apply(p.id);
    }
    out.progress.sort_by_key(|p| p.id);
    for req in &mut out.reads.pending {
        req.acks = r.sorted(&req.acks);
    }
    if let Some(l) = &mut out.lease {
        for round in &mut l.rounds {
            round.acks = r.sorted(&round.acks);
        }
    }
    out.msgs = raft.msgs.iter().map(|m| m.relabel(r)).collect();
    out.msgs_after = raft.msgs_after.iter().map(|m| m.relabel(r)).collect();
    out.log.relabel_ids(|v| r.sorted(v), |e| e.relabel(r));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_permutations_are_renamings() {
        assert!(Renaming::new([(1, 2), (2, 1)]).is_ok());
        assert!(Renaming::new([(1, 2), (2, 3), (3, 1)]).is_ok());
        assert!(Renaming::new([]).is_ok());
        assert!(Renaming::new([(1, 2)]).is_err(), "2 has no new name");
        assert!(Renaming::new([(1, 2), (3, 2)]).is_err(), "two ids onto one");
        assert!(Renaming::new([(1, 2), (1, 3), (2, 1)]).is_err());
        assert!(Renaming::of_positions(&[1, 2, 3], &[0, 0, 1]).is_err());
        assert!(Renaming::of_positions(&[1, 2, 3], &[0, 3, 1]).is_err());
    }

    #[test]
    fn apply_inverse_and_positions() {
        let r = Renaming::of_positions(&[4, 5, 6], &[2, 0, 1]).unwrap();
        assert_eq!((r.apply(4), r.apply(5), r.apply(6)), (6, 4, 5));
        assert_eq!(r.apply(9), 9, "ids it does not mention keep their name");
        let back = r.inverse();
        for id in [4, 5, 6, 9] {
            assert_eq!(back.apply(r.apply(id)), id);
        }
        assert!(r.moves_only(&[4, 5, 6]));
        assert!(!r.moves_only(&[4, 5]));
    }

    #[test]
    fn messages_and_disks_rename_every_id() {
        let r = Renaming::new([(1, 3), (3, 1)]).unwrap();
        let m = Message {
            from: 1,
            to: 2,
            term: 4,
            body: MessageBody::InstallSnapshot {
                snapshot: Snapshot {
                    meta: crate::types::SnapshotMeta {
                        index: 2,
                        term: 1,
                        voters: vec![1, 2, 3],
                        learners: vec![],
                    },
                    data: vec![1],
                },
            },
        };
        let renamed = m.relabel(&r);
        assert_eq!((renamed.from, renamed.to, renamed.term), (3, 2, 4));
        let disk = PersistedState {
            hard_state: HardState {
                term: 2,
                vote: Some(1),
                commit: 0,
            },
            snapshot: None,
            entries: vec![],
        };
        assert_eq!(disk.relabel(&r).hard_state.vote, Some(3));
        assert_eq!(disk.relabel(&r).relabel(&r.inverse()), disk);
    }

    #[test]
    fn membership_changes_rename_the_server_they_name() {
        let r = Renaming::new([(1, 3), (3, 1)]).unwrap();
        let change = |cc| Entry {
            term: 2,
            index: 4,
            kind: EntryKind::ConfChange(cc),
            data: vec![],
        };
        let m = Message {
            from: 1,
            to: 2,
            term: 2,
            body: MessageBody::AppendEntries {
                prev_log_index: 3,
                prev_log_term: 1,
                entries: vec![change(ConfChange::Remove(3))],
                commit: 3,
            },
        };
        let MessageBody::AppendEntries { entries, .. } = m.relabel(&r).body else {
            panic!("still an append");
        };
        assert_eq!(entries, vec![change(ConfChange::Remove(1))]);
        assert_eq!(
            change(ConfChange::AddLearner(2)).relabel(&r),
            change(ConfChange::AddLearner(2))
        );
    }
}

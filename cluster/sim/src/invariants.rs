//! The safety properties checked after every step of a simulation, from what
//! the nodes report through their `Ready` batches and `status()`:
//! Election Safety, Log Matching, Leader Completeness, State Machine Safety
//! and Leader Append-Only (the checks of `faultline_raft::testkit::safety`,
//! fed with the whole run's history), plus what only the simulator checks:
//! the application's state digests (snapshots and applies) and read
//! linearizability. (Liveness is judged by the runner, which knows when
//! faults heal.)

use std::collections::BTreeMap;
use std::fmt;

use faultline_raft::testkit::Formatter;
use faultline_raft::testkit::safety::{
    self, CommittedLog, Elections, LogMatching, PrefixHashes, Safety, leader_append_only,
    same_application,
};
use faultline_raft::{Entry, EntryKind, Index, NodeId, ReadState, Role, Term};

use super::node::AppState;

/// A property of Raft the simulator checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Property {
    /// At most one leader per term, over the whole run.
    ElectionSafety,
    /// Two logs holding an entry with the same index and term are identical up to it.
    LogMatching,
    /// Every committed entry is in the log of every later leader.
    LeaderCompleteness,
    /// No two nodes commit or apply different entries at one index.
    StateMachineSafety,
    /// A leader never overwrites or deletes entries of its log while leader of that term.
    LeaderAppendOnly,
    /// A ReadIndex result is at least every index acknowledged before the read began.
    ReadLinearizability,
    /// Once faults heal, a leader is elected and a proposal commits in bounded time.
    Liveness,
}

impl Property {
    pub fn name(self) -> &'static str {
        match self {
            Property::ElectionSafety => Safety::ElectionSafety.title(),
            Property::LogMatching => Safety::LogMatching.title(),
            Property::LeaderCompleteness => Safety::LeaderCompleteness.title(),
            Property::StateMachineSafety => Safety::StateMachineSafety.title(),
            Property::LeaderAppendOnly => Safety::LeaderAppendOnly.title(),
            Property::ReadLinearizability => "Read Linearizability",
            Property::Liveness => "Liveness",
        }
    }
}

impl From<Safety> for Property {
    fn from(s: Safety) -> Property {
        match s {
            Safety::ElectionSafety => Property::ElectionSafety,
            Safety::LogMatching => Property::LogMatching,
            Safety::LeaderCompleteness => Property::LeaderCompleteness,
            Safety::StateMachineSafety => Property::StateMachineSafety,
            Safety::LeaderAppendOnly => Property::LeaderAppendOnly,
        }
    }
}

impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A broken property and what broke it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breach {
    pub property: Property,
    pub detail: String,
}

impl From<safety::Breach> for Breach {
    fn from(b: safety::Breach) -> Breach {
        Breach {
            property: b.property.into(),
            detail: b.detail,
        }
    }
}

fn breach(property: Property, detail: String) -> Result<(), Breach> {
    Err(Breach { property, detail })
}

/// What one node looks like to the checker.
#[derive(Debug, Clone)]
struct NodeView {
    log: PrefixHashes,
    /// The term this node is leader of, if it is one.
    leader_of: Option<Term>,
    commit: Index,
}

/// The first applied entry at an index, against which every other node is compared.
#[derive(Debug, Clone)]
pub struct AppliedRecord {
    pub node: NodeId,
    pub entry: Entry,
    /// The applying node's state digest after applying it.
    pub digest: u64,
}

#[derive(Debug, Clone, Copy)]
struct PendingRead {
    node: NodeId,
    floor: Index,
}

/// Everything the checker remembers across the run.
#[derive(Debug, Clone)]
pub struct Invariants {
    views: Vec<NodeView>,
    elections: Elections,
    /// Every (index, term) seen in any log, with its prefix hash.
    logs: LogMatching,
    committed: CommittedLog,
    /// `applied[i - 1]`: the first application of index `i`.
    applied: Vec<AppliedRecord>,
    reads: BTreeMap<u64, PendingRead>,
}

impl Invariants {
    pub fn new(nodes: usize) -> Invariants {
        Invariants {
            views: vec![
                NodeView {
                    log: PrefixHashes::new(0, 0),
                    leader_of: None,
                    commit: 0
                };
                nodes
            ],
            elections: Elections::default(),
            logs: LogMatching::default(),
            committed: CommittedLog::default(),
            applied: Vec::new(),
            reads: BTreeMap::new(),
        }
    }

    fn view(&mut self, node: NodeId) -> &mut NodeView {
        &mut self.views[(node - 1) as usize]
    }

    /// The highest index any node has applied (and so acknowledged).
    pub fn max_applied(&self) -> Index {
        self.applied.len() as u64
    }

    /// How many client commands (not no-ops) were applied.
    pub fn applied_commands(&self) -> u64 {
        self.applied.iter().filter(|r| is_command(&r.entry)).count() as u64
    }

    /// The highest index known committed.
    pub fn max_committed(&self) -> Index {
        self.committed.max()
    }

    /// The entry first applied at `index`.
    pub fn applied_at(&self, index: Index) -> Option<&AppliedRecord> {
        if index == 0 {
            return None;
        }
        self.applied.get((index - 1) as usize)
    }

    /// The node restarted (or adopted a snapshot): its log is now `entries`
    /// after the snapshot point (`snap_index`, `snap_term`).
    pub fn reset_log(
        &mut self,
        node: NodeId,
        snap_index: Index,
        snap_term: Term,
        entries: &[Entry],
    ) -> Result<(), Breach> {
        let v = &mut self.views[(node - 1) as usize];
        v.log = self.logs.start(snap_index, snap_term);
        Ok(self.logs.extend(node, &mut v.log, entries)?)
    }

    /// The node crashed or restarted: it leads nothing now.
    pub fn forget_role(&mut self, node: NodeId, commit: Index) {
        let v = self.view(node);
        v.leader_of = None;
        v.commit = commit;
    }

    /// The node reports its role and term.
    pub fn on_role(&mut self, node: NodeId, role: Role, term: Term) -> Result<(), Breach> {
        if role != Role::Leader {
            self.view(node).leader_of = None;
            return Ok(());
        }
        if self.view(node).leader_of == Some(term) {
            return Ok(());
        }
        self.view(node).leader_of = Some(term);
        self.elections.elected(term, node)?;
        let log = &self.views[(node - 1) as usize].log;
        Ok(self
            .committed
            .leader_completeness(node, term, log, self.committed.max())?)
    }

    /// The node persisted `entries` (overwriting any suffix they conflict with).
    pub fn on_entries(&mut self, node: NodeId, entries: &[Entry]) -> Result<(), Breach> {
        let Some(first) = entries.first() else {
            return Ok(());
        };
        let v = &mut self.views[(node - 1) as usize];
        if let Some(term) = v.leader_of {
            leader_append_only(node, term, v.log.last(), first.index)?;
        }
        Ok(self.logs.extend(node, &mut v.log, entries)?)
    }

    /// The node's commit index is now `commit`.
    pub fn on_commit(&mut self, node: NodeId, commit: Index) -> Result<(), Breach> {
        let v = &mut self.views[(node - 1) as usize];
        let from = v.commit + 1;
        v.commit = commit;
        Ok(self.committed.commit(node, &v.log, from, commit)?)
    }

    /// The node applied `entry`, going from `before` to `after`.
    pub fn on_apply(
        &mut self,
        node: NodeId,
        entry: &Entry,
        before: AppState,
        after: AppState,
    ) -> Result<(), Breach> {
        if entry.index != before.applied + 1 {
            return breach(
                Property::StateMachineSafety,
                format!(
                    "n{node} applied index {} right after index {}",
                    entry.index, before.applied
                ),
            );
        }
        match self.applied.get((entry.index - 1) as usize) {
            Some(rec) => {
                same_application(
                    node,
                    entry,
                    (&rec.entry).into(),
                    Some(rec.node),
                    &Formatter::text(),
                )?;
                if rec.digest != after.digest {
                    return breach(
                        Property::StateMachineSafety,
                        format!(
                            "n{node}'s state after index {} differs from n{}'s (an earlier index diverged)",
                            entry.index, rec.node
                        ),
                    );
                }
                Ok(())
            }
            None => {
                self.applied.push(AppliedRecord {
                    node,
                    entry: entry.clone(),
                    digest: after.digest,
                });
                Ok(())
            }
        }
    }

    /// The node restored its state machine from a snapshot at `index`.
    pub fn on_restore(
        &mut self,
        node: NodeId,
        index: Index,
        state: Option<AppState>,
    ) -> Result<(), Breach> {
        let Some(state) = state else {
            return breach(
                Property::StateMachineSafety,
                format!("n{node} got an unreadable snapshot at index {index}"),
            );
        };
        if state.applied != index {
            return breach(
                Property::StateMachineSafety,
                format!(
                    "n{node} got a snapshot labelled index {index} of a state at index {}",
                    state.applied
                ),
            );
        }
        match self.applied_at(index) {
            Some(rec) if rec.digest != state.digest => breach(
                Property::StateMachineSafety,
                format!(
                    "n{node} restored a snapshot at index {index} whose state differs from what n{} applied",
                    rec.node
                ),
            ),
            Some(_) => Ok(()),
            None if index == 0 => Ok(()),
            None => breach(
                Property::StateMachineSafety,
                format!("n{node} restored a snapshot at index {index}, beyond anything applied"),
            ),
        }
    }

    /// A client asks `node` for a read point; it must be at least everything
    /// acknowledged so far.
    pub fn on_read_request(&mut self, id: u64, node: NodeId) {
        let floor = self.max_applied();
        self.reads.insert(id, PendingRead { node, floor });
    }

    /// `node` answered read `id` (decoded from the context) with `rs`.
    pub fn on_read_state(
        &mut self,
        node: NodeId,
        id: Option<u64>,
        rs: &ReadState,
    ) -> Result<(), Breach> {
        let Some(read) = id.and_then(|id| self.reads.remove(&id)) else {
            return breach(
                Property::ReadLinearizability,
                format!(
                    "n{node} answered a read nobody asked it (ctx {:?})",
                    String::from_utf8_lossy(&rs.ctx)
                ),
            );
        };
        if read.node != node {
            return breach(
                Property::ReadLinearizability,
                format!("n{node} answered a read that was sent to n{}", read.node),
            );
        }
        if rs.index < read.floor {
            return breach(
                Property::ReadLinearizability,
                format!(
                    "n{node} answered read {:?} with index {}, but index {} was acknowledged before the read began",
                    String::from_utf8_lossy(&rs.ctx),
                    rs.index,
                    read.floor
                ),
            );
        }
        Ok(())
    }

    /// Forgets a read the node refused.
    pub fn forget_read(&mut self, id: u64) {
        self.reads.remove(&id);
    }

    /// Forgets the reads pending at a crashed node.
    pub fn drop_reads_of(&mut self, node: NodeId) {
        self.reads.retain(|_, r| r.node != node);
    }
}

/// Whether an entry is a client command (not a leader's no-op).
pub fn is_command(entry: &Entry) -> bool {
    entry.kind == EntryKind::Normal
}

#[cfg(test)]
mod tests {
    use super::*;
    use faultline_raft::testkit::command as e;

    #[test]
    fn two_leaders_in_one_term_break_election_safety() {
        let mut inv = Invariants::new(3);
        inv.on_role(1, Role::Leader, 2).unwrap();
        inv.on_role(1, Role::Leader, 2).unwrap();
        let b = inv.on_role(2, Role::Leader, 2).unwrap_err();
        assert_eq!(b.property, Property::ElectionSafety);
    }

    #[test]
    fn same_index_and_term_with_different_prefixes_breaks_log_matching() {
        let mut inv = Invariants::new(2);
        inv.on_entries(1, &[e(1, 1, "a"), e(2, 2, "b")]).unwrap();
        let b = inv
            .on_entries(2, &[e(1, 1, "x"), e(2, 2, "b")])
            .unwrap_err();
        assert_eq!(b.property, Property::LogMatching);
    }

    #[test]
    fn a_leader_missing_a_committed_entry_breaks_completeness() {
        let mut inv = Invariants::new(3);
        inv.on_entries(1, &[e(1, 1, "a")]).unwrap();
        inv.on_commit(1, 1).unwrap();
        let b = inv.on_role(2, Role::Leader, 2).unwrap_err();
        assert_eq!(b.property, Property::LeaderCompleteness);
        inv.on_entries(3, &[e(1, 1, "a")]).unwrap();
        inv.on_role(3, Role::Leader, 3).unwrap();
    }

    #[test]
    fn a_leader_rewriting_its_log_breaks_append_only() {
        let mut inv = Invariants::new(1);
        inv.on_role(1, Role::Leader, 1).unwrap();
        inv.on_entries(1, &[e(1, 1, "a"), e(1, 2, "b")]).unwrap();
        let b = inv.on_entries(1, &[e(1, 2, "c")]).unwrap_err();
        assert_eq!(b.property, Property::LeaderAppendOnly);
    }

    #[test]
    fn different_applies_at_one_index_break_state_machine_safety() {
        let mut inv = Invariants::new(2);
        let s0 = AppState::default();
        let a = e(1, 1, "a");
        inv.on_apply(1, &a, s0, s0.after(&a)).unwrap();
        inv.on_apply(2, &a, s0, s0.after(&a)).unwrap();
        let b = e(1, 1, "b");
        let err = inv.on_apply(2, &b, s0, s0.after(&b)).unwrap_err();
        assert_eq!(err.property, Property::StateMachineSafety);
        assert!(inv.on_restore(2, 1, Some(s0.after(&a))).is_ok());
        assert!(inv.on_restore(2, 1, Some(s0.after(&b))).is_err());
    }

    #[test]
    fn a_stale_read_index_breaks_read_linearizability() {
        let mut inv = Invariants::new(2);
        let s0 = AppState::default();
        let a = e(1, 1, "a");
        inv.on_apply(1, &a, s0, s0.after(&a)).unwrap();
        inv.on_read_request(7, 2);
        let rs = ReadState {
            index: 0,
            ctx: b"r7".to_vec(),
        };
        assert_eq!(
            inv.on_read_state(2, Some(7), &rs).unwrap_err().property,
            Property::ReadLinearizability
        );
        inv.on_read_request(8, 2);
        let ok = ReadState {
            index: 1,
            ctx: b"r8".to_vec(),
        };
        inv.on_read_state(2, Some(8), &ok).unwrap();
    }
}

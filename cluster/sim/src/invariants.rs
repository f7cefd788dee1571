//! The safety properties checked after every step of a simulation, from what
//! the nodes report through their `Ready` batches and `status()`:
//! Election Safety, Log Matching, Leader Completeness, State Machine Safety,
//! Leader Append-Only and read linearizability. (Liveness is judged by the
//! runner, which knows when faults heal.)
//!
//! Logs are tracked as chains of prefix hashes: the hash at index `i` covers
//! every entry up to `i`, so two logs agree up to `i` iff their hashes at `i`
//! are equal. This makes every check O(1) per entry.

use std::collections::HashMap;
use std::fmt;

use faultline_raft::{Entry, EntryKind, Index, NodeId, ReadState, Role, Term};

use super::node::{AppState, entry_hash};
use super::rng::mix;
use super::trace::fmt_entry;

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
            Property::ElectionSafety => "Election Safety",
            Property::LogMatching => "Log Matching",
            Property::LeaderCompleteness => "Leader Completeness",
            Property::StateMachineSafety => "State Machine Safety",
            Property::LeaderAppendOnly => "Leader Append-Only",
            Property::ReadLinearizability => "Read Linearizability",
            Property::Liveness => "Liveness",
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

fn breach(property: Property, detail: String) -> Result<(), Breach> {
    Err(Breach { property, detail })
}

/// A node's log as prefix hashes: `hashes[k]` covers the log up to `base + k`.
#[derive(Debug, Clone)]
struct LogHashes {
    base: Index,
    hashes: Vec<u64>,
}

impl LogHashes {
    fn new(base: Index, base_hash: u64) -> LogHashes {
        LogHashes {
            base,
            hashes: vec![base_hash],
        }
    }

    fn last(&self) -> Index {
        self.base + self.hashes.len() as u64 - 1
    }

    fn hash_at(&self, index: Index) -> Option<u64> {
        if index < self.base {
            return None;
        }
        self.hashes.get((index - self.base) as usize).copied()
    }
}

/// What one node looks like to the checker.
#[derive(Debug, Clone)]
struct NodeView {
    log: LogHashes,
    /// The term this node is leader of, if it is one.
    leader_of: Option<Term>,
    commit: Index,
}

/// The first applied entry at an index, against which every other node is compared.
#[derive(Debug, Clone)]
pub struct AppliedRecord {
    pub node: NodeId,
    pub entry: Entry,
    pub hash: u64,
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
    leaders: HashMap<Term, NodeId>,
    /// Prefix hash of each (index, term) seen in any log, and who logged it first.
    prefixes: HashMap<(Index, Term), (u64, NodeId)>,
    /// Prefix hash at each committed index (0: not known); `committed[0]` is index 0.
    committed: Vec<u64>,
    max_committed: Index,
    /// `applied[i - 1]`: the first application of index `i`.
    applied: Vec<AppliedRecord>,
    reads: HashMap<u64, PendingRead>,
}

impl Invariants {
    pub fn new(nodes: usize) -> Invariants {
        Invariants {
            views: vec![
                NodeView {
                    log: LogHashes::new(0, 0),
                    leader_of: None,
                    commit: 0
                };
                nodes
            ],
            leaders: HashMap::new(),
            prefixes: HashMap::new(),
            committed: vec![0],
            max_committed: 0,
            applied: Vec::new(),
            reads: HashMap::new(),
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
        self.max_committed
    }

    /// The entry first applied at `index`.
    pub fn applied_at(&self, index: Index) -> Option<&AppliedRecord> {
        if index == 0 {
            return None;
        }
        self.applied.get((index - 1) as usize)
    }

    /// The prefix hash of a snapshot point, as some log held it.
    fn point_hash(&self, index: Index, term: Term) -> u64 {
        if index == 0 {
            return 0;
        }
        match self.prefixes.get(&(index, term)) {
            Some(&(h, _)) => h,
            None => mix(index, term),
        }
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
        let base = self.point_hash(snap_index, snap_term);
        self.view(node).log = LogHashes::new(snap_index, base);
        self.extend(node, entries)
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
        if let Some(&other) = self.leaders.get(&term)
            && other != node
        {
            return breach(
                Property::ElectionSafety,
                format!("n{node} became leader of term {term}, which n{other} already led"),
            );
        }
        self.leaders.insert(term, node);
        self.check_completeness(node, term)
    }

    fn check_completeness(&self, node: NodeId, term: Term) -> Result<(), Breach> {
        let c = self.max_committed;
        if c == 0 {
            return Ok(());
        }
        let log = &self.views[(node - 1) as usize].log;
        if log.last() < c {
            return breach(
                Property::LeaderCompleteness,
                format!(
                    "n{node} became leader of term {term} with last index {}, but index {c} was committed",
                    log.last()
                ),
            );
        }
        let at = c.max(log.base);
        let want = self.committed.get(at as usize).copied().unwrap_or(0);
        if want != 0 && log.hash_at(at) != Some(want) {
            return breach(
                Property::LeaderCompleteness,
                format!(
                    "n{node} became leader of term {term}, but its log differs from the committed log at or before index {at}"
                ),
            );
        }
        Ok(())
    }

    /// The node persisted `entries` (overwriting any suffix they conflict with).
    pub fn on_entries(&mut self, node: NodeId, entries: &[Entry]) -> Result<(), Breach> {
        let Some(first) = entries.first() else {
            return Ok(());
        };
        let v = self.view(node);
        if let Some(term) = v.leader_of
            && first.index <= v.log.last()
        {
            return breach(
                Property::LeaderAppendOnly,
                format!(
                    "n{node}, leader of term {term}, rewrote its log from index {} (last was {})",
                    first.index,
                    v.log.last()
                ),
            );
        }
        self.extend(node, entries)
    }

    fn extend(&mut self, node: NodeId, entries: &[Entry]) -> Result<(), Breach> {
        let Some(first) = entries.first() else {
            return Ok(());
        };
        let v = &mut self.views[(node - 1) as usize];
        if first.index <= v.log.base {
            // Entries covered by the snapshot point are not tracked.
            let skip = entries.iter().take_while(|e| e.index <= v.log.base).count();
            return self.extend(node, &entries[skip..]);
        }
        if first.index > v.log.last() + 1 {
            return breach(
                Property::LogMatching,
                format!(
                    "n{node} appended index {} after a gap (last {})",
                    first.index,
                    v.log.last()
                ),
            );
        }
        v.log.hashes.truncate((first.index - v.log.base) as usize);
        for e in entries {
            let v = &mut self.views[(node - 1) as usize];
            let prev = *v.log.hashes.last().unwrap_or(&0);
            let h = mix(prev, entry_hash(e));
            v.log.hashes.push(h);
            match self.prefixes.get(&(e.index, e.term)) {
                Some(&(seen, other)) if seen != h => {
                    let mut shown = String::new();
                    fmt_entry(&mut shown, e);
                    return breach(
                        Property::LogMatching,
                        format!(
                            "n{node} and n{other} both hold an entry at index {} term {} but their logs differ up to it (n{node} has {shown})",
                            e.index, e.term
                        ),
                    );
                }
                Some(_) => {}
                None => {
                    self.prefixes.insert((e.index, e.term), (h, node));
                }
            }
        }
        Ok(())
    }

    /// The node's commit index is now `commit`.
    pub fn on_commit(&mut self, node: NodeId, commit: Index) -> Result<(), Breach> {
        let idx = (node - 1) as usize;
        let from = self.views[idx].commit + 1;
        self.views[idx].commit = commit;
        for i in from..=commit {
            let Some(h) = self.views[idx].log.hash_at(i) else {
                continue;
            };
            if self.committed.len() <= i as usize {
                self.committed.resize(i as usize + 1, 0);
            }
            let known = self.committed[i as usize];
            if known == 0 {
                self.committed[i as usize] = h;
                self.max_committed = self.max_committed.max(i);
            } else if known != h {
                return breach(
                    Property::StateMachineSafety,
                    format!(
                        "n{node} committed index {i} with a log that differs from an earlier commit of index {i}"
                    ),
                );
            }
        }
        Ok(())
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
        let hash = entry_hash(entry);
        match self.applied.get((entry.index - 1) as usize) {
            Some(rec) if rec.hash != hash => {
                let (mut mine, mut theirs) = (String::new(), String::new());
                fmt_entry(&mut mine, entry);
                fmt_entry(&mut theirs, &rec.entry);
                breach(
                    Property::StateMachineSafety,
                    format!(
                        "n{node} applied {mine} at index {}, but n{} applied {theirs} there",
                        entry.index, rec.node
                    ),
                )
            }
            Some(rec) if rec.digest != after.digest => breach(
                Property::StateMachineSafety,
                format!(
                    "n{node}'s state after index {} differs from n{}'s (an earlier index diverged)",
                    entry.index, rec.node
                ),
            ),
            Some(_) => Ok(()),
            None => {
                self.applied.push(AppliedRecord {
                    node,
                    entry: entry.clone(),
                    hash,
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

    fn e(term: u64, index: u64, data: &str) -> Entry {
        Entry {
            term,
            index,
            kind: EntryKind::Normal,
            data: data.as_bytes().to_vec(),
        }
    }

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

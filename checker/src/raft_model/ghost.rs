//! Ghost state: the history the properties need that the servers themselves
//! do not keep. Which server led which term (the test kit's `Elections`),
//! every entry ever applied (the committed log as observed), and the first
//! violation of each invariant that is checked as steps happen. The checks
//! themselves are the test kit's (`faultline_raft::testkit::safety`).
//!
//! Ghost state splits states that the servers alone would not, so it is kept
//! as small as soundness allows (`normalize`): leaders of terms no server
//! can still reach are forgotten, and commit terms that every present and
//! future leader is past are folded to 0.

use faultline_raft::testkit::safety::{Elections, EntryView, same_application};
use faultline_raft::{ConfChange, Entry, EntryKind, NodeId, Renaming, Term};

use crate::raft_model::properties::Invariant;
use crate::raft_model::render::FORMAT;

/// An entry some server applied: committed, as far as the model observed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CommittedEntry {
    pub term: Term,
    pub kind: EntryKind,
    pub data: Vec<u8>,
    /// The term of the server that first applied it (the committing
    /// leader's term); 0 once every server is past it (see `normalize`).
    pub commit_term: Term,
    /// The voters of the configuration it was committed under: those of
    /// the first server to apply it (the leader that committed it, in the
    /// same step). `committed-entries-durable` asks a majority of them to
    /// hold it on disk.
    pub voters: Vec<NodeId>,
}

impl CommittedEntry {
    /// Whether `e` (at the same index) is this entry.
    pub fn same_entry(&self, e: &Entry) -> bool {
        EntryView::from(e) == self.view()
    }

    /// Rename the server ids it holds (a membership change's, the voters).
    pub fn relabel(&mut self, r: &Renaming) {
        if let EntryKind::ConfChange(cc) = self.kind {
            self.kind = EntryKind::ConfChange(match cc {
                ConfChange::AddVoter(id) => ConfChange::AddVoter(r.apply(id)),
                ConfChange::AddLearner(id) => ConfChange::AddLearner(r.apply(id)),
                ConfChange::Remove(id) => ConfChange::Remove(r.apply(id)),
            });
        }
        for v in &mut self.voters {
            *v = r.apply(*v);
        }
        self.voters.sort_unstable();
    }

    /// The entry, its index aside.
    pub fn view(&self) -> EntryView<'_> {
        EntryView {
            term: self.term,
            kind: &self.kind,
            data: &self.data,
        }
    }
}

/// The model's history variables.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Ghost {
    /// (term, leader) of every election still relevant.
    pub leaders: Elections,
    /// The committed log as observed through applies; index k + 1 at k.
    pub committed: Vec<CommittedEntry>,
    /// The first violation of each step-checked invariant, with what happened.
    pub violations: Vec<(Invariant, String)>,
    /// A client value was committed after some server had crashed.
    pub committed_after_crash: bool,
    /// A read returned a value some client wrote.
    pub read_returned_value: bool,
}

impl Ghost {
    /// The recorded violation of `inv`, if any.
    pub fn violation(&self, inv: Invariant) -> Option<&str> {
        self.violations
            .iter()
            .find(|(i, _)| *i == inv)
            .map(|(_, why)| why.as_str())
    }

    /// Record a violation (only the first of each invariant is kept).
    pub fn violate(&mut self, inv: Invariant, why: String) {
        if self.violation(inv).is_none() {
            self.violations.push((inv, why));
            self.violations.sort_by_key(|(i, _)| *i);
        }
    }

    pub fn value_committed(&self) -> bool {
        self.committed.iter().any(|c| c.kind == EntryKind::Normal)
    }

    /// Whether a membership change was committed.
    pub fn conf_change_committed(&self) -> bool {
        self.committed
            .iter()
            .any(|c| matches!(c.kind, EntryKind::ConfChange(_)))
    }

    /// `leader` became leader of `term`: election safety. (A recorded
    /// text is part of the state, so it keeps the model's own wording.)
    pub fn observe_leader(&mut self, term: Term, leader: NodeId) {
        if let Err(b) = self.leaders.elected(term, leader)
            && let Some(other) = self.leaders.rival(term, leader)
        {
            self.violate(
                b.property.into(),
                format!("n{leader} and n{other} were both elected leader of term {term}"),
            );
        }
    }

    /// Server `node`, now in `term`, with `voters` as its configuration's
    /// voters, applied `entry`: state machine safety. Returns whether the
    /// entry was news (committed for the first time).
    pub fn observe_apply(
        &mut self,
        node: NodeId,
        term: Term,
        voters: &[NodeId],
        entry: &Entry,
        crashed: bool,
    ) -> bool {
        let k = entry.index as usize - 1;
        if let Some(known) = self.committed.get(k) {
            if let Err(b) = same_application(node, entry, known.view(), None, &FORMAT) {
                self.violate(b.property.into(), b.detail);
            }
            return false;
        }
        if k != self.committed.len() {
            self.violate(
                Invariant::CoreContract,
                format!(
                    "n{node} applied index {} before index {}",
                    entry.index,
                    self.committed.len() + 1
                ),
            );
            return false;
        }
        if entry.kind == EntryKind::Normal && crashed {
            self.committed_after_crash = true;
        }
        self.committed.push(CommittedEntry {
            term: entry.term,
            kind: entry.kind.clone(),
            data: entry.data.clone(),
            commit_term: term,
            voters: voters.to_vec(),
        });
        true
    }

    /// Forget what can no longer matter, given the lowest current term of
    /// any server (terms never decrease, also across restarts).
    ///
    /// - No server can still be elected in a term below `min_term` (it
    ///   would need votes in that term), so those elections cannot clash
    ///   with a later one.
    /// - Leader completeness asks leaders of terms >= `commit_term` to hold
    ///   an entry; every present and future leader has a term >= `min_term`,
    ///   so any `commit_term <= min_term` asks the same as 0.
    pub fn normalize(&mut self, min_term: Term) {
        self.leaders.forget_terms_below(min_term);
        for c in &mut self.committed {
            if c.commit_term <= min_term {
                c.commit_term = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(index: u64, term: u64, v: u8) -> Entry {
        Entry {
            term,
            index,
            kind: EntryKind::Normal,
            data: vec![v],
        }
    }

    #[test]
    fn two_leaders_in_a_term_violate_election_safety() {
        let mut g = Ghost::default();
        g.observe_leader(1, 1);
        g.observe_leader(2, 2);
        g.observe_leader(1, 1);
        assert_eq!(g.violation(Invariant::ElectionSafety), None);
        g.observe_leader(2, 3);
        assert!(
            g.violation(Invariant::ElectionSafety)
                .unwrap()
                .contains("term 2")
        );
    }

    #[test]
    fn different_entries_at_one_index_violate_state_machine_safety() {
        let mut g = Ghost::default();
        assert!(g.observe_apply(1, 1, &[1, 2, 3], &entry(1, 1, 1), false));
        assert!(!g.observe_apply(2, 1, &[1, 2, 3], &entry(1, 1, 1), false));
        assert_eq!(g.violation(Invariant::StateMachineSafety), None);
        assert!(g.value_committed());
        assert!(!g.committed_after_crash);
        g.observe_apply(3, 2, &[1, 2, 3], &entry(1, 2, 2), true);
        let why = g.violation(Invariant::StateMachineSafety).unwrap();
        assert!(
            why.contains("(2,\"v2\")") && why.contains("(1,\"v1\")"),
            "{why}"
        );
        g.observe_apply(3, 2, &[1, 2, 3], &entry(3, 2, 2), true);
        assert!(
            g.violation(Invariant::CoreContract).is_some(),
            "a gap is refused"
        );
    }

    #[test]
    fn normalize_forgets_only_unreachable_history() {
        let mut g = Ghost::default();
        g.observe_leader(1, 1);
        g.observe_leader(2, 2);
        g.observe_apply(1, 1, &[1, 2, 3], &entry(1, 1, 1), true);
        g.observe_apply(2, 2, &[1, 2, 3], &entry(2, 2, 2), true);
        assert!(g.committed_after_crash);
        g.normalize(1);
        assert_eq!(g.leaders.iter().collect::<Vec<_>>(), vec![(1, 1), (2, 2)]);
        assert_eq!(g.committed[0].commit_term, 0);
        assert_eq!(g.committed[1].commit_term, 2);
        g.normalize(2);
        assert_eq!(g.leaders.iter().collect::<Vec<_>>(), vec![(2, 2)]);
        assert_eq!(g.committed[1].commit_term, 0);
    }
}

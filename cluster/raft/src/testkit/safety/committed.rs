//! The committed log as prefix hashes: State Machine Safety at commit (no
//! two nodes commit different logs up to an index) and Leader Completeness
//! (a leader holds the committed log).

use crate::testkit::hash::{entry_parts_hash, mix};
use crate::testkit::safety::logs::PrefixHashes;
use crate::testkit::safety::{Breach, Safety, breach};
use crate::types::{EntryKind, Index, NodeId, Term};

/// The prefix hash at each committed index (0: not known), and the highest
/// index known committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedLog {
    /// `hashes[i]` for index `i`; `hashes[0]` is index 0.
    hashes: Vec<u64>,
    max: Index,
}

impl Default for CommittedLog {
    fn default() -> Self {
        CommittedLog {
            hashes: vec![0],
            max: 0,
        }
    }
}

impl CommittedLog {
    /// The committed log made of these entries, from index 1 on (term,
    /// kind and data of each), chained as `PrefixHashes` chains a log.
    pub fn of_entries<'a>(
        entries: impl IntoIterator<Item = (Term, &'a EntryKind, &'a [u8])>,
    ) -> Self {
        let mut c = CommittedLog::default();
        let mut h = 0;
        for (term, kind, data) in entries {
            h = mix(h, entry_parts_hash(term, kind, data));
            c.hashes.push(h);
            c.max += 1;
        }
        c
    }

    /// The highest index known committed.
    pub fn max(&self) -> Index {
        self.max
    }

    /// `node`, whose log is `log`, now knows indexes `from..=to` committed:
    /// each must match what any node committed there before.
    pub fn commit(
        &mut self,
        node: NodeId,
        log: &PrefixHashes,
        from: Index,
        to: Index,
    ) -> Result<(), Breach> {
        for i in from..=to {
            let Some(h) = log.hash_at(i) else {
                continue;
            };
            if self.hashes.len() <= i as usize {
                self.hashes.resize(i as usize + 1, 0);
            }
            let known = self.hashes[i as usize];
            if known == 0 {
                self.hashes[i as usize] = h;
                self.max = self.max.max(i);
            } else if known != h {
                return breach(
                    Safety::StateMachineSafety,
                    format!(
                        "n{node} committed index {i} with a log that differs from an earlier commit of index {i}"
                    ),
                );
            }
        }
        Ok(())
    }

    /// Leader Completeness: `node`, leader of `term` with log `log`, must
    /// hold the committed log up to `upto` (every index committed before
    /// its term; `max()` when all of them were).
    pub fn leader_completeness(
        &self,
        node: NodeId,
        term: Term,
        log: &PrefixHashes,
        upto: Index,
    ) -> Result<(), Breach> {
        if upto == 0 {
            return Ok(());
        }
        if log.last() < upto {
            return breach(
                Safety::LeaderCompleteness,
                format!(
                    "n{node} became leader of term {term} with last index {}, but index {upto} was committed",
                    log.last()
                ),
            );
        }
        let at = upto.max(log.base());
        let want = self.hashes.get(at as usize).copied().unwrap_or(0);
        if want != 0 && log.hash_at(at) != Some(want) {
            return breach(
                Safety::LeaderCompleteness,
                format!(
                    "n{node} became leader of term {term}, but its log differs from the committed log at or before index {at}"
                ),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::command as e;
    use crate::testkit::safety::LogMatching;

    use super::*;

    #[test]
    fn a_leader_missing_a_committed_entry_breaks_completeness() {
        let mut lm = LogMatching::default();
        let mut c = CommittedLog::default();
        let (mut a, b, mut x) = (lm.start(0, 0), lm.start(0, 0), lm.start(0, 0));
        lm.extend(1, &mut a, &[e(1, 1, "a")]).unwrap();
        c.commit(1, &a, 1, 1).unwrap();
        assert_eq!(c.max(), 1);
        let short = c.leader_completeness(2, 2, &b, c.max()).unwrap_err();
        assert_eq!(short.property, Safety::LeaderCompleteness);
        lm.extend(3, &mut x, &[e(2, 1, "x")]).unwrap();
        let other = c.leader_completeness(3, 2, &x, c.max()).unwrap_err();
        assert!(other.detail.contains("differs"), "{other:?}");
        c.leader_completeness(1, 2, &a, c.max()).unwrap();
        let sms = c.commit(3, &x, 1, 1).unwrap_err();
        assert_eq!(sms.property, Safety::StateMachineSafety);
    }

    #[test]
    fn a_committed_log_of_entries_chains_like_a_log() {
        let mut lm = LogMatching::default();
        let mut a = lm.start(0, 0);
        let entries = [e(1, 1, "a"), e(1, 2, "b")];
        lm.extend(1, &mut a, &entries).unwrap();
        let c = CommittedLog::of_entries(entries.iter().map(|e| (e.term, &e.kind, &e.data[..])));
        assert_eq!(c.max(), 2);
        c.leader_completeness(1, 1, &a, 2).unwrap();
        let mut from_commits = CommittedLog::default();
        from_commits.commit(1, &a, 1, 2).unwrap();
        assert_eq!(from_commits, c);
    }
}

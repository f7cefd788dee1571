//! Logs as chains of prefix hashes, Log Matching over them, and Leader
//! Append-Only.

use std::collections::BTreeMap;

use crate::testkit::fmt::Formatter;
use crate::testkit::hash::{entry_hash, mix};
use crate::testkit::safety::{Breach, Safety, breach};
use crate::types::{Entry, Index, NodeId, Term};

/// A log as prefix hashes: `hash_at(base + k)` covers the log up to
/// `base + k`; `base` is the snapshot point the log starts after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixHashes {
    base: Index,
    hashes: Vec<u64>,
}

impl PrefixHashes {
    /// An empty log after the point `base` whose prefix hash is `base_hash`.
    pub fn new(base: Index, base_hash: u64) -> PrefixHashes {
        PrefixHashes {
            base,
            hashes: vec![base_hash],
        }
    }

    /// A whole log from index 1 on (no snapshot).
    pub fn of_log(entries: &[Entry]) -> PrefixHashes {
        let mut log = PrefixHashes::new(0, 0);
        for e in entries {
            log.put(e);
        }
        log
    }

    /// The snapshot point the log starts after.
    pub fn base(&self) -> Index {
        self.base
    }

    /// The last index (the base when there are no entries).
    pub fn last(&self) -> Index {
        self.base + self.hashes.len() as u64 - 1
    }

    /// The prefix hash at `index`, if the log reaches it (and not below the base).
    pub fn hash_at(&self, index: Index) -> Option<u64> {
        if index < self.base {
            return None;
        }
        self.hashes.get((index - self.base) as usize).copied()
    }

    /// Drop everything from `index` on, then chain `entry` at `index`.
    fn put(&mut self, entry: &Entry) -> u64 {
        self.hashes.truncate((entry.index - self.base) as usize);
        let prev = *self.hashes.last().unwrap_or(&0);
        let h = mix(prev, entry_hash(entry));
        self.hashes.push(h);
        h
    }
}

/// Log Matching: the prefix hash of every (index, term) seen in any log,
/// and which node logged it first. Two logs holding the same (index, term)
/// must hold the same prefix up to it.
#[derive(Debug, Clone, Default)]
pub struct LogMatching {
    seen: BTreeMap<(Index, Term), (u64, NodeId)>,
}

impl LogMatching {
    /// The prefix hash of a snapshot point, as some log held it.
    pub fn point_hash(&self, index: Index, term: Term) -> u64 {
        if index == 0 {
            return 0;
        }
        match self.seen.get(&(index, term)) {
            Some(&(h, _)) => h,
            None => mix(index, term),
        }
    }

    /// An empty log of `node` after the snapshot point (`index`, `term`).
    pub fn start(&self, index: Index, term: Term) -> PrefixHashes {
        PrefixHashes::new(index, self.point_hash(index, term))
    }

    /// `node` wrote `entries` to `log` (overwriting any suffix from the
    /// first of them): chain them and check each against every log seen.
    /// Entries covered by the snapshot point are not tracked.
    pub fn extend(
        &mut self,
        node: NodeId,
        log: &mut PrefixHashes,
        entries: &[Entry],
    ) -> Result<(), Breach> {
        let skip = entries.iter().take_while(|e| e.index <= log.base).count();
        let entries = &entries[skip..];
        let Some(first) = entries.first() else {
            return Ok(());
        };
        if first.index > log.last() + 1 {
            return breach(
                Safety::LogMatching,
                format!(
                    "n{node} appended index {} after a gap (last {})",
                    first.index,
                    log.last()
                ),
            );
        }
        for e in entries {
            let h = log.put(e);
            match self.seen.get(&(e.index, e.term)) {
                Some(&(seen, other)) if seen != h => {
                    return breach(
                        Safety::LogMatching,
                        format!(
                            "n{node} and n{other} both hold an entry at index {} term {} but their logs differ up to it (n{node} has {})",
                            e.index,
                            e.term,
                            Formatter::text().entry(e)
                        ),
                    );
                }
                Some(_) => {}
                None => {
                    self.seen.insert((e.index, e.term), (h, node));
                }
            }
        }
        Ok(())
    }
}

/// Leader Append-Only: `node`, leader of `term` with its log ending at
/// `last`, changed its log from index `first_changed` on.
pub fn leader_append_only(
    node: NodeId,
    term: Term,
    last: Index,
    first_changed: Index,
) -> Result<(), Breach> {
    if first_changed <= last {
        return breach(
            Safety::LeaderAppendOnly,
            format!(
                "n{node}, leader of term {term}, rewrote its log from index {first_changed} (last was {last})"
            ),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::testkit::command as e;

    use super::*;

    #[test]
    fn same_index_and_term_with_different_prefixes_breaks_log_matching() {
        let mut lm = LogMatching::default();
        let (mut a, mut b) = (lm.start(0, 0), lm.start(0, 0));
        lm.extend(1, &mut a, &[e(1, 1, "a"), e(2, 2, "b")]).unwrap();
        let breach = lm
            .extend(2, &mut b, &[e(1, 1, "x"), e(2, 2, "b")])
            .unwrap_err();
        assert_eq!(breach.property, Safety::LogMatching);
        assert!(breach.detail.contains("n2 and n1"), "{breach:?}");
    }

    #[test]
    fn equal_logs_agree_and_overwrites_rechain() {
        let mut lm = LogMatching::default();
        let (mut a, mut b) = (lm.start(0, 0), lm.start(0, 0));
        lm.extend(1, &mut a, &[e(1, 1, "a"), e(1, 2, "b")]).unwrap();
        lm.extend(2, &mut b, &[e(1, 1, "a"), e(2, 2, "c")]).unwrap();
        lm.extend(2, &mut b, &[e(1, 2, "b")]).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, PrefixHashes::of_log(&[e(1, 1, "a"), e(1, 2, "b")]));
        assert_eq!(a.last(), 2);
        let gap = lm.extend(1, &mut a, &[e(1, 4, "d")]).unwrap_err();
        assert!(gap.detail.contains("after a gap"), "{gap:?}");
    }

    #[test]
    fn a_log_after_a_snapshot_chains_from_its_point() {
        let mut lm = LogMatching::default();
        let mut a = lm.start(0, 0);
        lm.extend(1, &mut a, &[e(1, 1, "a"), e(1, 2, "b")]).unwrap();
        let mut b = lm.start(1, 1);
        assert_eq!(b.hash_at(1), a.hash_at(1));
        assert_eq!(b.hash_at(0), None);
        lm.extend(2, &mut b, &[e(1, 1, "a"), e(1, 2, "b")]).unwrap();
        assert_eq!(b.hash_at(2), a.hash_at(2));
        assert_eq!(lm.point_hash(0, 5), 0);
    }

    #[test]
    fn a_leader_rewriting_its_log_breaks_append_only() {
        assert!(leader_append_only(1, 1, 2, 3).is_ok());
        let b = leader_append_only(1, 1, 2, 2).unwrap_err();
        assert_eq!(b.property, Safety::LeaderAppendOnly);
    }
}

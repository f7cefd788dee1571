//! The in-memory shape of the durable log: the snapshot base and the term of
//! every entry after it (8 bytes per entry, no payloads). `Storage` uses it to
//! validate appends and to decide how a snapshot marker is written.

use std::collections::VecDeque;

use faultline_raft::{Index, Term};

/// Terms of the entries `base_index + 1 ..= last_index()`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TermLog {
    base_index: Index,
    base_term: Term,
    terms: VecDeque<Term>,
}

impl TermLog {
    /// A log whose entries after `(base_index, base_term)` have `terms`.
    pub fn new(base_index: Index, base_term: Term, terms: impl IntoIterator<Item = Term>) -> Self {
        TermLog {
            base_index,
            base_term,
            terms: terms.into_iter().collect(),
        }
    }

    /// Index of the snapshot the log starts after (0: none).
    pub fn base_index(&self) -> Index {
        self.base_index
    }

    /// Index of the last entry (or the base when empty).
    pub fn last_index(&self) -> Index {
        self.base_index + self.terms.len() as Index
    }

    /// The term at `index`, if the log knows it (the base counts).
    pub fn term_at(&self, index: Index) -> Option<Term> {
        if index == self.base_index {
            return Some(self.base_term);
        }
        if index < self.base_index || index > self.last_index() {
            return None;
        }
        self.terms
            .get((index - self.base_index - 1) as usize)
            .copied()
    }

    /// Discard entries at or after `first`, then append `terms` from `first`.
    /// The caller has checked `base_index < first <= last_index() + 1`.
    pub fn truncate_and_append(&mut self, first: Index, terms: impl IntoIterator<Item = Term>) {
        debug_assert!(first > self.base_index && first <= self.last_index() + 1);
        self.terms.truncate((first - self.base_index - 1) as usize);
        self.terms.extend(terms);
    }

    /// A snapshot at `(index, term)` the log matches: drop entries up to it.
    pub fn compact_to(&mut self, index: Index, term: Term) {
        let drop = index
            .saturating_sub(self.base_index)
            .min(self.terms.len() as Index);
        self.terms.drain(..drop as usize);
        self.base_index = index;
        self.base_term = term;
    }

    /// A snapshot at `(index, term)` the log does not match: drop everything.
    pub fn reset_to(&mut self, index: Index, term: Term) {
        self.terms.clear();
        self.base_index = index;
        self.base_term = term;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_compact_reset() {
        let mut log = TermLog::default();
        log.truncate_and_append(1, [1, 1, 2, 2]);
        assert_eq!(log.last_index(), 4);
        assert_eq!(log.term_at(3), Some(2));
        log.truncate_and_append(3, [3]);
        assert_eq!(log.last_index(), 3);
        assert_eq!(log.term_at(3), Some(3));
        log.compact_to(2, 1);
        assert_eq!((log.base_index(), log.last_index()), (2, 3));
        assert_eq!(log.term_at(2), Some(1));
        assert_eq!(log.term_at(1), None);
        log.reset_to(10, 4);
        assert_eq!((log.base_index(), log.last_index()), (10, 10));
        assert_eq!(log.term_at(10), Some(4));
    }
}

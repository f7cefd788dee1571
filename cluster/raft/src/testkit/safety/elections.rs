//! Election Safety: who was elected leader of which term.

use crate::testkit::safety::{Breach, Safety, breach};
use crate::types::{NodeId, Term};

/// Every (term, leader) observed, sorted. Hashes as the sorted vector.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Elections {
    won: Vec<(Term, NodeId)>,
}

impl Elections {
    /// `leader` became leader of `term`. Recorded in any case; a breach
    /// when another server was elected in that term.
    pub fn elected(&mut self, term: Term, leader: NodeId) -> Result<(), Breach> {
        let other = self.rival(term, leader);
        if let Err(pos) = self.won.binary_search(&(term, leader)) {
            self.won.insert(pos, (term, leader));
        }
        match other {
            Some(other) => breach(
                Safety::ElectionSafety,
                format!("n{leader} became leader of term {term}, which n{other} already led"),
            ),
            None => Ok(()),
        }
    }

    /// Another server recorded as elected in `term` than `leader` (the
    /// lowest such id), if any.
    pub fn rival(&self, term: Term, leader: NodeId) -> Option<NodeId> {
        self.won
            .iter()
            .find(|&&(t, l)| t == term && l != leader)
            .map(|&(_, l)| l)
    }

    /// Forget the elections of terms below `term` (no server can be elected
    /// in them any more, so they cannot clash with a later one).
    pub fn forget_terms_below(&mut self, term: Term) {
        self.won.retain(|&(t, _)| t >= term);
    }

    /// The lowest term recorded.
    pub fn oldest_term(&self) -> Option<Term> {
        self.won.first().map(|&(t, _)| t)
    }

    /// Rename every leader through `f` (a permutation of server ids).
    pub fn rename(&mut self, f: impl Fn(NodeId) -> NodeId) {
        for w in &mut self.won {
            w.1 = f(w.1);
        }
        self.won.sort_unstable();
    }

    /// The (term, leader) pairs, sorted.
    pub fn iter(&self) -> impl Iterator<Item = (Term, NodeId)> + '_ {
        self.won.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_leaders_in_one_term_break_election_safety() {
        let mut e = Elections::default();
        e.elected(1, 1).unwrap();
        e.elected(2, 2).unwrap();
        e.elected(1, 1).unwrap();
        let b = e.elected(2, 3).unwrap_err();
        assert_eq!(b.property, Safety::ElectionSafety);
        assert!(
            b.detail.contains("term 2") && b.detail.contains("n2"),
            "{b:?}"
        );
        assert_eq!(e.iter().collect::<Vec<_>>(), vec![(1, 1), (2, 2), (2, 3)]);
        e.forget_terms_below(2);
        assert_eq!(e.oldest_term(), Some(2));
        e.rename(|id| 4 - id);
        assert_eq!(e.iter().collect::<Vec<_>>(), vec![(2, 1), (2, 2)]);
    }
}

//! Choosing the nodes a fault hits: one random node, a random minority, or
//! the current leader (found through node status; a random node when no
//! leader answers). The kind of target is itself drawn from the seeded RNG.

use faultline_workloads::Db;
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// Which nodes to hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    One,
    Minority,
    Leader,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::One => "one",
            Target::Minority => "minority",
            Target::Leader => "leader",
        }
    }

    /// Draw a target kind.
    pub fn draw(rng: &mut ChaCha8Rng) -> Target {
        match rng.random_range(0..3) {
            0 => Target::One,
            1 => Target::Minority,
            _ => Target::Leader,
        }
    }
}

/// A random subset of `nodes` of size `(n - 1) / 2`: a strict minority, but
/// at least one node (so for one or two nodes it is one node).
pub fn minority(nodes: &[String], rng: &mut ChaCha8Rng) -> Vec<String> {
    let mut v = nodes.to_vec();
    v.shuffle(rng);
    v.truncate(((nodes.len().saturating_sub(1)) / 2).max(1));
    v.sort();
    v
}

/// The nodes `target` names in `db` now. In a system of several replica
/// groups (a sharded one) the target is drawn within one group, itself drawn
/// at random: "a minority" is a minority of that group and "the leader" its
/// leader, so no fault takes a majority of any group down at once.
pub fn resolve(target: Target, db: &dyn Db, rng: &mut ChaCha8Rng) -> Vec<String> {
    let groups = db.groups();
    let (nodes, several) = if groups.len() > 1 {
        (groups[rng.random_range(0..groups.len())].clone(), true)
    } else {
        (db.nodes(), false)
    };
    if nodes.is_empty() {
        return Vec::new();
    }
    // Draw even when unused, so the RNG stream does not depend on the leader.
    let random = nodes[rng.random_range(0..nodes.len())].clone();
    match target {
        Target::One => vec![random],
        Target::Minority => minority(&nodes, rng),
        Target::Leader if several => vec![group_leader(db, &nodes).unwrap_or(random)],
        Target::Leader => vec![db.leader().unwrap_or(random)],
    }
}

/// The member of `nodes` that answers as leader, if any.
pub(crate) fn group_leader(db: &dyn Db, nodes: &[String]) -> Option<String> {
    nodes
        .iter()
        .find(|n| db.status(n).is_ok_and(|s| s.role == "leader"))
        .cloned()
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::test_support::FakeDb;

    /// Two groups of three (`a1..a3`, `b1..b3`); `a2` and `b3` lead.
    fn two_groups() -> FakeDb {
        FakeDb::grouped(&["a", "b"], &["a2", "b3"], false)
    }

    #[test]
    fn with_several_groups_targets_stay_inside_one_group() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let db = two_groups();
        let mut leaders = std::collections::BTreeSet::new();
        for _ in 0..40 {
            let m = resolve(Target::Minority, &db, &mut rng);
            // A minority of one group of three is one node.
            assert_eq!(m.len(), 1, "{m:?}");
            let l = resolve(Target::Leader, &db, &mut rng);
            assert_eq!(l.len(), 1);
            leaders.insert(l[0].clone());
        }
        assert_eq!(
            leaders,
            ["a2", "b3"].iter().map(|s| s.to_string()).collect()
        );
    }

    #[test]
    fn minorities_are_strict_and_nonempty() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        for n in 1..=7usize {
            let nodes: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
            for _ in 0..20 {
                let m = minority(&nodes, &mut rng);
                assert!(!m.is_empty());
                assert!(n <= 2 || m.len() * 2 < n, "{m:?} of {n}");
                assert!(m.iter().all(|x| nodes.contains(x)));
            }
        }
    }
}

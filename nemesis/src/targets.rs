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

/// The nodes `target` names in `db` now.
pub fn resolve(target: Target, db: &dyn Db, rng: &mut ChaCha8Rng) -> Vec<String> {
    let nodes = db.nodes();
    if nodes.is_empty() {
        return Vec::new();
    }
    // Draw even when unused, so the RNG stream does not depend on the leader.
    let random = nodes[rng.random_range(0..nodes.len())].clone();
    match target {
        Target::One => vec![random],
        Target::Minority => minority(&nodes, rng),
        Target::Leader => vec![db.leader().unwrap_or(random)],
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

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

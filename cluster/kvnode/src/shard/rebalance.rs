//! Even, minimal-movement, deterministic assignment of shards to groups.
//!
//! With `n` shards and `g` groups every group gets `n / g` or `n / g + 1`
//! shards; the `n % g` larger quotas go to the groups that already own the
//! most shards (ties: smaller gid), which keeps the most shards in place.
//! A group keeps up to its quota of the shards it owns (the lowest shard
//! numbers first); the rest, plus shards of departed groups or of gid 0, are
//! handed in ascending order to the groups below quota, in gid order. Only
//! ordered containers are iterated, so every replica computes the same result.

use std::collections::{BTreeMap, BTreeSet};

use super::config::Gid;

/// Reassign `shards` among `groups` (empty: every shard goes to gid 0).
pub fn rebalance(shards: &mut [Gid], groups: &BTreeSet<Gid>) {
    if groups.is_empty() {
        shards.iter_mut().for_each(|s| *s = 0);
        return;
    }
    let n = shards.len();
    let g = groups.len();
    let mut owned: BTreeMap<Gid, usize> = groups.iter().map(|&gid| (gid, 0)).collect();
    for gid in shards.iter() {
        if let Some(c) = owned.get_mut(gid) {
            *c += 1;
        }
    }
    let mut order: Vec<(usize, Gid)> = owned.iter().map(|(&gid, &c)| (c, gid)).collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let quota: BTreeMap<Gid, usize> = order
        .iter()
        .enumerate()
        .map(|(i, &(_, gid))| (gid, n / g + usize::from(i < n % g)))
        .collect();
    let mut kept: BTreeMap<Gid, usize> = groups.iter().map(|&gid| (gid, 0)).collect();
    let mut free = Vec::new();
    for (s, gid) in shards.iter().enumerate() {
        match kept.get_mut(gid) {
            Some(k) if *k < quota[gid] => *k += 1,
            _ => free.push(s),
        }
    }
    let mut free = free.into_iter();
    for (&gid, k) in kept.iter_mut() {
        while *k < quota[&gid] {
            let s = free.next().expect("quotas sum to the shard count");
            shards[s] = gid;
            *k += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn counts(shards: &[Gid], groups: &BTreeSet<Gid>) -> Vec<usize> {
        groups
            .iter()
            .map(|g| shards.iter().filter(|s| *s == g).count())
            .collect()
    }

    /// The fewest shards that must change owner: `n` minus the most shards
    /// any even assignment keeps in place (brute force over who gets the
    /// larger quotas).
    fn lower_bound(before: &[Gid], groups: &[Gid]) -> usize {
        let n = before.len();
        let g = groups.len();
        let have: Vec<usize> = groups
            .iter()
            .map(|gid| before.iter().filter(|s| *s == gid).count())
            .collect();
        let mut best = 0;
        for mask in 0u32..(1 << g) {
            if mask.count_ones() as usize != n % g {
                continue;
            }
            let kept: usize = (0..g)
                .map(|i| have[i].min(n / g + usize::from(mask & (1 << i) != 0)))
                .sum();
            best = best.max(kept);
        }
        n - best
    }

    #[test]
    fn join_and_leave_examples() {
        let mut shards = vec![0; 10];
        rebalance(&mut shards, &BTreeSet::from([1]));
        assert_eq!(shards, vec![1; 10]);
        rebalance(&mut shards, &BTreeSet::from([1, 2]));
        assert_eq!(shards, vec![1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
        rebalance(&mut shards, &BTreeSet::from([1, 2, 3]));
        assert_eq!(counts(&shards, &BTreeSet::from([1, 2, 3])), vec![4, 3, 3]);
        rebalance(&mut shards, &BTreeSet::from([2, 3]));
        assert_eq!(counts(&shards, &BTreeSet::from([2, 3])), vec![5, 5]);
        rebalance(&mut shards, &BTreeSet::new());
        assert_eq!(shards, vec![0; 10]);
        // More groups than shards: every shard has its own group.
        let mut few = vec![0; 3];
        rebalance(&mut few, &BTreeSet::from([1, 2, 3, 4, 5]));
        assert_eq!(few.iter().collect::<BTreeSet<_>>().len(), 3);
    }

    proptest! {
        #[test]
        fn even_minimal_and_deterministic(
            n in 1usize..16,
            before_groups in proptest::collection::btree_set(1u64..8, 0..6),
            after_groups in proptest::collection::btree_set(1u64..8, 1..6),
            seed in proptest::collection::vec(0usize..8, 16),
        ) {
            // An arbitrary (even or not) starting assignment over the old
            // groups and gid 0.
            let old: Vec<Gid> = before_groups.iter().copied().collect();
            let before: Vec<Gid> = (0..n)
                .map(|s| if old.is_empty() { 0 } else {
                    let i = seed[s] % (old.len() + 1);
                    if i == old.len() { 0 } else { old[i] }
                })
                .collect();
            let mut after = before.clone();
            rebalance(&mut after, &after_groups);
            let c = counts(&after, &after_groups);
            prop_assert_eq!(c.iter().sum::<usize>(), n);
            prop_assert!(c.iter().max().unwrap() - c.iter().min().unwrap() <= 1, "{:?}", c);
            let moved = before.iter().zip(&after).filter(|(a, b)| a != b).count();
            let groups: Vec<Gid> = after_groups.iter().copied().collect();
            prop_assert_eq!(moved, lower_bound(&before, &groups));
            let mut again = before.clone();
            rebalance(&mut again, &after_groups);
            prop_assert_eq!(again, after);
        }
    }
}

//! The configuration changes `shard-move` makes: a [`Change`] (Leave, Join,
//! Move), the seeded draw of a fault's change from the configuration now,
//! the change that undoes it, its description for the history, and the
//! shards that changed owner between two configurations.

use faultline_workloads::{ShardControl, ShardLayout};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::error::NemesisError;

/// One configuration change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Remove a group: every shard it owns moves away.
    Leave(u64),
    /// Add groups (again); the controller rebalances.
    Join(Vec<u64>),
    /// Give one shard to a group.
    Move { shard: usize, to: u64 },
}

impl Change {
    pub(super) fn describe(&self) -> Value {
        match self {
            Change::Leave(g) => json!({"op": "leave", "gids": [g]}),
            Change::Join(gids) => json!({"op": "join", "gids": gids}),
            Change::Move { shard, to } => json!({"op": "move", "shard": shard, "gid": to}),
        }
    }

    pub(super) fn apply(&self, ctl: &dyn ShardControl) -> Result<u64, NemesisError> {
        Ok(match self {
            Change::Leave(g) => ctl.leave(&[*g])?,
            Change::Join(gids) => ctl.join(gids)?,
            Change::Move { shard, to } => ctl.move_shard(*shard, *to)?,
        })
    }
}

/// The change a fault makes, given the configuration now: with two or more
/// groups joined, a Leave of one of them or a Move of a random shard to a
/// random other joined group (even odds); `None` when nothing can move
/// (fewer than two groups joined).
pub fn draw_change(layout: &ShardLayout, rng: &mut ChaCha8Rng) -> Option<Change> {
    let joined = &layout.joined;
    if joined.len() < 2 || layout.owners.is_empty() {
        return None;
    }
    if rng.random_bool(0.5) {
        return Some(Change::Leave(joined[rng.random_range(0..joined.len())]));
    }
    let shard = rng.random_range(0..layout.owners.len());
    let others: Vec<u64> = joined
        .iter()
        .copied()
        .filter(|&g| g != layout.owners[shard])
        .collect();
    Some(Change::Move {
        shard,
        to: others[rng.random_range(0..others.len())],
    })
}

/// The change that undoes `change`, made when the configuration was
/// `before`: a left group joins again; a moved shard goes back to its
/// previous owner (`None` when that shard was unassigned).
pub fn undo(change: &Change, before: &ShardLayout) -> Option<Change> {
    match change {
        Change::Leave(g) => Some(Change::Join(vec![*g])),
        Change::Join(_) => None,
        Change::Move { shard, .. } => {
            let from = before.owners.get(*shard).copied().unwrap_or(0);
            (from != 0).then_some(Change::Move {
                shard: *shard,
                to: from,
            })
        }
    }
}

/// The shards that changed owner between two configurations, as
/// `{"shard","from","to"}` objects.
pub fn moved(before: &ShardLayout, after: &ShardLayout) -> Vec<Value> {
    (0..after.owners.len())
        .filter_map(|s| {
            let from = before.owners.get(s).copied().unwrap_or(0);
            let to = after.owners[s];
            (from != to).then(|| json!({"shard": s, "from": from, "to": to}))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use rand::SeedableRng;

    use super::*;
    use crate::shard_move::fake::layout;

    fn balanced() -> ShardLayout {
        layout(3, &[1, 1, 1, 1, 2, 2, 2, 3, 3, 3], &[1, 2, 3])
    }

    fn draws(seed: u64, l: &ShardLayout, n: usize) -> Vec<Change> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n).map(|_| draw_change(l, &mut rng).unwrap()).collect()
    }

    #[test]
    fn draws_are_seeded_and_deterministic() {
        let l = balanced();
        assert_eq!(draws(7, &l, 50), draws(7, &l, 50));
        assert_ne!(draws(7, &l, 50), draws(8, &l, 50));
    }

    #[test]
    fn draws_leave_and_move_and_never_move_a_shard_to_its_owner() {
        let l = balanced();
        let all = draws(1, &l, 200);
        let leaves = all.iter().filter(|c| matches!(c, Change::Leave(_))).count();
        assert!((60..=140).contains(&leaves), "{leaves} leaves of 200");
        let left: BTreeSet<u64> = all
            .iter()
            .filter_map(|c| match c {
                Change::Leave(g) => Some(*g),
                _ => None,
            })
            .collect();
        assert_eq!(left, BTreeSet::from([1, 2, 3]));
        for c in &all {
            if let Change::Move { shard, to } = c {
                assert!(*shard < 10);
                assert_ne!(l.owners[*shard], *to, "{c:?}");
                assert!(l.joined.contains(to), "{c:?}");
            }
        }
    }

    #[test]
    fn nothing_moves_with_fewer_than_two_groups_joined() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let one = layout(1, &[1; 10], &[1]);
        assert_eq!(draw_change(&one, &mut rng), None);
        let none = layout(0, &[0; 10], &[]);
        assert_eq!(draw_change(&none, &mut rng), None);
        // Two groups: a Leave never takes the last group, a Move goes to the other.
        let two = layout(2, &[1, 1, 1, 1, 1, 2, 2, 2, 2, 2], &[1, 2]);
        for c in draws(4, &two, 50) {
            match c {
                Change::Leave(g) => assert!(g == 1 || g == 2),
                Change::Move { shard, to } => assert_eq!(to, 3 - two.owners[shard]),
                Change::Join(_) => panic!("a start never joins"),
            }
        }
    }

    #[test]
    fn undo_joins_a_left_group_and_moves_a_shard_back() {
        let l = balanced();
        assert_eq!(undo(&Change::Leave(2), &l), Some(Change::Join(vec![2])));
        assert_eq!(
            undo(&Change::Move { shard: 8, to: 1 }, &l),
            Some(Change::Move { shard: 8, to: 3 })
        );
        let unassigned = layout(0, &[0; 10], &[]);
        assert_eq!(undo(&Change::Move { shard: 0, to: 1 }, &unassigned), None);
        assert_eq!(undo(&Change::Join(vec![1]), &l), None);
    }

    #[test]
    fn moved_lists_the_shards_that_changed_owner() {
        let before = balanced();
        let after = layout(4, &[1, 1, 1, 1, 1, 1, 3, 3, 3, 3], &[1, 3]);
        let m = moved(&before, &after);
        assert_eq!(
            m,
            vec![
                json!({"shard": 4, "from": 2, "to": 1}),
                json!({"shard": 5, "from": 2, "to": 1}),
                json!({"shard": 6, "from": 2, "to": 3}),
            ]
        );
    }
}

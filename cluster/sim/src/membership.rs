//! Membership changes in random runs (`SimOptions::conf_changes`): the
//! operator that asks leaders for single-server changes. Now and then (a
//! timer) it asks a running leader to add a server outside its voters (a
//! spare, or one removed earlier) or to remove a voter, keeping between
//! `MIN_VOTERS` and every node as voters; and with `EAGER` probability it
//! asks a freshly elected leader at once, before its no-op can commit:
//! the window of the 2015 single-server change bug (`reconfig-no-noop`),
//! which a correct core refuses.
//!
//! Its randomness is a stream of its own, created only when membership
//! changes are on, so runs without them draw exactly what they drew
//! before.

use faultline_raft::{ConfChange, NodeId, Term};

use crate::rng::Rng;
use crate::world::{TICK, World};

/// The fewest voters the operator leaves (fewer with fewer servers).
pub const MIN_VOTERS: usize = 3;

/// Probability that a newly elected leader is asked for a change at once.
pub const EAGER: f64 = 0.5;

/// The operator of one seed.
#[derive(Debug, Clone)]
pub struct Operator {
    rng: Rng,
    min_voters: usize,
    /// Per node: the last term it was seen leading.
    seen_leading: Vec<Option<Term>>,
}

impl Operator {
    /// The operator of `seed` for a group of `voters` initial voters among
    /// `nodes` nodes.
    pub fn new(seed: u64, voters: usize, nodes: usize) -> Operator {
        Operator {
            rng: Rng::new(seed, 7),
            min_voters: MIN_VOTERS.min(voters),
            seen_leading: vec![None; nodes],
        }
    }

    /// Virtual time until the next timed change.
    pub fn next_gap(&mut self) -> u64 {
        self.rng.range(5 * TICK, 40 * TICK)
    }

    /// The timer fired: ask a running leader (if any) for a change.
    pub fn act(&mut self, world: &mut World) {
        let leaders = world.leaders();
        if leaders.is_empty() {
            return;
        }
        let leader = leaders[self.rng.index(leaders.len())];
        self.change_at(world, leader);
    }

    /// After a step: ask each leader not seen leading in its term before,
    /// with probability `EAGER`, for a change at once.
    pub fn after_step(&mut self, world: &mut World) {
        for i in world.leaders() {
            let term = world.nodes[i].term;
            if self.seen_leading[i] == Some(term) {
                continue;
            }
            self.seen_leading[i] = Some(term);
            if self.rng.chance(EAGER) {
                self.change_at(world, i);
            }
        }
    }

    /// Ask node `i` for one change drawn among those the bounds allow
    /// (the core may still refuse it: one change at a time, and only after
    /// the leader committed an entry of its term).
    fn change_at(&mut self, world: &mut World, i: usize) {
        let Some(voters) = world.voters_of(i).map(<[NodeId]>::to_vec) else {
            return;
        };
        let mut choices: Vec<ConfChange> = Vec::new();
        if voters.len() > self.min_voters {
            choices.extend(voters.iter().map(|&v| ConfChange::Remove(v)));
        }
        choices.extend(
            (1..=world.size() as NodeId)
                .filter(|id| !voters.contains(id))
                .map(ConfChange::AddVoter),
        );
        if choices.is_empty() {
            return;
        }
        let change = choices[self.rng.index(choices.len())];
        let _ = world.change_conf(i, change);
    }
}

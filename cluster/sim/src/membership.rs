//! Membership changes in random runs (`SimOptions::conf_changes`): the
//! operator that asks leaders for single-server changes. Now and then (a
//! timer) it asks a running leader to add a server outside its voters (a
//! spare, or one removed earlier) or to remove a voter, keeping between
//! `MIN_VOTERS` and every node as voters; and with `EAGER` probability it
//! asks a freshly elected leader at once, before its no-op can commit:
//! the window of the 2015 single-server change bug (`reconfig-no-noop`),
//! which a correct core refuses.
//!
//! With `RACE` probability a timed change instead starts the targeted
//! pattern of `reconfig_race` (the 2015 bug's shape: overlapping changes
//! of two leaders on the two sides of a split); while it runs, the
//! operator makes no other change and the fault schedule pauses (`busy`).
//!
//! Its randomness is a stream of its own, created only when membership
//! changes are on, so runs without them draw exactly what they drew
//! before.

use faultline_raft::{ConfChange, NodeId, Term};

use crate::reconfig_race::Race;
use crate::rng::Rng;
use crate::world::{TICK, World};

/// The fewest voters the operator leaves (fewer with fewer servers).
pub const MIN_VOTERS: usize = 3;

/// Probability that a newly elected leader is asked for a change at once.
pub const EAGER: f64 = 0.5;

/// Probability that a timed change starts the `reconfig_race` pattern.
pub const RACE: f64 = 0.5;

/// The operator of one seed.
#[derive(Debug, Clone)]
pub struct Operator {
    rng: Rng,
    min_voters: usize,
    /// Per node: the last term it was seen leading.
    seen_leading: Vec<Option<Term>>,
    /// The `reconfig_race` pattern, while it runs.
    race: Option<Race>,
}

impl Operator {
    /// The operator of `seed` for a group of `voters` initial voters among
    /// `nodes` nodes.
    pub fn new(seed: u64, voters: usize, nodes: usize) -> Operator {
        Operator {
            rng: Rng::new(seed, 7),
            min_voters: MIN_VOTERS.min(voters),
            seen_leading: vec![None; nodes],
            race: None,
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
        if self.race.is_some() {
            return;
        }
        if self.rng.chance(RACE) {
            self.race = Race::start(world, &mut self.rng, leader);
            if self.race.is_some() {
                return;
            }
        }
        self.change_at(world, leader);
    }

    /// Whether the `reconfig_race` pattern is running (the runner then
    /// holds the fault schedule back).
    pub fn busy(&self) -> bool {
        self.race.is_some()
    }

    /// After a step: ask each leader not seen leading in its term before,
    /// with probability `EAGER`, for a change at once.
    pub fn after_step(&mut self, world: &mut World) {
        if let Some(race) = self.race.as_mut()
            && !race.advance(world, &mut self.rng)
        {
            self.race = None;
        }
        for i in world.leaders() {
            let term = world.nodes[i].term;
            if self.seen_leading[i] == Some(term) {
                continue;
            }
            self.seen_leading[i] = Some(term);
            if self.race.is_none() && self.rng.chance(EAGER) {
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

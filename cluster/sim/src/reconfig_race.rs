//! The membership operator's targeted pattern (`membership::Operator`): the
//! shape of the 2015 single-server change bug, driven through the network
//! the way the fault schedule drives Figure 8. Its steps:
//!
//! 1. *Prepare*: a leader whose group has an odd number of voters is asked
//!    to remove a follower (or, with 3, to add an outsider), so that the
//!    group has an even number `2k >= 4` of voters once that commits (two
//!    single-server changes of an odd group always share a majority).
//! 2. *Add*: that leader L, having committed an entry of its term, adds an
//!    outsider S; at once the network is split into {L, S} and the others,
//!    so only S holds the change.
//! 3. *Split*: when one of the others, M, leads a later term (elected by
//!    `k + 1` of the `2k - 1` others), M is asked at once, before its no-op
//!    commits, to remove L, and the network is split again: M with `k - 1`
//!    of the others (a majority of the group without L) against L, S and
//!    the remaining `k - 1` (which, with L and S, are a majority of the
//!    group with S). A correct core refuses M's change; a core with
//!    `reconfig-no-noop` commits it on M's side while L or S wins the next
//!    term on the other and commits "add S" at the same index.
//!
//! The split is then held for a while (the fault schedule pauses while the
//! pattern runs) and handed back to the schedule. Each step gives up after
//! `STEP_TIMEOUT` ticks (nodes crashed, a leader lost, no election).

use faultline_raft::{ConfChange, NodeId, Role, Term};

use crate::rng::Rng;
use crate::world::{TICK, World};

/// Ticks a step may wait for what it needs before the pattern gives up.
pub const STEP_TIMEOUT: u64 = 60;
/// Ticks the final split is held before the schedule takes over again.
pub const HOLD: u64 = 80;

/// Where a run of the pattern is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// Leader `leader` (node index) was asked to make the group even.
    Prepare { leader: usize },
    /// Leader `old` of term `term` added `spare`; `others` are the rest of
    /// the group (node indices).
    Added {
        old: usize,
        term: Term,
        spare: usize,
        others: Vec<usize>,
    },
    /// The final split is held until `until` (virtual time).
    Split { until: u64 },
}

/// One run of the pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Race {
    step: Step,
    /// When the current step began (virtual time).
    since: u64,
}

/// Node indices of the voters of node `i`'s configuration.
fn voter_indices(world: &World, i: usize) -> Option<Vec<usize>> {
    world
        .voters_of(i)
        .map(|v| v.iter().map(|&id| id as usize - 1).collect())
}

/// Whether leader `i` may be asked for a change a correct core accepts.
fn ready_for_change(world: &World, i: usize) -> bool {
    world.nodes[i].alive()
        && world.nodes[i].role == Role::Leader
        && world.committed_in_term(i)
        && !world.conf_pending(i)
}

impl Race {
    /// Starts the pattern at leader `leader`, or returns None when it
    /// cannot start there (the operator then does something else).
    pub fn start(world: &mut World, rng: &mut Rng, leader: usize) -> Option<Race> {
        if !ready_for_change(world, leader) {
            return None;
        }
        let voters = voter_indices(world, leader)?;
        let outsiders: Vec<usize> = (0..world.size())
            .filter(|i| !voters.contains(i) && world.nodes[*i].alive())
            .collect();
        if voters.len() >= 4 && voters.len() % 2 == 0 {
            return Race::add(world, rng, leader, &voters, &outsiders);
        }
        let change = if voters.len() >= 5 {
            let followers: Vec<usize> = voters.iter().copied().filter(|&v| v != leader).collect();
            ConfChange::Remove(followers[rng.index(followers.len())] as NodeId + 1)
        } else if voters.len() == 3 && outsiders.len() >= 2 {
            ConfChange::AddVoter(outsiders[rng.index(outsiders.len())] as NodeId + 1)
        } else {
            return None;
        };
        world.change_conf(leader, change).ok()?;
        Some(Race {
            step: Step::Prepare { leader },
            since: world.now(),
        })
    }

    /// Step 2: `leader` adds an outsider and is split off with it.
    fn add(
        world: &mut World,
        rng: &mut Rng,
        leader: usize,
        voters: &[usize],
        outsiders: &[usize],
    ) -> Option<Race> {
        if outsiders.is_empty() || voters.iter().any(|&v| !world.nodes[v].alive()) {
            return None;
        }
        let spare = outsiders[rng.index(outsiders.len())];
        let term = world.nodes[leader].term;
        world
            .change_conf(leader, ConfChange::AddVoter(spare as NodeId + 1))
            .ok()?;
        let others: Vec<usize> = voters.iter().copied().filter(|&v| v != leader).collect();
        let rest: Vec<usize> = (0..world.size())
            .filter(|&i| i != leader && i != spare)
            .collect();
        world.partition(&[vec![leader, spare], rest]);
        Some(Race {
            step: Step::Added {
                old: leader,
                term,
                spare,
                others,
            },
            since: world.now(),
        })
    }

    /// After a step of the world: advance the pattern. Returns false once
    /// it is over (done or given up).
    pub fn advance(&mut self, world: &mut World, rng: &mut Rng) -> bool {
        let now = world.now();
        let timed_out = now > self.since + STEP_TIMEOUT * TICK;
        match self.step.clone() {
            Step::Prepare { leader } => {
                if !world.nodes[leader].alive() || world.nodes[leader].role != Role::Leader {
                    return false;
                }
                if world.committed_in_term(leader) && !world.conf_pending(leader) {
                    let Some(voters) = voter_indices(world, leader) else {
                        return false;
                    };
                    let outsiders: Vec<usize> = (0..world.size())
                        .filter(|i| !voters.contains(i) && world.nodes[*i].alive())
                        .collect();
                    if voters.len() < 4 || voters.len() % 2 == 1 {
                        return false;
                    }
                    return match Race::add(world, rng, leader, &voters, &outsiders) {
                        Some(next) => {
                            *self = next;
                            true
                        }
                        None => false,
                    };
                }
                !timed_out
            }
            Step::Added {
                old,
                term,
                spare,
                others,
            } => {
                let elected = others.iter().copied().find(|&i| {
                    world.nodes[i].alive()
                        && world.nodes[i].role == Role::Leader
                        && world.nodes[i].term > term
                });
                let Some(m) = elected else {
                    return !timed_out;
                };
                // M with k - 1 of the others; L, S and the rest apart.
                let k = others.len().div_ceil(2);
                let mut pool: Vec<usize> = others.iter().copied().filter(|&i| i != m).collect();
                let mut with_m = vec![m];
                for _ in 1..k {
                    with_m.push(pool.swap_remove(rng.index(pool.len())));
                }
                let mut with_old = vec![old, spare];
                with_old.extend(pool);
                world.partition(&[with_m, with_old]);
                let _ = world.change_conf(m, ConfChange::Remove(old as NodeId + 1));
                self.step = Step::Split {
                    until: now + HOLD * TICK,
                };
                self.since = now;
                true
            }
            Step::Split { until } => now < until,
        }
    }
}

//! The fault schedule of a seed: which faults strike, when, and on whom.
//! Each seed draws a profile (a mix of fault kinds and a pace) and then a
//! stream of actions: partitions (random halves, isolate one, isolate the
//! leader, one-way), crashes (the leader, the leader in the middle of a write,
//! several nodes, all of them) and restarts, lossy / duplicating / reordering
//! network windows, and heals. Some profiles aim at classic Raft failure
//! patterns: leader churn with uncommitted entries on a minority (Figure 8),
//! a stale node rejoining as the leader dies, a deposed leader serving reads,
//! voters restarting right after voting.

use super::network::LinkFaults;
use super::rng::Rng;
use super::world::{Delayed, TICK, World};

/// One kind of fault action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    PartitionHalves,
    IsolateOne,
    IsolateLeader,
    OneWay,
    CrashLeader,
    CrashLeaderAtWrite,
    CrashSome,
    CrashAll,
    RestartSome,
    RestartAll,
    Lossy,
    Reorder,
    HealLinks,
    HealNetwork,
    StaleRejoin,
}

const FAULTS: [Fault; 15] = [
    Fault::PartitionHalves,
    Fault::IsolateOne,
    Fault::IsolateLeader,
    Fault::OneWay,
    Fault::CrashLeader,
    Fault::CrashLeaderAtWrite,
    Fault::CrashSome,
    Fault::CrashAll,
    Fault::RestartSome,
    Fault::RestartAll,
    Fault::Lossy,
    Fault::Reorder,
    Fault::HealLinks,
    Fault::HealNetwork,
    Fault::StaleRejoin,
];

/// A seed's mix of faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Everything, evenly.
    Mixed,
    /// Leader churn: crash leaders quickly, restart others (Figure 8).
    LeaderChurn,
    /// Partitions of every shape, healed now and then.
    Partitions,
    /// Long isolations, then the leader dies as a stale node rejoins.
    Stale,
    /// The lab's Figure 8 test: crash each leader soon after it is elected,
    /// restarting nodes so that a majority stays up.
    Figure8,
}

impl Profile {
    /// Relative weights, in the order of `FAULTS`.
    fn weights(self) -> [u32; 15] {
        match self {
            //                 halves iso1 isoL oneway crL crLw crS crAll rsS rsAll lossy reord healL healN stale
            Profile::Mixed => [8, 6, 8, 4, 8, 4, 5, 1, 10, 3, 3, 3, 8, 4, 3],
            Profile::LeaderChurn => [2, 2, 3, 0, 20, 10, 3, 1, 22, 3, 1, 1, 4, 2, 2],
            Profile::Partitions => [12, 8, 14, 8, 2, 1, 1, 0, 6, 2, 3, 3, 12, 4, 3],
            Profile::Stale => [4, 10, 12, 2, 6, 2, 2, 0, 8, 2, 1, 1, 6, 2, 14],
            Profile::Figure8 => [0; 15],
        }
    }

    /// Time between two actions, in ticks.
    fn pace(self) -> (u64, u64) {
        match self {
            Profile::LeaderChurn => (1, 15),
            Profile::Figure8 => (1, 3),
            Profile::Mixed => (2, 30),
            Profile::Partitions | Profile::Stale => (5, 40),
        }
    }
}

/// The fault stream of one seed.
#[derive(Debug, Clone)]
pub struct Schedule {
    rng: Rng,
    pub profile: Profile,
    weights: [u32; 15],
    /// The Figure 8 profile's next node to crash.
    victim: Option<usize>,
}

impl Schedule {
    pub fn new(seed: u64) -> Schedule {
        let mut rng = Rng::new(seed, 3);
        // Figure 8 churn is the rarest pattern to hit, so it gets two shares.
        let profile = match rng.below(6) {
            0 => Profile::Mixed,
            1 => Profile::LeaderChurn,
            2 => Profile::Partitions,
            3 => Profile::Stale,
            _ => Profile::Figure8,
        };
        Schedule {
            rng,
            profile,
            weights: profile.weights(),
            victim: None,
        }
    }

    /// Virtual time until the next action.
    pub fn next_gap(&mut self) -> u64 {
        let (lo, hi) = self.profile.pace();
        if self.profile == Profile::Figure8 {
            // As the lab: mostly a short pause, now and then up to half an election timeout.
            return if self.rng.chance(0.1) {
                self.rng.range(1, 10 * TICK)
            } else {
                self.rng.range(1, 13)
            };
        }
        self.rng.range(lo * TICK, hi * TICK)
    }

    fn pick(&mut self) -> Fault {
        let total: u32 = self.weights.iter().sum();
        let mut r = self.rng.below(u64::from(total)) as u32;
        for (f, w) in FAULTS.iter().zip(self.weights) {
            if r < w {
                return *f;
            }
            r -= w;
        }
        Fault::HealLinks
    }

    /// Draws one action and applies it to the world.
    pub fn act(&mut self, world: &mut World) -> Fault {
        if self.profile == Profile::Figure8 {
            self.figure8_step(world);
            return Fault::CrashLeader;
        }
        let fault = self.pick();
        self.apply(fault, world);
        fault
    }

    fn leader_or_random(&mut self, world: &World) -> usize {
        let leaders = world.leaders();
        if leaders.is_empty() {
            self.rng.index(world.size())
        } else {
            leaders[self.rng.index(leaders.len())]
        }
    }

    /// Applies one fault action.
    pub fn apply(&mut self, fault: Fault, world: &mut World) {
        let n = world.size();
        match fault {
            Fault::PartitionHalves => {
                let mut order: Vec<usize> = (0..n).collect();
                self.rng.shuffle(&mut order);
                let cut = self.rng.range(1, (n as u64).saturating_sub(1).max(1)) as usize;
                let (a, b) = order.split_at(cut.min(n));
                world.partition(&[a.to_vec(), b.to_vec()]);
            }
            Fault::IsolateOne => {
                let i = self.rng.index(n);
                world.set_isolated(i, true);
            }
            Fault::IsolateLeader => {
                let leader = self.leader_or_random(world);
                // Sometimes keep one follower with the old leader (a minority pair).
                let mut rest: Vec<usize> = (0..n).filter(|&i| i != leader).collect();
                self.rng.shuffle(&mut rest);
                let mut minority = vec![leader];
                if n >= 5 && self.rng.chance(0.5) {
                    minority.push(rest.pop().unwrap_or(leader));
                }
                world.partition(&[minority, rest]);
            }
            Fault::OneWay => {
                let from = self.rng.index(n);
                for to in 0..n {
                    if to != from && self.rng.chance(0.6) {
                        if self.rng.chance(0.5) {
                            world.set_link(from, to, false);
                        } else {
                            world.set_link(to, from, false);
                        }
                    }
                }
            }
            Fault::CrashLeader => {
                let leader = self.leader_or_random(world);
                world.crash(leader);
                self.keep_quorum_possible(world);
            }
            Fault::CrashLeaderAtWrite => {
                let leader = self.leader_or_random(world);
                world.crash_at_next_write(leader);
                self.keep_quorum_possible(world);
            }
            Fault::CrashSome => {
                let k = self.rng.range(1, n as u64) as usize;
                let mut order: Vec<usize> = (0..n).collect();
                self.rng.shuffle(&mut order);
                for &i in &order[..k] {
                    if self.rng.chance(0.3) {
                        world.crash_at_next_write(i);
                    } else {
                        world.crash(i);
                    }
                }
            }
            Fault::CrashAll => {
                for i in 0..n {
                    world.crash(i);
                }
                let back = self.rng.range(1, 5 * TICK);
                for i in 0..n {
                    let d = back + self.rng.range(0, 3 * TICK);
                    world.schedule(d, Delayed::Restart(i));
                }
            }
            Fault::RestartSome => {
                let down: Vec<usize> = (0..n).filter(|&i| !world.nodes[i].alive()).collect();
                for i in down {
                    if self.rng.chance(0.6) {
                        world.restart(i);
                    }
                }
            }
            Fault::RestartAll => {
                for i in 0..n {
                    world.restart(i);
                }
            }
            Fault::Lossy => {
                let faults = LinkFaults {
                    loss: self.rng.range(2, 30) as f64 / 100.0,
                    duplicate: self.rng.range(0, 20) as f64 / 100.0,
                    max_delay: self.rng.range(5, 30),
                    ..LinkFaults::reliable()
                };
                world.set_link_faults(faults);
            }
            Fault::Reorder => {
                let faults = LinkFaults {
                    long_reorder: self.rng.range(5, 30) as f64 / 100.0,
                    long_delay: (2 * TICK, self.rng.range(5, 40) * TICK),
                    duplicate: self.rng.range(0, 10) as f64 / 100.0,
                    ..LinkFaults::reliable()
                };
                world.set_link_faults(faults);
            }
            Fault::HealLinks => world.heal_links(),
            Fault::HealNetwork => {
                world.heal_links();
                world.set_link_faults(LinkFaults::reliable());
            }
            Fault::StaleRejoin => {
                // Isolate a follower for a while, then let it back as the leader dies.
                let leaders = world.leaders();
                let followers: Vec<usize> = (0..n).filter(|i| !leaders.contains(i)).collect();
                if followers.is_empty() {
                    return;
                }
                let stale = followers[self.rng.index(followers.len())];
                world.set_isolated(stale, true);
                let away = self.rng.range(15 * TICK, 60 * TICK);
                // It comes back just as whoever leads then dies.
                world.schedule(away, Delayed::Reconnect(stale));
                world.schedule(away + self.rng.range(0, TICK), Delayed::CrashLeader);
            }
        }
    }

    /// One iteration of the lab's Figure 8 loop: crash the leader found by
    /// the previous iteration (sometimes in the middle of its next write);
    /// when fewer than a majority are up, restart one random node; then maybe hand
    /// one command to the current leader and remember it as the next victim.
    fn figure8_step(&mut self, world: &mut World) {
        if let Some(victim) = self.victim.take() {
            if self.rng.chance(0.2) {
                world.crash_at_next_write(victim);
            } else {
                world.crash(victim);
            }
        }
        if world.alive().len() < world.majority() {
            let s = self.rng.index(world.size());
            world.restart(s);
        }
        let leaders = world.leaders();
        if !leaders.is_empty() {
            let leader = leaders[self.rng.index(leaders.len())];
            // Half the time the leader gets no command of its own term: it
            // then only spreads older entries before it dies.
            if self.rng.chance(0.5) {
                let _ = world.propose(leader);
            }
            self.victim = Some(leader);
        }
    }

    /// After crashing the leader, keep enough nodes up that an election can succeed.
    fn keep_quorum_possible(&mut self, world: &mut World) {
        let n = world.size();
        let mut down: Vec<usize> = (0..n).filter(|&i| !world.nodes[i].alive()).collect();
        self.rng.shuffle(&mut down);
        while n - down.len() < world.majority() {
            let Some(i) = down.pop() else { break };
            let d = self.rng.range(0, 2 * TICK);
            world.schedule(d, Delayed::Restart(i));
        }
    }

    /// Ends every fault: links up, network reliable, every node running.
    pub fn heal_all(world: &mut World) {
        world.heal_links();
        world.set_link_faults(LinkFaults::reliable());
        world.bounce_voters = 0.0;
        world.faults_enabled = false;
        world.disarm_all();
        for i in 0..world.size() {
            world.restart(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_fixes_its_profile_and_pace() {
        let mut a = Schedule::new(42);
        let mut b = Schedule::new(42);
        assert_eq!(a.profile, b.profile);
        for _ in 0..20 {
            assert_eq!(a.next_gap(), b.next_gap());
            assert_eq!(a.pick(), b.pick());
        }
        let profiles: std::collections::BTreeSet<String> = (0..64)
            .map(|s| format!("{:?}", Schedule::new(s).profile))
            .collect();
        assert_eq!(profiles.len(), 5);
    }
}

//! The simulated network: which links are cut (symmetric and one-way
//! partitions), and how each sent message fares (lost, duplicated, delayed;
//! random delays reorder messages). Delivery itself is an event of the world.

use super::rng::Rng;

/// Per-message behaviour of the network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkFaults {
    /// Probability a message is lost.
    pub loss: f64,
    /// Probability a message is delivered twice.
    pub duplicate: f64,
    /// Delay bounds in time units (a tick is `TICK` units).
    pub min_delay: u64,
    pub max_delay: u64,
    /// Probability a message takes a long detour (`long_delay` bounds).
    pub long_reorder: f64,
    pub long_delay: (u64, u64),
}

impl LinkFaults {
    /// A healthy network: no loss, short delays.
    pub fn reliable() -> LinkFaults {
        LinkFaults {
            loss: 0.0,
            duplicate: 0.0,
            min_delay: 1,
            max_delay: 8,
            long_reorder: 0.0,
            long_delay: (20, 200),
        }
    }

    /// The MIT lab's unreliable network: ~10% loss, longer random delays.
    pub fn unreliable() -> LinkFaults {
        LinkFaults {
            loss: 0.1,
            duplicate: 0.05,
            min_delay: 1,
            max_delay: 27,
            ..LinkFaults::reliable()
        }
    }
}

/// Cut links and message fates for `n` nodes (indices `0..n`).
#[derive(Debug, Clone)]
pub struct Network {
    n: usize,
    /// `cut[from * n + to]`: messages from `from` to `to` are dropped.
    cut: Vec<bool>,
    pub faults: LinkFaults,
    rng: Rng,
}

/// What happens to one sent message: the delays of its copies (none: lost).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fate {
    pub copies: [Option<u64>; 2],
}

impl Network {
    pub fn new(n: usize, rng: Rng) -> Network {
        Network {
            n,
            cut: vec![false; n * n],
            faults: LinkFaults::reliable(),
            rng,
        }
    }

    pub fn size(&self) -> usize {
        self.n
    }

    /// Whether `from` can currently reach `to`.
    pub fn connected(&self, from: usize, to: usize) -> bool {
        !self.cut[from * self.n + to]
    }

    /// Whether any link is cut.
    pub fn partitioned(&self) -> bool {
        self.cut.iter().any(|&c| c)
    }

    pub fn set_link(&mut self, from: usize, to: usize, up: bool) {
        self.cut[from * self.n + to] = !up;
    }

    /// Splits the nodes into groups that only talk inside themselves; nodes in
    /// no group are isolated.
    pub fn partition(&mut self, groups: &[Vec<usize>]) {
        let mut group_of = vec![usize::MAX; self.n];
        for (g, members) in groups.iter().enumerate() {
            for &m in members {
                group_of[m] = g;
            }
        }
        for from in 0..self.n {
            for to in 0..self.n {
                let same = group_of[from] != usize::MAX && group_of[from] == group_of[to];
                self.cut[from * self.n + to] = from != to && !same;
            }
        }
    }

    /// Cuts (or restores) every link to and from `node`, leaving the others.
    pub fn set_isolated(&mut self, node: usize, isolated: bool) {
        for other in 0..self.n {
            if other != node {
                self.cut[node * self.n + other] = isolated;
                self.cut[other * self.n + node] = isolated;
            }
        }
    }

    /// Restores every link (loss and delay settings stay).
    pub fn heal_links(&mut self) {
        self.cut.iter_mut().for_each(|c| *c = false);
    }

    /// Decides the fate of one message sent now.
    pub fn fate(&mut self) -> Fate {
        let f = self.faults;
        if self.rng.chance(f.loss) {
            return Fate {
                copies: [None, None],
            };
        }
        let first = self.delay();
        let second = if self.rng.chance(f.duplicate) {
            Some(self.delay())
        } else {
            None
        };
        Fate {
            copies: [Some(first), second],
        }
    }

    fn delay(&mut self) -> u64 {
        let f = self.faults;
        if self.rng.chance(f.long_reorder) {
            self.rng.range(f.long_delay.0, f.long_delay.1)
        } else {
            self.rng.range(f.min_delay, f.max_delay)
        }
    }

    /// Describes the cut links, e.g. `{1,2}|{3,4,5}` or `1->2 cut`.
    pub fn describe(&self) -> String {
        if !self.partitioned() {
            return "all links up".to_string();
        }
        let mut cuts = Vec::new();
        for from in 0..self.n {
            for to in 0..self.n {
                if from != to && !self.connected(from, to) {
                    cuts.push(format!("{}->{}", from + 1, to + 1));
                }
            }
        }
        format!("cut {}", cuts.join(" "))
    }
}

/// `{1,2}|{3,4,5}` for groups of node indices.
pub fn describe_groups(groups: &[Vec<usize>]) -> String {
    groups
        .iter()
        .map(|g| {
            let ids: Vec<String> = g.iter().map(|i| (i + 1).to_string()).collect();
            format!("{{{}}}", ids.join(","))
        })
        .collect::<Vec<_>>()
        .join("|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_cuts_across_groups_only() {
        let mut net = Network::new(5, Rng::new(1, 0));
        net.partition(&[vec![0, 1], vec![2, 3, 4]]);
        assert!(net.connected(0, 1));
        assert!(!net.connected(0, 2));
        assert!(!net.connected(4, 1));
        assert!(net.connected(3, 4));
        net.heal_links();
        assert!(!net.partitioned());
        net.set_isolated(2, true);
        assert!(!net.connected(2, 0) && !net.connected(0, 2) && net.connected(0, 1));
        assert_eq!(
            describe_groups(&[vec![0, 1], vec![2, 3, 4]]),
            "{1,2}|{3,4,5}"
        );
    }

    #[test]
    fn reliable_network_delivers_every_message_once() {
        let mut net = Network::new(3, Rng::new(2, 0));
        for _ in 0..100 {
            let fate = net.fate();
            assert!(fate.copies[0].is_some() && fate.copies[1].is_none());
        }
        net.faults.loss = 1.0;
        assert_eq!(net.fate().copies, [None, None]);
    }
}

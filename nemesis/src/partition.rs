//! `partition`: iptables DROP rules between nodes in their network
//! namespaces, by grudge (Jepsen's names): `isolate-one` (one node cut
//! from all), `halves` (a random minority from the majority),
//! `majorities-ring` (nodes on a shuffled ring each see their nearest
//! neighbours: every node a majority, no two the same view; five nodes or
//! more; four nodes see three each), `bridge` (two halves that only one
//! node joins) and `isolate-leader`. The history value names the grudge and
//! the cut (from, to) pairs; stopping heals exactly the rules it added.
//!
//! In a system of several replica groups (a sharded one: `Db::groups` lists
//! the controller group and each shard group, `Db::nodes` all of them on one
//! network) the cuts still span every node, so groups lose each other and
//! the controller too, with two group-aware choices: `isolate-leader` cuts
//! off the leader of one group, itself drawn at random (as the other
//! packages' "leader" target does), and `majorities-ring` lays each group's
//! members next to each other on the ring (groups in random order, members
//! shuffled within), so every node sees a majority of all nodes and, as far
//! as the ring's window allows, of its own group, instead of a shuffle that
//! can leave no two members of a group in touch. `isolate-one`, `halves` and
//! `bridge` need nothing: a two-way split (or a split plus a bridge) always
//! leaves a group of odd size a connected majority somewhere.

use std::collections::BTreeSet;

use faultline_workloads::{Db, NetControl};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::error::NemesisError;
use crate::package::{Package, PackageInfo};
use crate::targets::group_leader;

/// How nodes are split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grudge {
    IsolateOne,
    Halves,
    MajoritiesRing,
    Bridge,
    IsolateLeader,
}

impl Grudge {
    pub const ALL: [Grudge; 5] = [
        Grudge::IsolateOne,
        Grudge::Halves,
        Grudge::MajoritiesRing,
        Grudge::Bridge,
        Grudge::IsolateLeader,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Grudge::IsolateOne => "isolate-one",
            Grudge::Halves => "halves",
            Grudge::MajoritiesRing => "majorities-ring",
            Grudge::Bridge => "bridge",
            Grudge::IsolateLeader => "isolate-leader",
        }
    }

    /// Every grudge's name, for error messages.
    pub fn names() -> String {
        Grudge::ALL.map(Grudge::name).join(", ")
    }

    /// Whether the grudge means something for `n` nodes (a ring of
    /// distinct majorities needs at least four).
    pub fn fits(self, n: usize) -> bool {
        match self {
            Grudge::MajoritiesRing => n >= 4,
            Grudge::Bridge => n >= 3,
            _ => n >= 2,
        }
    }
}

impl std::str::FromStr for Grudge {
    type Err = NemesisError;
    fn from_str(s: &str) -> Result<Grudge, NemesisError> {
        Grudge::ALL
            .into_iter()
            .find(|g| g.name() == s)
            .ok_or_else(|| {
                NemesisError::Option(format!(
                    "unknown partition grudge {s:?} in partition:{s}; known: {}",
                    Grudge::names()
                ))
            })
    }
}

/// Who may talk to whom: `sees[i]` is the set of nodes node `i` accepts
/// packets from (itself included).
fn cuts_from_views(nodes: &[String], sees: impl Fn(usize, usize) -> bool) -> Vec<(String, String)> {
    let mut cuts = Vec::new();
    for (to, t) in nodes.iter().enumerate() {
        for (from, f) in nodes.iter().enumerate() {
            if from != to && !sees(to, from) {
                cuts.push((f.clone(), t.clone()));
            }
        }
    }
    cuts
}

/// Cut every pair across the two sides, both directions.
fn split(nodes: &[String], side: &BTreeSet<String>) -> Vec<(String, String)> {
    cuts_from_views(nodes, |a, b| {
        side.contains(&nodes[a]) == side.contains(&nodes[b])
    })
}

/// The (from, to) pairs to cut for `grudge` over `nodes` (`leader` for
/// `isolate-leader`; a random node when none is known). `groups` are the
/// replica groups (`Db::groups`); with more than one, `majorities-ring`
/// keeps each group's members together on the ring.
pub fn grudge_cuts(
    grudge: Grudge,
    nodes: &[String],
    groups: &[Vec<String>],
    leader: Option<&str>,
    rng: &mut ChaCha8Rng,
) -> Vec<(String, String)> {
    let mut ring = nodes.to_vec();
    ring.shuffle(rng);
    let n = nodes.len();
    if n < 2 {
        return Vec::new();
    }
    if grudge == Grudge::MajoritiesRing && groups.len() > 1 {
        ring = grouped_ring(nodes, groups, rng);
    }
    match grudge {
        Grudge::IsolateOne => split(nodes, &BTreeSet::from([ring[0].clone()])),
        Grudge::IsolateLeader => {
            let victim = leader
                .filter(|l| nodes.iter().any(|x| x == l))
                .map(str::to_string)
                .unwrap_or_else(|| ring[0].clone());
            split(nodes, &BTreeSet::from([victim]))
        }
        Grudge::Halves => split(nodes, &ring[..n / 2].iter().cloned().collect()),
        Grudge::Bridge => {
            // ring[0] is the bridge, the rest split in two.
            let rest = &ring[1..];
            let a: BTreeSet<String> = rest[..rest.len() / 2].iter().cloned().collect();
            let bridge = &ring[0];
            cuts_from_views(nodes, |x, y| {
                let (x, y) = (&nodes[x], &nodes[y]);
                x == bridge || y == bridge || a.contains(x) == a.contains(y)
            })
        }
        Grudge::MajoritiesRing => {
            let pos = |name: &String| ring.iter().position(|r| r == name).unwrap_or(0);
            let majority = n / 2 + 1;
            // Symmetric window: ring distance <= k, k = majority / 2, so
            // a node's view (2k + 1 nodes, or all but one) is a majority.
            let k = majority / 2;
            cuts_from_views(nodes, |a, b| {
                let d = (pos(&nodes[b]) + n - pos(&nodes[a])) % n;
                d <= k || n - d <= k
            })
        }
    }
}

/// A ring of `nodes` with each group's members side by side: the groups
/// in random order, each group's members shuffled. Nodes of no group (none,
/// for a `Db` whose groups cover its nodes) go at the end.
fn grouped_ring(nodes: &[String], groups: &[Vec<String>], rng: &mut ChaCha8Rng) -> Vec<String> {
    let mut order: Vec<&Vec<String>> = groups.iter().collect();
    order.shuffle(rng);
    let mut ring = Vec::with_capacity(nodes.len());
    for g in order {
        let mut members: Vec<String> = g
            .iter()
            .filter(|m| nodes.contains(m) && !ring.contains(*m))
            .cloned()
            .collect();
        members.shuffle(rng);
        ring.extend(members);
    }
    let rest: Vec<String> = nodes
        .iter()
        .filter(|x| !ring.contains(x))
        .cloned()
        .collect();
    ring.extend(rest);
    ring
}

/// The node to cut off for `isolate-leader`: the leader of one group drawn
/// at random when there are several (a sharded system), else `Db::leader`;
/// `None` when no member answers as leader.
fn leader_to_isolate(db: &dyn Db, groups: &[Vec<String>], rng: &mut ChaCha8Rng) -> Option<String> {
    if groups.len() > 1 {
        group_leader(db, &groups[rng.random_range(0..groups.len())])
    } else {
        db.leader()
    }
}

/// Which nodes `to` accepts packets from, given `cuts`.
pub fn views(nodes: &[String], cuts: &[(String, String)]) -> Vec<BTreeSet<String>> {
    nodes
        .iter()
        .map(|to| {
            nodes
                .iter()
                .filter(|from| !cuts.iter().any(|(f, t)| f == *from && t == to))
                .cloned()
                .collect()
        })
        .collect()
}

/// The network controls of `db`, or an error saying how to get them.
pub(crate) fn network<'a>(
    db: &'a dyn Db,
    package: &str,
) -> Result<&'a dyn NetControl, NemesisError> {
    db.network().ok_or_else(|| {
        NemesisError::Option(format!(
            "the {package} nemesis needs nodes in network namespaces (run as root without --no-netns)"
        ))
    })
}

#[derive(Debug, Default)]
pub struct Partition {
    active: bool,
    /// `partition:GRUDGE`: draw only this grudge.
    only: Option<Grudge>,
}

impl Partition {
    /// A partition package that always uses `grudge` (`--nemesis
    /// partition:GRUDGE`), e.g. to aim every fault at the leader.
    pub fn only(grudge: Grudge) -> Partition {
        Partition {
            active: false,
            only: Some(grudge),
        }
    }

    /// Name, plot colour and needs of this package.
    pub const INFO: PackageInfo = PackageInfo {
        name: "partition",
        colour: "#1f77b4",
        needs_network: true,
        needs_shards: false,
    };
}

impl Package for Partition {
    fn info(&self) -> PackageInfo {
        Self::INFO
    }

    fn spec(&self) -> String {
        match self.only {
            Some(g) => format!("{}:{}", Self::INFO.name, g.name()),
            None => Self::INFO.name.to_string(),
        }
    }

    fn start(&mut self, db: &dyn Db, rng: &mut ChaCha8Rng) -> Result<Value, NemesisError> {
        let net = network(db, "partition")?;
        let nodes = db.nodes();
        let fitting: Vec<Grudge> = Grudge::ALL
            .into_iter()
            .filter(|g| g.fits(nodes.len()))
            .filter(|g| self.only.is_none_or(|only| only == *g))
            .collect();
        if fitting.is_empty() {
            return Err(NemesisError::Option(match self.only {
                Some(g) => format!(
                    "the {} grudge does not fit a cluster of {} nodes",
                    g.name(),
                    nodes.len()
                ),
                None => format!(
                    "a partition needs at least 2 nodes, this cluster has {}",
                    nodes.len()
                ),
            }));
        }
        let grudge = fitting[rng.random_range(0..fitting.len())];
        let groups = db.groups();
        let leader = if grudge == Grudge::IsolateLeader {
            leader_to_isolate(db, &groups, rng)
        } else {
            None
        };
        let cuts = grudge_cuts(grudge, &nodes, &groups, leader.as_deref(), rng);
        // Whatever part of the cut lands is healed by stop.
        self.active = true;
        net.cut(&cuts)?;
        let mut value = json!({"grudge": grudge.name(), "cuts": cuts});
        if grudge == Grudge::IsolateLeader {
            value["leader"] = json!(leader);
        }
        Ok(value)
    }

    fn stop(&mut self, db: &dyn Db) -> Result<Value, NemesisError> {
        if !self.active {
            return Ok(json!({"rules": 0}));
        }
        let removed = network(db, "partition")?.heal_cuts()?;
        self.active = false;
        Ok(json!({"rules": removed}))
    }

    fn active(&self) -> bool {
        self.active
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::test_support::FakeDb;

    fn names(n: usize) -> Vec<String> {
        (1..=n).map(|i| i.to_string()).collect()
    }

    /// Nodes that can hold a TCP conversation with `i` (both directions open).
    fn talks(nodes: &[String], cuts: &[(String, String)]) -> Vec<BTreeSet<String>> {
        let v = views(nodes, cuts);
        (0..nodes.len())
            .map(|i| {
                nodes
                    .iter()
                    .enumerate()
                    .filter(|(j, x)| v[i].contains(*x) && v[*j].contains(&nodes[i]))
                    .map(|(_, x)| x.clone())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn grudges_have_their_shapes() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for n in 3..=7 {
            let nodes = names(n);
            let majority = n / 2 + 1;
            for _ in 0..10 {
                let one = talks(
                    &nodes,
                    &grudge_cuts(Grudge::IsolateOne, &nodes, &[], None, &mut rng),
                );
                assert_eq!(one.iter().filter(|s| s.len() == 1).count(), 1, "{one:?}");

                let halves = talks(
                    &nodes,
                    &grudge_cuts(Grudge::Halves, &nodes, &[], None, &mut rng),
                );
                let small = halves.iter().map(BTreeSet::len).min().unwrap();
                let big = halves.iter().map(BTreeSet::len).max().unwrap();
                assert_eq!((small, big), (n / 2, n - n / 2), "{halves:?}");

                let bridge = talks(
                    &nodes,
                    &grudge_cuts(Grudge::Bridge, &nodes, &[], None, &mut rng),
                );
                assert_eq!(
                    bridge.iter().filter(|s| s.len() == n).count(),
                    1,
                    "{bridge:?}"
                );
                let hub = nodes
                    .iter()
                    .zip(&bridge)
                    .find(|(_, s)| s.len() == n)
                    .unwrap()
                    .0;
                assert!(bridge.iter().all(|s| s.contains(hub)), "{bridge:?}");
                let partial = bridge.iter().filter(|s| s.len() < n).count();
                assert_eq!(partial, n - 1, "{bridge:?}");

                let leader = grudge_cuts(Grudge::IsolateLeader, &nodes, &[], Some("2"), &mut rng);
                assert_eq!(talks(&nodes, &leader)[1], BTreeSet::from(["2".to_string()]));

                if n >= 4 {
                    let ring = talks(
                        &nodes,
                        &grudge_cuts(Grudge::MajoritiesRing, &nodes, &[], None, &mut rng),
                    );
                    assert!(ring.iter().all(|s| s.len() >= majority), "{n}: {ring:?}");
                    let distinct: BTreeSet<_> = ring.iter().collect();
                    assert_eq!(distinct.len(), n, "{n}: views repeat {ring:?}");
                    assert!(ring.iter().any(|s| s.len() < n), "{n}: nothing cut");
                }
            }
        }
    }

    #[test]
    fn start_cuts_and_stop_heals_exactly_those() {
        let db = FakeDb::single(5, true);
        let mut p = Partition::default();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut seen = BTreeSet::new();
        for _ in 0..40 {
            let v = p.start(&db, &mut rng).unwrap();
            let cuts = v["cuts"].as_array().unwrap().len();
            assert!(cuts > 0, "{v}");
            assert_eq!(db.net.as_ref().unwrap().cuts.lock().unwrap().len(), cuts);
            if v["grudge"] == "isolate-leader" {
                assert_eq!(v["leader"], "2");
            }
            seen.insert(v["grudge"].as_str().unwrap().to_string());
            assert!(p.active());
            assert_eq!(p.stop(&db).unwrap()["rules"], cuts);
            assert!(!p.active());
            assert!(db.net.as_ref().unwrap().cuts.lock().unwrap().is_empty());
        }
        assert_eq!(seen.len(), 5, "{seen:?}");
    }

    #[test]
    fn an_only_grudge_is_the_only_one_drawn() {
        let db = FakeDb::single(5, true);
        let mut p = Partition::only(Grudge::IsolateLeader);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..20 {
            let v = p.start(&db, &mut rng).unwrap();
            assert_eq!(v["grudge"], "isolate-leader", "{v}");
            p.stop(&db).unwrap();
        }
        let mut ring = Partition::only(Grudge::MajoritiesRing);
        let err = ring.start(&FakeDb::single(3, true), &mut rng).unwrap_err();
        assert!(
            err.to_string().contains("does not fit a cluster of 3"),
            "{err}"
        );
        assert!(!ring.active());
    }

    /// A sharded system on one network: controllers `c1..c3`, shard groups
    /// `g1n1..g1n3` and `g2n1..g2n3`; `c2`, `g1n3` and `g2n1` lead.
    fn sharded() -> FakeDb {
        FakeDb::grouped(&["c", "g1n", "g2n"], &["c2", "g1n3", "g2n1"], true)
    }

    #[test]
    fn with_several_groups_isolate_leader_cuts_off_one_groups_leader() {
        let db = sharded();
        let nodes = db.nodes();
        let mut p = Partition::default();
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut isolated = BTreeSet::new();
        for _ in 0..80 {
            let v = p.start(&db, &mut rng).unwrap();
            if v["grudge"] == "isolate-leader" {
                let leader = v["leader"].as_str().expect("a leader").to_string();
                let cuts: Vec<(String, String)> =
                    serde_json::from_value(v["cuts"].clone()).unwrap();
                let t = talks(&nodes, &cuts);
                let i = nodes.iter().position(|n| *n == leader).unwrap();
                assert_eq!(t[i], BTreeSet::from([leader.clone()]), "{v}");
                isolated.insert(leader);
            }
            p.stop(&db).unwrap();
        }
        // Not always the first leader in node order (the controller's).
        assert_eq!(
            isolated,
            ["c2", "g1n3", "g2n1"].map(String::from).into(),
            "leaders isolated"
        );
    }

    #[test]
    fn with_several_groups_the_majorities_ring_keeps_each_groups_majority() {
        let db = sharded();
        let (nodes, groups) = (db.nodes(), db.groups());
        let majority = nodes.len() / 2 + 1;
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for _ in 0..50 {
            let cuts = grudge_cuts(Grudge::MajoritiesRing, &nodes, &groups, None, &mut rng);
            let t = talks(&nodes, &cuts);
            assert!(t.iter().any(|s| s.len() < nodes.len()), "nothing cut");
            let distinct: BTreeSet<_> = t.iter().collect();
            assert_eq!(distinct.len(), nodes.len(), "views repeat: {t:?}");
            for (i, view) in t.iter().enumerate() {
                assert!(view.len() >= majority, "{}: {view:?}", nodes[i]);
                let own = groups.iter().find(|g| g.contains(&nodes[i])).unwrap();
                let in_group = own.iter().filter(|m| view.contains(*m)).count();
                assert!(
                    in_group > own.len() / 2,
                    "{} sees {in_group} of its group {own:?}: {view:?}",
                    nodes[i]
                );
            }
        }
        // Without the groups, a shuffled ring of nine nodes sometimes
        // leaves a member cut from the rest of its group of three.
        let lonely = (0..50).any(|_| {
            let t = talks(
                &nodes,
                &grudge_cuts(Grudge::MajoritiesRing, &nodes, &[], None, &mut rng),
            );
            groups.iter().any(|g| {
                g.iter().any(|m| {
                    let i = nodes.iter().position(|n| n == m).unwrap();
                    g.iter().filter(|x| t[i].contains(*x)).count() == 1
                })
            })
        });
        assert!(lonely, "the group-blind ring never split a group");
    }

    #[test]
    fn without_namespaces_it_says_what_to_do() {
        let db = FakeDb::single(3, false);
        let err = Partition::default()
            .start(&db, &mut ChaCha8Rng::seed_from_u64(1))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("network namespaces") && err.contains("--no-netns"),
            "{err}"
        );
    }
}

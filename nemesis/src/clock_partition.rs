//! `clock-partition`: a composite clock fault aimed at leader leases. A
//! lease is only stale while the old leader has not heard of its successor,
//! and a clock fault alone does not stop it hearing: the new leader's first
//! append deposes it within a round trip. So each start cuts the current
//! leader off from every other member (both directions) and skews clocks
//! around the cut, in one of two modes drawn at random:
//!
//! - `slow`: the leader's clock runs slow and the other members' fast, at
//!   exactly the drift bound ρ the system's leases allow for
//!   ([`Db::clock_drift_pct`], `faultline run --clock-drift`; else
//!   [`crate::clock::RATE_BOUND_PCT`]): `100 − ρ` and `100 + ρ` %; after
//!   [`SETTLE`] the leader is cut off. A lease with no margin for drift
//!   then outlives the moment the others may elect a successor; a correct
//!   one does not.
//! - `back`: the same rates; then the leader stops hearing the others (the
//!   cuts into it), its clock is set back by a random 0.5..3 s at once, and
//!   the others stop hearing it. With the monotonic clock faked (lease
//!   runs), a correct node sees its monotonic clock go back and drops its
//!   lease; a node that counts its lease on the wall clock sees time stand
//!   still and keeps it while its successor is elected. Cutting its
//!   hearing first means no successor's message can reach it after the
//!   bump; setting the clock back right after means its lease, renewed up
//!   to the last answer it heard, is still running.
//!
//! Clients are not cut off: each client process keeps trying its Gets on its
//! own node first, so the isolated old leader keeps being asked. The stop
//! sets every clock back to the real time and heals the cuts. The history
//! value gives the mode, the leader, the bump, the rates and the cuts.
//!
//! The leader is the member answering as leader with the highest term (a
//! random node when none answers); in a system of several replica groups,
//! the leader of one group drawn at random, whose other members run fast.
//! Not in `all`: its cuts and clocks overlap the `partition` and `clock`
//! packages', whose stops would heal them. What the clock part reaches is
//! what `clock` reaches (see [`crate::clock`]): etcd (Go) sees no clock
//! fault, and without monotonic faking (read-index runs) only wall clocks
//! move.

use std::collections::BTreeMap;
use std::time::Duration;

use faultline_workloads::Db;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::clock::rate_bound;
use crate::error::NemesisError;
use crate::package::{Package, PackageInfo};
use crate::partition::{Grudge, grudge_cuts, network};

/// How far back the leader's clock is set (ms).
const BACK_MS: std::ops::RangeInclusive<i64> = 500..=3_000;
/// Time between the clock faults and the cut.
pub const SETTLE: Duration = Duration::from_millis(25);
/// The rates last until the stop, at most this long.
const RATE_HOLD: Duration = Duration::from_secs(120);

#[derive(Debug, Default)]
pub struct ClockPartition {
    active: bool,
}

impl ClockPartition {
    /// Name, plot colour and needs of this package.
    pub const INFO: PackageInfo = PackageInfo {
        name: "clock-partition",
        colour: "#e377c2",
        needs_network: true,
        needs_shards: false,
    };
}

/// The group to hit (one drawn at random when there are several) and its
/// leader: the member answering as leader with the highest term, if any.
fn group_and_leader(db: &dyn Db, rng: &mut ChaCha8Rng) -> (Vec<String>, Option<String>) {
    let groups = db.groups();
    let group = if groups.len() > 1 {
        groups[rng.random_range(0..groups.len())].clone()
    } else {
        db.nodes()
    };
    let leader = group
        .iter()
        .filter_map(|n| db.status(n).ok())
        .filter(|s| s.role == "leader")
        .max_by_key(|s| s.term)
        .map(|s| s.node);
    (group, leader)
}

impl Package for ClockPartition {
    fn info(&self) -> PackageInfo {
        Self::INFO
    }

    fn start(&mut self, db: &dyn Db, rng: &mut ChaCha8Rng) -> Result<Value, NemesisError> {
        let net = network(db, "clock-partition")?;
        let nodes = db.nodes();
        let (group, leader) = group_and_leader(db, rng);
        if group.len() < 2 {
            return Err(NemesisError::Option(format!(
                "clock-partition cuts a leader off from the other members: it needs at least 2 nodes in a group, this one has {}",
                group.len()
            )));
        }
        // Draw even when unused, so the RNG stream does not depend on the leader.
        let random = group[rng.random_range(0..group.len())].clone();
        let victim = leader.clone().unwrap_or(random);
        let back = rng.random_bool(0.5);
        let back_ms = rng.random_range(BACK_MS);
        self.active = true;
        let d = rate_bound(db);
        let mut rates = BTreeMap::new();
        for n in &group {
            let rate = if *n == victim { 100 - d } else { 100 + d };
            net.drift_clock(n, rate, RATE_HOLD)?;
            rates.insert(n.clone(), rate);
        }
        std::thread::sleep(SETTLE);
        let groups = db.groups();
        let cuts = grudge_cuts(Grudge::IsolateLeader, &nodes, &groups, Some(&victim), rng);
        let mut value = json!({
            "mode": if back { "back" } else { "slow" },
            "leader": leader,
            "node": victim,
            "rates_pct": rates,
            "cuts": cuts,
        });
        if !back {
            net.cut(&cuts)?;
            return Ok(value);
        }
        let (into, out_of): (Vec<_>, Vec<_>) = cuts.into_iter().partition(|(_, to)| *to == victim);
        net.cut(&into)?;
        // Restart the victim's drift from the bumped offset.
        let offset = net.clock(&victim)? - back_ms;
        net.set_clock(&victim, offset)?;
        net.drift_clock(&victim, 100 - d, RATE_HOLD)?;
        net.cut(&out_of)?;
        value["back_ms"] = json!(back_ms);
        Ok(value)
    }

    fn stop(&mut self, db: &dyn Db) -> Result<Value, NemesisError> {
        if !self.active {
            return Ok(json!({"reset": false, "rules": 0}));
        }
        let net = network(db, "clock-partition")?;
        // Clocks first: an old leader whose lease stood still sees it end
        // before it hears its successor.
        net.reset_clocks()?;
        let removed = net.heal_cuts()?;
        self.active = false;
        Ok(json!({"reset": true, "rules": removed}))
    }

    fn active(&self) -> bool {
        self.active
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::clock::RATE_BOUND_PCT;
    use crate::partition::views;
    use crate::test_support::FakeDb;

    #[test]
    fn isolates_the_leader_slow_or_set_back_and_the_others_fast() {
        let db = FakeDb::single(3, true);
        let net = db.net.as_ref().unwrap();
        let mut p = ClockPartition::default();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut modes = std::collections::BTreeSet::new();
        for _ in 0..12 {
            let v = p.start(&db, &mut rng).unwrap();
            assert_eq!(v["leader"], "2", "{v}");
            let mut drifts = net.drifts.lock().unwrap().clone();
            if v["mode"] == "back" {
                let back = v["back_ms"].as_i64().unwrap();
                assert!(BACK_MS.contains(&back), "{v}");
                assert_eq!(net.clocks.lock().unwrap()["2"], -back);
                assert_eq!(drifts.pop(), Some(("2".to_string(), 100 - RATE_BOUND_PCT)));
            } else {
                assert_eq!(v["mode"], "slow", "{v}");
                assert!(v.get("back_ms").is_none(), "{v}");
                assert!(net.clocks.lock().unwrap().is_empty());
            }
            modes.insert(v["mode"].as_str().unwrap().to_string());
            assert_eq!(
                drifts,
                [
                    ("1".to_string(), 100 + RATE_BOUND_PCT),
                    ("2".to_string(), 100 - RATE_BOUND_PCT),
                    ("3".to_string(), 100 + RATE_BOUND_PCT),
                ]
            );
            let nodes = db.nodes();
            let seen = views(&nodes, &net.cuts.lock().unwrap());
            assert_eq!(seen[1].len(), 1, "the leader hears no one: {seen:?}");
            assert!(seen[0].contains("3") && !seen[0].contains("2"), "{seen:?}");
            assert!(p.active());
            let healed = p.stop(&db).unwrap();
            assert_eq!(healed["rules"], 4);
            assert!(!p.active());
            assert!(net.clocks.lock().unwrap().is_empty());
            assert!(net.drifts.lock().unwrap().is_empty());
            assert!(net.cuts.lock().unwrap().is_empty());
        }
        assert_eq!(modes.len(), 2, "{modes:?}");
        assert_eq!(p.stop(&db).unwrap()["reset"], false);
    }

    #[test]
    fn with_several_groups_only_one_group_is_skewed() {
        let db = FakeDb::grouped(&["a", "b"], &["a2", "b3"], true);
        let net = db.net.as_ref().unwrap();
        let mut p = ClockPartition::default();
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut hit = std::collections::BTreeSet::new();
        for _ in 0..20 {
            let v = p.start(&db, &mut rng).unwrap();
            let leader = v["leader"].as_str().unwrap().to_string();
            let drifts = net.drifts.lock().unwrap().clone();
            assert!((3..=4).contains(&drifts.len()), "{v}");
            let prefix = &leader[..1];
            assert!(drifts.iter().all(|(n, _)| n.starts_with(prefix)), "{v}");
            hit.insert(leader);
            p.stop(&db).unwrap();
        }
        assert_eq!(hit.len(), 2, "{hit:?}");
    }

    #[test]
    fn refuses_loopback_systems() {
        let db = FakeDb::single(3, false);
        let err = ClockPartition::default()
            .start(&db, &mut ChaCha8Rng::seed_from_u64(1))
            .unwrap_err()
            .to_string();
        assert!(err.contains("network namespaces"), "{err}");
    }
}

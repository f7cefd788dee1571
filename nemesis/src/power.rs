//! `power`: a power loss on the target nodes — SIGKILL, then drop what
//! their disks had not fsynced (the diskfs layer under each data
//! directory; one time in four the newest write is torn at a seeded byte
//! instead, the torn file keeping its earlier unsynced writes); stopping the fault restarts them on what
//! survived. Needs a system started with disk faults (`Db::lose_unsynced`).
//!
//! Targets: one node, the leader, a majority, or all the nodes of a group
//! (a power cut takes out a rack, not a polite minority: a Raft group may
//! lose a majority's unsynced writes at once, which is what shows a store
//! acknowledging before fsync).
//!
//! Options (`--nemesis power:OPTION`, parts joined by `+`): a target
//! (`one`, `leader`, `majority`, `all`) fixes whom every fault hits, and
//! `no-tear` / `tear` fixes whether the newest write is torn (never /
//! always). `power:all+no-tear` is a clean whole-group power cut: every
//! unsynced write is gone and nothing is half-written, which separates
//! "acknowledged before fsync" from "cannot read a torn log".

use faultline_workloads::Db;
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

use crate::error::NemesisError;
use crate::package::{Package, PackageInfo};
use crate::targets::{Target, resolve};

/// Which nodes lose power.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PowerTarget {
    One,
    Leader,
    Majority,
    All,
}

impl PowerTarget {
    const ALL: [PowerTarget; 4] = [
        PowerTarget::One,
        PowerTarget::Leader,
        PowerTarget::Majority,
        PowerTarget::All,
    ];

    fn name(self) -> &'static str {
        match self {
            PowerTarget::One => "one",
            PowerTarget::Leader => "leader",
            PowerTarget::Majority => "majority",
            PowerTarget::All => "all",
        }
    }

    /// One or the leader 1/5 each, a majority or all 3/10 each.
    fn draw(rng: &mut ChaCha8Rng) -> PowerTarget {
        match rng.random_range(0..10) {
            0 | 1 => PowerTarget::One,
            2 | 3 => PowerTarget::Leader,
            4..=6 => PowerTarget::Majority,
            _ => PowerTarget::All,
        }
    }

    /// The nodes hit now: within one replica group (drawn at random).
    fn resolve(self, db: &dyn Db, rng: &mut ChaCha8Rng) -> Vec<String> {
        let group = |rng: &mut ChaCha8Rng| {
            let groups = db.groups();
            if groups.is_empty() {
                Vec::new()
            } else {
                groups[rng.random_range(0..groups.len())].clone()
            }
        };
        match self {
            PowerTarget::One => resolve(Target::One, db, rng),
            PowerTarget::Leader => resolve(Target::Leader, db, rng),
            PowerTarget::Majority => {
                let mut nodes = group(rng);
                nodes.shuffle(rng);
                nodes.truncate(nodes.len() / 2 + 1);
                nodes.sort();
                nodes
            }
            PowerTarget::All => group(rng),
        }
    }
}

#[derive(Debug, Default)]
pub struct Power {
    /// Nodes powered off and not restarted yet.
    down: Vec<String>,
    /// `power:TARGET`: every fault hits this target (else drawn each time).
    target: Option<PowerTarget>,
    /// `power:tear` / `power:no-tear`: always / never tear (else one in four).
    tear: Option<bool>,
}

impl std::str::FromStr for Power {
    type Err = NemesisError;

    /// A `power:OPTION` option: `+`-joined parts, each a target name,
    /// `tear` or `no-tear`, at most one of each kind.
    fn from_str(option: &str) -> Result<Power, NemesisError> {
        let bad = |why: String| {
            NemesisError::Option(format!(
                "--nemesis power:{option}: {why}; the option is a target ({}) and/or tear or no-tear, joined by '+', e.g. power:all+no-tear",
                PowerTarget::ALL.map(PowerTarget::name).join(", ")
            ))
        };
        let mut power = Power::default();
        for part in option.split('+') {
            if let Some(t) = PowerTarget::ALL.into_iter().find(|t| t.name() == part) {
                if power.target.replace(t).is_some() {
                    return Err(bad("two targets".into()));
                }
            } else if part == "tear" || part == "no-tear" {
                if power.tear.replace(part == "tear").is_some() {
                    return Err(bad("tear given twice".into()));
                }
            } else {
                return Err(bad(format!("unknown part {part:?}")));
            }
        }
        Ok(power)
    }
}

impl Power {
    /// Name, plot colour and needs of this package.
    pub const INFO: PackageInfo = PackageInfo {
        name: "power",
        colour: "#b8860b",
        needs_network: false,
        needs_shards: false,
    };
}

impl Package for Power {
    fn info(&self) -> PackageInfo {
        Self::INFO
    }

    fn spec(&self) -> String {
        let parts: Vec<&str> = self
            .target
            .map(PowerTarget::name)
            .into_iter()
            .chain(self.tear.map(|t| if t { "tear" } else { "no-tear" }))
            .collect();
        if parts.is_empty() {
            Self::INFO.name.to_string()
        } else {
            format!("{}:{}", Self::INFO.name, parts.join("+"))
        }
    }

    fn start(&mut self, db: &dyn Db, rng: &mut ChaCha8Rng) -> Result<Value, NemesisError> {
        // Draws happen whether or not an option fixes them, so that a seed
        // makes the same schedule with and without the option.
        let drawn = PowerTarget::draw(rng);
        let target = self.target.unwrap_or(drawn);
        let nodes = target.resolve(db, rng);
        // A tear keeps the torn file's earlier unsynced writes (the kernel
        // had flushed them) and cuts the newest: so a tear loses little,
        // and one power loss in four tears.
        let drawn = rng.random_bool(0.25);
        let tear = self.tear.unwrap_or(drawn);
        let mut lost = Map::new();
        for n in &nodes {
            db.kill(n)?;
            self.down.push(n.clone());
            lost.insert(n.clone(), db.lose_unsynced(n, tear)?);
        }
        Ok(json!({"target": target.name(), "nodes": nodes, "tear": tear, "lost": lost}))
    }

    fn stop(&mut self, db: &dyn Db) -> Result<Value, NemesisError> {
        let mut restarted = Vec::new();
        while let Some(n) = self.down.first().cloned() {
            db.restart(&n)?;
            self.down.remove(0);
            restarted.push(n);
        }
        Ok(json!({"nodes": restarted}))
    }

    fn active(&self) -> bool {
        !self.down.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::FakeDb;
    use rand::SeedableRng;

    #[test]
    fn power_kills_loses_unsynced_data_and_restarts() {
        let db = FakeDb::single(3, false);
        let mut p = Power::default();
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let v = p.start(&db, &mut rng).unwrap();
        let nodes: Vec<String> = serde_json::from_value(v["nodes"].clone()).unwrap();
        assert!(!nodes.is_empty());
        assert!(p.active() && p.needs_heal());
        assert_eq!(db.lost.lock().unwrap().len(), nodes.len());
        for n in &nodes {
            assert!(v["lost"][n].is_object(), "{v}");
        }
        let s = p.heal(&db).unwrap();
        assert_eq!(s["nodes"], json!(nodes));
        assert!(!p.active());
    }

    #[test]
    fn targets_cover_one_leader_majority_and_all_within_a_group() {
        let db = FakeDb::grouped(&["a", "b"], &["a2", "b1"], false);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let t = PowerTarget::draw(&mut rng);
            let nodes = t.resolve(&db, &mut rng);
            let want = match t {
                PowerTarget::One | PowerTarget::Leader => 1,
                PowerTarget::Majority => 2,
                PowerTarget::All => 3,
            };
            assert_eq!(nodes.len(), want, "{t:?} {nodes:?}");
            let prefix = &nodes[0][..1];
            assert!(
                nodes.iter().all(|n| n.starts_with(prefix)),
                "one group: {nodes:?}"
            );
            if t == PowerTarget::Leader {
                assert!(nodes[0] == "a2" || nodes[0] == "b1", "{nodes:?}");
            }
            seen.insert(t.name());
        }
        assert_eq!(seen.len(), 4);
    }

    #[test]
    fn options_fix_the_target_and_the_tear() {
        let db = FakeDb::single(3, false);
        let mut p: Power = "all+no-tear".parse().unwrap();
        assert_eq!(p.spec(), "power:all+no-tear");
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for _ in 0..20 {
            let v = p.start(&db, &mut rng).unwrap();
            assert_eq!(v["target"], "all", "{v}");
            assert_eq!(v["nodes"].as_array().unwrap().len(), 3, "{v}");
            assert_eq!(v["tear"], false, "{v}");
            p.heal(&db).unwrap();
        }
        let mut p: Power = "tear".parse().unwrap();
        assert_eq!(p.spec(), "power:tear");
        assert_eq!(p.start(&db, &mut rng).unwrap()["tear"], true);
        p.heal(&db).unwrap();
        assert_eq!(Power::default().spec(), "power");
        for bad in ["", "rack", "all+one", "tear+no-tear", "all+"] {
            let err = bad.parse::<Power>().err().unwrap().to_string();
            assert!(err.contains("power:all+no-tear"), "{bad}: {err}");
        }
    }

    #[test]
    fn power_on_a_system_without_disk_faults_is_an_error_and_stop_restarts() {
        let mut db = FakeDb::single(3, false);
        db.disk_faults = false;
        let mut p = Power::default();
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let err = p.start(&db, &mut rng).unwrap_err().to_string();
        assert!(err.contains("disk"), "{err}");
        assert!(p.active(), "the killed node is restarted by stop");
        p.stop(&db).unwrap();
        assert!(!p.active());
    }
}

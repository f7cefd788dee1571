//! `clock`: skew node clocks through libfaketime. A start either
//! bumps the clocks of one node or a minority by a random ±10 ms..30 s,
//! strobes one node's clock between its offset and offset + delta at a
//! random period (10..500 ms) for a random duration (1..10 s), or sets
//! clock *rates* (`rate`): the leader's clock runs slow and the others' fast,
//! within the drift bound the system's leases allow for (`Db::clock_drift_pct`,
//! `faultline run --clock-drift`; else ±`RATE_BOUND_PCT` %, kvnode's default),
//! until the stop. The history value gives the mode, nodes,
//! offsets, rates and timing; stopping resets every clock to the real time
//! (ending any strobe or drift).
//!
//! What each reaches: libfaketime is an `LD_PRELOAD` library, so it changes
//! what a process reads through libc (`clock_gettime`, `gettimeofday`,
//! `time`): kvnode's `SystemTime` always, and its `Instant` (monotonic:
//! tokio timers, the Raft tick, the lease) only when the nodes run with
//! `FAKETIME_DONT_FAKE_MONOTONIC=0` (lease mode). Then a bump or strobe moves
//! the monotonic clock too (a forward jump fires timers at once; a backward
//! one would stall them, which kvnode detects and treats as the lease
//! lost). Go binaries such as etcd read the clock through the vDSO without
//! libc, so no clock fault reaches them; nor does any reach the kernel
//! (TCP timers) or the runner.

use std::collections::BTreeMap;
use std::time::Duration;

use faultline_workloads::Db;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::error::NemesisError;
use crate::package::{Package, PackageInfo};
use crate::partition::network;
use crate::targets::minority;

/// Bump sizes to draw from (ms): small skews to tens of seconds.
const MAGNITUDES_MS: [i64; 6] = [10, 100, 500, 2_000, 10_000, 30_000];

/// The bound of `rate` faults, percent of real time either way.
pub const RATE_BOUND_PCT: u32 = 20;
/// A rate fault lasts until the stop, at most this long.
const RATE_HOLD: Duration = Duration::from_secs(120);

/// The bound of rate faults on `db`: the drift its leases allow for, or
/// [`RATE_BOUND_PCT`] (at most 90 %, so every clock still runs).
pub fn rate_bound(db: &dyn Db) -> u32 {
    db.clock_drift_pct().unwrap_or(RATE_BOUND_PCT).min(90)
}

/// A random skew: a magnitude, jittered by up to ±50 %, with a random sign.
fn draw_delta(rng: &mut ChaCha8Rng) -> i64 {
    let base = MAGNITUDES_MS[rng.random_range(0..MAGNITUDES_MS.len())];
    let ms = base + rng.random_range(-(base / 2)..=base / 2);
    if rng.random_bool(0.5) { ms } else { -ms }
}

#[derive(Debug, Default)]
pub struct Clock {
    active: bool,
}

impl Clock {
    /// Name, plot colour and needs of this package.
    pub const INFO: PackageInfo = PackageInfo {
        name: "clock",
        colour: "#9467bd",
        needs_network: true,
        needs_shards: false,
    };
}

impl Package for Clock {
    fn info(&self) -> PackageInfo {
        Self::INFO
    }

    fn start(&mut self, db: &dyn Db, rng: &mut ChaCha8Rng) -> Result<Value, NemesisError> {
        let net = network(db, "clock")?;
        let nodes = db.nodes();
        if nodes.is_empty() {
            return Err(NemesisError::Option("no nodes to skew".into()));
        }
        self.active = true;
        let mode = rng.random_range(0..3);
        if mode == 2 {
            let leader = db.leader();
            let d = rate_bound(db);
            let mut rates = BTreeMap::new();
            for n in &nodes {
                let rate = if Some(n) == leader.as_ref() {
                    rng.random_range(100 - d..=100 - d / 2)
                } else {
                    rng.random_range(100 + d / 2..=100 + d)
                };
                net.drift_clock(n, rate, RATE_HOLD)?;
                rates.insert(n.clone(), rate);
            }
            return Ok(json!({"mode": "rate", "leader": leader, "rates_pct": rates}));
        }
        if mode == 0 {
            let targets = if rng.random_bool(0.5) {
                vec![nodes[rng.random_range(0..nodes.len())].clone()]
            } else {
                minority(&nodes, rng)
            };
            let delta = draw_delta(rng);
            let mut offsets = BTreeMap::new();
            for n in &targets {
                let offset = net.clock(n)? + delta;
                net.set_clock(n, offset)?;
                offsets.insert(n.clone(), offset);
            }
            Ok(json!({"mode": "bump", "delta_ms": delta, "offsets_ms": offsets}))
        } else {
            let node = nodes[rng.random_range(0..nodes.len())].clone();
            let delta = draw_delta(rng);
            let period = Duration::from_millis(rng.random_range(10..=500));
            let duration = Duration::from_millis(rng.random_range(1_000..=10_000));
            let base = net.clock(&node)?;
            net.strobe_clock(&node, (base, base + delta), period, duration)?;
            Ok(json!({
                "mode": "strobe",
                "node": node,
                "offsets_ms": [base, base + delta],
                "period_ms": period.as_millis() as u64,
                "duration_ms": duration.as_millis() as u64,
            }))
        }
    }

    fn stop(&mut self, db: &dyn Db) -> Result<Value, NemesisError> {
        if !self.active {
            return Ok(json!({"reset": false}));
        }
        network(db, "clock")?.reset_clocks()?;
        self.active = false;
        Ok(json!({"reset": true}))
    }

    fn active(&self) -> bool {
        self.active
    }
}

#[cfg(test)]
mod tests {
    use faultline_workloads::NetControl;
    use rand::SeedableRng;

    use super::*;
    use crate::test_support::FakeDb;

    #[test]
    fn bumps_and_strobes_are_recorded_and_reset() {
        let db = FakeDb::single(3, true);
        let net = db.net.as_ref().unwrap();
        let mut c = Clock::default();
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut modes = std::collections::BTreeSet::new();
        for _ in 0..30 {
            let v = c.start(&db, &mut rng).unwrap();
            modes.insert(v["mode"].as_str().unwrap().to_string());
            if v["mode"] == "bump" {
                let d = v["delta_ms"].as_i64().unwrap();
                assert!((5..=45_000).contains(&d.abs()), "{v}");
                for (node, off) in v["offsets_ms"].as_object().unwrap() {
                    assert_eq!(net.clock(node).unwrap(), off.as_i64().unwrap());
                }
            } else if v["mode"] == "rate" {
                let rates = v["rates_pct"].as_object().unwrap();
                assert_eq!(rates.len(), 3, "{v}");
                for r in rates.values() {
                    let r = r.as_u64().unwrap() as u32;
                    assert!((100 - RATE_BOUND_PCT..=100 + RATE_BOUND_PCT).contains(&r));
                    assert!(r != 100, "{v}");
                }
                assert_eq!(net.drifts.lock().unwrap().len(), 3);
            } else {
                assert_eq!(net.strobes.lock().unwrap().len(), 1, "{v}");
                assert!((10..=500).contains(&v["period_ms"].as_u64().unwrap()));
            }
            assert!(c.active());
            c.stop(&db).unwrap();
            assert!(!c.active());
            assert!(net.clocks.lock().unwrap().is_empty());
            assert!(net.strobes.lock().unwrap().is_empty());
            assert!(net.drifts.lock().unwrap().is_empty());
        }
        assert_eq!(modes.len(), 3, "{modes:?}");
    }
}

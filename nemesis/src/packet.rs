//! `packet`: random packet loss between every two nodes with the iptables
//! `statistic` match (this kernel has no netem). The rate is drawn from
//! 5..50 % and recorded in the history value; stopping removes exactly the
//! loss rules.

use faultline_workloads::Db;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::error::NemesisError;
use crate::package::{Package, PackageInfo};
use crate::partition::network;

/// Loss probabilities to draw from.
const RATES: [f64; 5] = [0.05, 0.1, 0.2, 0.3, 0.5];

#[derive(Debug, Default)]
pub struct Packet {
    active: bool,
}

impl Packet {
    /// Name, plot colour and needs of this package.
    pub const INFO: PackageInfo = PackageInfo {
        name: "packet",
        colour: "#2ca02c",
        needs_network: true,
        needs_shards: false,
    };
}

impl Package for Packet {
    fn info(&self) -> PackageInfo {
        Self::INFO
    }

    fn start(&mut self, db: &dyn Db, rng: &mut ChaCha8Rng) -> Result<Value, NemesisError> {
        let net = network(db, "packet")?;
        let rate = RATES[rng.random_range(0..RATES.len())];
        self.active = true;
        let rules = net.set_loss(rate)?;
        Ok(json!({"loss": rate, "between": "all-pairs", "rules": rules}))
    }

    fn stop(&mut self, db: &dyn Db) -> Result<Value, NemesisError> {
        if !self.active {
            return Ok(json!({"rules": 0}));
        }
        let removed = network(db, "packet")?.heal_loss()?;
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

    #[test]
    fn loss_rate_is_recorded_and_healed() {
        let db = FakeDb::single(3, true);
        let mut p = Packet::default();
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let v = p.start(&db, &mut rng).unwrap();
        let rate = v["loss"].as_f64().unwrap();
        assert!(RATES.contains(&rate), "{v}");
        assert_eq!(*db.net.as_ref().unwrap().loss.lock().unwrap(), Some(rate));
        assert_eq!(v["rules"], 6);
        assert_eq!(p.stop(&db).unwrap()["rules"], 6);
        assert_eq!(*db.net.as_ref().unwrap().loss.lock().unwrap(), None);
        assert!(!p.active());
        let err = p.start(&FakeDb::single(3, false), &mut rng).unwrap_err();
        assert!(err.to_string().contains("--no-netns"), "{err}");
    }
}

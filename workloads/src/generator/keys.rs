//! Key rotation: `keys` keys in use at once; each takes `ops_per_key`
//! operations and is then replaced by a fresh key (`r0, r1, ...` for the
//! register, `a0, a1, ...` for append).

use rand::Rng;

use super::WorkloadKind;

#[derive(Debug, Clone)]
pub struct KeyRotation {
    prefix: &'static str,
    ops_per_key: u64,
    /// (key number, operations handed out) of each active slot.
    active: Vec<(u64, u64)>,
    next_key: u64,
    used: Vec<String>,
}

impl KeyRotation {
    pub fn new(kind: WorkloadKind, keys: usize, ops_per_key: u64) -> KeyRotation {
        let prefix = match kind {
            WorkloadKind::Register => "r",
            WorkloadKind::Append => "a",
        };
        let keys = keys.max(1) as u64;
        KeyRotation {
            prefix,
            ops_per_key: ops_per_key.max(1),
            active: (0..keys).map(|k| (k, 0)).collect(),
            next_key: keys,
            used: Vec::new(),
        }
    }

    /// Pick an active key at random for one more operation, retiring it
    /// (and activating a fresh key in its slot) once it has had its share.
    pub fn pick(&mut self, rng: &mut impl Rng) -> String {
        let slot = rng.random_range(0..self.active.len());
        let (key, count) = &mut self.active[slot];
        let name = format!("{}{}", self.prefix, key);
        if *count == 0 {
            self.used.push(name.clone());
        }
        *count += 1;
        if *count >= self.ops_per_key {
            self.active[slot] = (self.next_key, 0);
            self.next_key += 1;
        }
        name
    }

    /// Every key handed out so far, in first-use order.
    pub fn used(&self) -> &[String] {
        &self.used
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn every_key_gets_at_most_its_share_and_keys_rotate() {
        let mut rot = KeyRotation::new(WorkloadKind::Register, 3, 10);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut counts: HashMap<String, u64> = HashMap::new();
        for _ in 0..1000 {
            *counts.entry(rot.pick(&mut rng)).or_default() += 1;
        }
        assert!(counts.values().all(|&c| c <= 10));
        assert!(counts.len() >= 100, "{} keys", counts.len());
        assert_eq!(rot.used().len(), counts.len());
        assert_eq!(rot.used()[0].chars().next(), Some('r'));
    }
}

//! The `append` workload (the shape of MIT 6.5840 Lab 4): get / put /
//! append on a small set of keys. Every written value is unique (`<n>,`), so
//! an append applied twice or lost shows in later reads. Checked with the
//! `kv` model, key by key.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Generator, KeyRotation};
use crate::op::Op;

pub struct Append {
    rng: ChaCha8Rng,
    keys: KeyRotation,
    next_value: u64,
}

impl Append {
    pub fn new(seed: u64, keys: KeyRotation) -> Append {
        Append {
            rng: ChaCha8Rng::seed_from_u64(seed),
            keys,
            next_value: 0,
        }
    }

    fn fresh(&mut self) -> String {
        let v = format!("{},", self.next_value);
        self.next_value += 1;
        v
    }
}

impl Generator for Append {
    fn next_op(&mut self) -> Op {
        let key = self.keys.pick(&mut self.rng);
        match self.rng.random_range(0..20) {
            0..9 => Op::get(key),
            9 => {
                let v = self.fresh();
                Op::put(key, v)
            }
            _ => {
                let v = self.fresh();
                Op::append(key, v)
            }
        }
    }

    fn keys(&self) -> Vec<String> {
        self.keys.used().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::generator::WorkloadKind;
    use crate::op::F;

    #[test]
    fn written_values_are_unique() {
        let mut g = Append::new(5, KeyRotation::new(WorkloadKind::Append, 3, 400));
        let mut seen = HashSet::new();
        let mut writes = 0;
        for _ in 0..2000 {
            let op = g.next_op();
            assert_ne!(op.f, F::Cas);
            if op.f != F::Get {
                writes += 1;
                assert!(seen.insert(op.value.as_str().unwrap().to_string()));
            }
        }
        assert!(writes > 500);
        assert!(g.keys().len() >= 5);
    }
}

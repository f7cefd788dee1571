//! The `register` workload: get / put / cas on independent integer
//! registers (values 0..5, so a cas succeeds often enough to matter).
//! Checked with the `cas-register` model, key by key.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Generator, KeyRotation};
use crate::op::Op;

/// Values written are drawn from `0..VALUES`.
pub const VALUES: i64 = 5;

pub struct Register {
    rng: ChaCha8Rng,
    keys: KeyRotation,
}

impl Register {
    pub fn new(seed: u64, keys: KeyRotation) -> Register {
        Register {
            rng: ChaCha8Rng::seed_from_u64(seed),
            keys,
        }
    }
}

impl Generator for Register {
    fn next_op(&mut self) -> Op {
        let key = self.keys.pick(&mut self.rng);
        match self.rng.random_range(0..10) {
            0..4 => Op::get(key),
            4..7 => Op::put(key, self.rng.random_range(0..VALUES)),
            _ => Op::cas(
                key,
                self.rng.random_range(0..VALUES),
                self.rng.random_range(0..VALUES),
            ),
        }
    }

    fn keys(&self) -> Vec<String> {
        self.keys.used().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generator::WorkloadKind;
    use crate::op::F;

    #[test]
    fn mixes_all_three_functions_with_small_integers() {
        let mut g = Register::new(3, KeyRotation::new(WorkloadKind::Register, 2, 200));
        let ops: Vec<Op> = (0..300).map(|_| g.next_op()).collect();
        for f in [F::Get, F::Put, F::Cas] {
            assert!(ops.iter().any(|o| o.f == f), "no {f:?}");
        }
        for op in &ops {
            match op.f {
                F::Put => assert!((0..VALUES).contains(&op.value.as_i64().unwrap())),
                F::Cas => assert!(op.cas_pair().is_some()),
                F::Get => assert!(op.value.is_null()),
                F::Append => panic!("register generated an append"),
            }
        }
    }
}

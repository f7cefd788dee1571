//! The node's private, deterministic PRNG (splitmix64). It lives inside the
//! node so a `RawNode` stays `Clone + Hash + Eq` and replays identically from
//! the same seed: no global or OS randomness ever enters the core.

/// What `Rng::new` mixes into the seed for node `id`: seeding node `id`
/// with `base ^ id_mix(id)` gives every node the same stream.
pub(crate) fn id_mix(id: u64) -> u64 {
    id.wrapping_mul(0xD1B5_4A32_D192_ED03)
}

/// A splitmix64 generator: 8 bytes of state, full period, good enough to
/// spread election timeouts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator for node `id` seeded with `seed`; different ids with the
    /// same seed get different streams.
    pub fn new(seed: u64, id: u64) -> Rng {
        let mut rng = Rng {
            state: seed ^ id_mix(id),
        };
        // Discard one output so nearby seeds diverge at once.
        rng.next_u64();
        rng
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `[0, bound)`; `bound` must be positive.
    pub fn below(&mut self, bound: u64) -> u64 {
        assert!(bound > 0, "Rng::below needs a positive bound");
        self.next_u64() % bound
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let mut a = Rng::new(7, 1);
        let mut b = Rng::new(7, 1);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn ids_get_different_streams() {
        let mut a = Rng::new(7, 1);
        let mut b = Rng::new(7, 2);
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        assert_ne!(xs, ys);
    }

    #[test]
    fn unmixed_seeds_give_every_id_the_same_stream() {
        let mut a = Rng::new(7 ^ id_mix(1), 1);
        let mut b = Rng::new(7 ^ id_mix(2), 2);
        for _ in 0..8 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn below_stays_in_range_and_spreads() {
        let mut r = Rng::new(1, 1);
        let mut seen = [false; 10];
        for _ in 0..1000 {
            let v = r.below(10) as usize;
            assert!(v < 10);
            seen[v] = true;
        }
        assert!(
            seen.iter().all(|s| *s),
            "every value in range is drawn: {seen:?}"
        );
    }
}

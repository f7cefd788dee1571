//! Deterministic randomness without global or OS sources: [`SplitMix64`]
//! (a seeded splitmix64 stream) and [`splitmix64`] (its mixing function, a
//! bijection used to derive seeds), for every crate that needs a small,
//! stable, dependency-free PRNG; and [`Rng`], the node's private generator.
//! `Rng` lives inside the node so a `RawNode` stays `Clone + Hash + Eq` and
//! replays identically from the same seed: no global or OS randomness ever
//! enters the core. The streams are fixed: a seed gives the same numbers in
//! every version (printed seeds replay).

/// The splitmix64 increment (2^64 / the golden ratio, odd).
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// The splitmix64 output function (a bijective finaliser).
const fn finalise(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One splitmix64 step of `z`: the first output of `SplitMix64::new(z)`.
/// A bijection of `u64` that spreads nearby inputs far apart, for deriving
/// seeds from seeds.
pub const fn splitmix64(z: u64) -> u64 {
    finalise(z.wrapping_add(GAMMA))
}

/// A splitmix64 generator: 8 bytes of state, full period, fast; fine for
/// test choices, load generation and timeouts (not for cryptography).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose first output is `splitmix64(seed)`.
    pub const fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GAMMA);
        finalise(self.state)
    }

    /// A value in `[0, bound)` (the next output modulo `bound`); `bound`
    /// must be positive.
    pub fn below(&mut self, bound: u64) -> u64 {
        assert!(bound > 0, "SplitMix64::below needs a positive bound");
        self.next_u64() % bound
    }
}

/// What `Rng::new` mixes into the seed for node `id`: seeding node `id`
/// with `base ^ id_mix(id)` gives every node the same stream.
pub(crate) fn id_mix(id: u64) -> u64 {
    id.wrapping_mul(0xD1B5_4A32_D192_ED03)
}

/// A node's generator: a [`SplitMix64`] seeded from the node's seed and id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rng {
    inner: SplitMix64,
}

impl Rng {
    /// A generator for node `id` seeded with `seed`; different ids with the
    /// same seed get different streams.
    pub fn new(seed: u64, id: u64) -> Rng {
        let mut rng = Rng {
            inner: SplitMix64::new(seed ^ id_mix(id)),
        };
        // Discard one output so nearby seeds diverge at once.
        rng.next_u64();
        rng
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
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

    #[test]
    fn splitmix64_gives_the_reference_stream() {
        // The published splitmix64 outputs for seed 1234567.
        let mut r = SplitMix64::new(1_234_567);
        let got: Vec<u64> = (0..5).map(|_| r.next_u64()).collect();
        assert_eq!(
            got,
            [
                6_457_827_717_110_365_317,
                3_203_168_211_198_807_973,
                9_817_491_932_198_370_423,
                4_593_380_528_125_082_431,
                16_408_922_859_458_223_821,
            ]
        );
        assert_eq!(splitmix64(1_234_567), got[0]);
        assert_eq!(SplitMix64::new(0).next_u64(), splitmix64(0));
    }

    #[test]
    fn node_rng_is_splitmix64_after_one_discard() {
        let mut node = Rng::new(42, 3);
        let mut plain = SplitMix64::new(42 ^ id_mix(3));
        plain.next_u64();
        for _ in 0..16 {
            assert_eq!(node.next_u64(), plain.next_u64());
        }
    }
}

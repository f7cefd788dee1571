//! The seeded, structure-aware mutator. Input number `i` of a run with seed
//! `s` depends only on `(s, i)` (ChaCha8 stream `i` of seed `s`), so any input
//! of a run can be made again on its own.
//!
//! An input is either purely random bytes (1 in 16), or a seed input changed
//! by 1 to 8 stacked mutations: bit flips, random and "interesting" bytes,
//! small arithmetic, dictionary tokens inserted or overwritten, ranges
//! deleted or duplicated, truncation, splicing with another seed, hostile
//! integers written over the input (lengths, counts), one-byte varints
//! widened to hostile values (indexes, terms, lengths), nesting bombs
//! (a token repeated up to thousands of times) and, for text, line swaps and
//! duplicates. Inputs are capped at [`MAX_INPUT`] bytes.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::targets::{InputKind, Target};

/// The largest input the mutator makes.
pub const MAX_INPUT: usize = 128 * 1024;

/// Makes the inputs of one target.
pub struct Mutator<'a> {
    seeds: &'a [Vec<u8>],
    dictionary: &'a [&'a [u8]],
    kind: InputKind,
}

const INTERESTING_BYTES: &[u8] = &[
    0, 1, 2, 0x7f, 0x80, 0xfb, 0xfc, 0xfd, 0xfe, 0xff, b'\n', b'\t', b' ', b'"', b'\\', b'[', b']',
    b'{', b'}', b'(', b')', b'#', b':', b',', b';', b'-', b'0', b'9',
];

const INTERESTING_INTS: &[u64] = &[
    0,
    1,
    2,
    0x7f,
    0x80,
    0xff,
    0x100,
    0x7fff,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    u64::MAX,
    u64::MAX - 1,
];

/// Tokens that open a nesting level in the text formats.
const OPENERS: &[&[u8]] = &[b"[", b"{", b"(", b"#{", b"#_ ", b"#t ", b"[{:value "];

impl<'a> Mutator<'a> {
    pub fn new(target: &'a Target, seeds: &'a [Vec<u8>]) -> Self {
        Mutator {
            seeds,
            dictionary: target.dictionary,
            kind: target.kind,
        }
    }

    /// The random stream of input `index` of a run seeded with `seed`.
    pub fn rng_for(seed: u64, index: u64) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(index);
        rng
    }

    /// Input `index` of the run seeded with `seed`, written into `out`.
    /// The first inputs of a run are the seeds themselves, unchanged.
    pub fn input(&self, seed: u64, index: u64, out: &mut Vec<u8>) {
        out.clear();
        if let Some(s) = usize::try_from(index).ok().and_then(|i| self.seeds.get(i)) {
            out.extend_from_slice(s);
            return;
        }
        let mut rng = Self::rng_for(seed, index);
        if rng.random_ratio(1, 16) {
            let len = rng.random_range(0..=256);
            for _ in 0..len {
                let b = self.random_byte(&mut rng);
                out.push(b);
            }
            return;
        }
        out.extend_from_slice(&self.seeds[rng.random_range(0..self.seeds.len())]);
        let rounds = 1 + (rng.random::<u32>() % 8).min(rng.random::<u32>() % 8);
        for _ in 0..rounds {
            self.mutate_once(&mut rng, out);
            out.truncate(MAX_INPUT);
        }
    }

    fn random_byte(&self, rng: &mut ChaCha8Rng) -> u8 {
        match self.kind {
            InputKind::Binary => rng.random(),
            InputKind::Text if rng.random_ratio(1, 32) => rng.random(),
            InputKind::Text if rng.random_ratio(1, 8) => {
                INTERESTING_BYTES[rng.random_range(0..INTERESTING_BYTES.len())]
            }
            InputKind::Text => rng.random_range(0x20..0x7f),
        }
    }

    fn pos(rng: &mut ChaCha8Rng, len: usize) -> usize {
        rng.random_range(0..=len)
    }

    fn range(rng: &mut ChaCha8Rng, len: usize) -> (usize, usize) {
        let start = rng.random_range(0..len);
        let max = (len - start).min(if rng.random_ratio(1, 4) { len } else { 32 });
        let n = rng.random_range(1..=max);
        (start, start + n)
    }

    fn token(&self, rng: &mut ChaCha8Rng) -> Vec<u8> {
        if !self.dictionary.is_empty() && rng.random_ratio(3, 4) {
            self.dictionary[rng.random_range(0..self.dictionary.len())].to_vec()
        } else {
            let n = rng.random_range(1..=8);
            (0..n).map(|_| self.random_byte(rng)).collect()
        }
    }

    fn mutate_once(&self, rng: &mut ChaCha8Rng, out: &mut Vec<u8>) {
        let text = self.kind == InputKind::Text;
        let len = out.len();
        match rng.random_range(0..18u32) {
            // Flip one bit.
            0 if len > 0 => {
                let i = rng.random_range(0..len);
                out[i] ^= 1 << rng.random_range(0..8);
            }
            // A random byte.
            1 if len > 0 => {
                let i = rng.random_range(0..len);
                out[i] = self.random_byte(rng);
            }
            // An interesting byte.
            2 if len > 0 => {
                let i = rng.random_range(0..len);
                out[i] = INTERESTING_BYTES[rng.random_range(0..INTERESTING_BYTES.len())];
            }
            // Small arithmetic on a byte (digits stay near digits).
            3 if len > 0 => {
                let i = rng.random_range(0..len);
                let delta = rng.random_range(1..=16u8);
                out[i] = if rng.random() {
                    out[i].wrapping_add(delta)
                } else {
                    out[i].wrapping_sub(delta)
                };
            }
            // Insert a dictionary token.
            4 | 5 => {
                let at = Self::pos(rng, len);
                let tok = self.token(rng);
                out.splice(at..at, tok);
            }
            // Overwrite with a dictionary token.
            6 if len > 0 => {
                let tok = self.token(rng);
                let at = rng.random_range(0..len);
                let end = (at + tok.len()).min(len);
                out.splice(at..end, tok);
            }
            // Delete a range.
            7 if len > 0 => {
                let (a, b) = Self::range(rng, len);
                out.drain(a..b);
            }
            // Duplicate a range somewhere else.
            8 if len > 0 => {
                let (a, b) = Self::range(rng, len);
                let copy = out[a..b].to_vec();
                let at = Self::pos(rng, len);
                out.splice(at..at, copy);
            }
            // Truncate.
            9 if len > 0 => {
                let at = rng.random_range(0..len);
                out.truncate(at);
            }
            // Splice with another seed: our head, its tail.
            10 => {
                let other = &self.seeds[rng.random_range(0..self.seeds.len())];
                let at = Self::pos(rng, len);
                let from = Self::pos(rng, other.len());
                out.truncate(at);
                out.extend_from_slice(&other[from..]);
            }
            // A hostile integer, 1/2/4/8 bytes, either endianness (binary),
            // or as decimal digits (text).
            11 | 12 => {
                let mut v = INTERESTING_INTS[rng.random_range(0..INTERESTING_INTS.len())];
                if rng.random_ratio(1, 4) {
                    v = (len as u64)
                        .wrapping_add(rng.random_range(0..3))
                        .wrapping_sub(1);
                }
                if text {
                    let digits = if rng.random() {
                        format!("-{v}")
                    } else {
                        v.to_string()
                    };
                    let at = Self::pos(rng, len);
                    out.splice(at..at, digits.into_bytes());
                } else {
                    let width = [1usize, 2, 4, 8][rng.random_range(0..4)];
                    let bytes = if rng.random() {
                        v.to_le_bytes()
                    } else {
                        v.to_be_bytes()
                    };
                    let bytes = if bytes[0] == 0 && bytes[7] != 0 {
                        bytes[8 - width..].to_vec()
                    } else {
                        bytes[..width].to_vec()
                    };
                    if len >= width && rng.random() {
                        let at = rng.random_range(0..=len - width);
                        out[at..at + width].copy_from_slice(&bytes);
                    } else {
                        let at = Self::pos(rng, len);
                        out.splice(at..at, bytes);
                    }
                }
            }
            // A nesting bomb or a long run: a token repeated many times.
            13 => {
                let tok = if text && rng.random() {
                    OPENERS[rng.random_range(0..OPENERS.len())].to_vec()
                } else if len > 0 && rng.random() {
                    let (a, b) = Self::range(rng, len.min(16));
                    out[a..b].to_vec()
                } else {
                    self.token(rng)
                };
                let times = [2usize, 3, 8, 64, 200, 1_000, 5_000, 20_000][rng.random_range(0..8)];
                let times = times.min(MAX_INPUT / tok.len().max(1));
                let at = Self::pos(rng, len);
                let run: Vec<u8> = tok
                    .iter()
                    .copied()
                    .cycle()
                    .take(tok.len() * times)
                    .collect();
                out.splice(at..at, run);
            }
            // Text: swap two lines, or duplicate one.
            14 | 15 if text && len > 0 => {
                let mut lines: Vec<Vec<u8>> =
                    out.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
                let i = rng.random_range(0..lines.len());
                let j = rng.random_range(0..lines.len());
                if rng.random() {
                    lines.swap(i, j);
                } else {
                    let copy = lines[i].clone();
                    lines.insert(j, copy);
                }
                *out = lines.join(&b'\n');
            }
            // Binary: overwrite a run with one repeated byte.
            14 | 15 if len > 0 => {
                let (a, b) = Self::range(rng, len);
                let v = INTERESTING_BYTES[rng.random_range(0..INTERESTING_BYTES.len())];
                out[a..b].fill(v);
            }
            // Binary: replace one byte (a one-byte bincode varint: a length,
            // an index, a count) with a wide varint of a hostile value.
            16 | 17 if !text && len > 0 => {
                let i = rng.random_range(0..len);
                let v = if rng.random_ratio(1, 4) {
                    u64::from(out[i]) // the same value, encoded non-minimally
                } else {
                    INTERESTING_INTS[rng.random_range(0..INTERESTING_INTS.len())]
                };
                let wide: Vec<u8> = match rng.random_range(0..3) {
                    0 => [&[251u8][..], &(v as u16).to_le_bytes()].concat(),
                    1 => [&[252u8][..], &(v as u32).to_le_bytes()].concat(),
                    _ => [&[253u8][..], &v.to_le_bytes()].concat(),
                };
                out.splice(i..=i, wide);
            }
            // The empty input grows a token.
            _ => {
                let tok = self.token(rng);
                out.extend(tok);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::TARGETS;

    #[test]
    fn inputs_depend_only_on_seed_and_index() {
        let t = &TARGETS[0];
        let seeds = t.all_seeds();
        let m = Mutator::new(t, &seeds);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for i in [0, 1, 50, 1_000, 77_777] {
            m.input(9, i, &mut a);
            m.input(9, i, &mut b);
            assert_eq!(a, b, "input {i}");
            assert!(a.len() <= MAX_INPUT);
        }
        m.input(9, 500, &mut a);
        m.input(10, 500, &mut b);
        assert_ne!(a, b, "different seeds give different inputs");
    }

    #[test]
    fn the_first_inputs_are_the_seeds() {
        let t = &TARGETS[0];
        let seeds = t.all_seeds();
        let m = Mutator::new(t, &seeds);
        let mut out = Vec::new();
        for (i, s) in seeds.iter().enumerate() {
            m.input(1, i as u64, &mut out);
            assert_eq!(&out, s);
        }
    }
}

//! The memo of visited search nodes: (set of linearized operations, model
//! state). Bitsets live in one arena of `u64` words, a hash table holds entry
//! ids, and the bitset part of the hash is maintained incrementally by the
//! search (Zobrist hashing: XOR of a per-operation random key), so a lookup
//! costs O(1) plus one bitset comparison on a hash match.

use hashbrown::HashTable;

use crate::fasthash::mix;

pub struct Memo {
    words: usize,
    bits: Vec<u64>,
    states: Vec<u32>,
    hashes: Vec<u64>,
    table: HashTable<u32>,
}

/// The Zobrist key of operation `op`.
#[inline]
pub fn zobrist(op: u32) -> u64 {
    mix(u64::from(op).wrapping_add(0x632b_e59b_d9b4_e019))
}

/// Combines a bitset's Zobrist hash with a state.
#[inline]
pub fn entry_hash(bits_hash: u64, state: u32) -> u64 {
    mix(bits_hash ^ u64::from(state).wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

impl Memo {
    pub fn new(words: usize) -> Self {
        Memo {
            words,
            bits: Vec::new(),
            states: Vec::new(),
            hashes: Vec::new(),
            table: HashTable::new(),
        }
    }

    /// Records `(bits, state)`; false if it was already there.
    #[inline]
    pub fn insert(&mut self, hash: u64, bits: &[u64], state: u32) -> bool {
        let w = self.words;
        let (arena, states) = (&self.bits, &self.states);
        let found = self.table.find(hash, |&id| {
            let i = id as usize;
            states[i] == state && &arena[i * w..(i + 1) * w] == bits
        });
        if found.is_some() {
            return false;
        }
        let id = self.states.len() as u32;
        self.bits.extend_from_slice(bits);
        self.states.push(state);
        self.hashes.push(hash);
        let hashes = &self.hashes;
        self.table.insert_unique(hash, id, |&i| hashes[i as usize]);
        true
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// Approximate heap bytes held.
    pub fn bytes(&self) -> usize {
        self.bits.capacity() * 8
            + self.states.capacity() * 4
            + self.hashes.capacity() * 8
            + self.table.capacity() * 5
    }
}

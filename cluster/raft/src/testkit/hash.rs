//! 64-bit mixing and hashing for the safety checks and the simulator: log
//! prefix hashes, entry hashes, state digests. Fixed functions (no seeds,
//! no `std` hasher), so a value hashes the same in every run and version.

use crate::types::{Entry, EntryKind, Term};

/// Mixes one 64-bit value into another (splitmix64 finaliser over the sum).
pub fn mix(a: u64, b: u64) -> u64 {
    let mut z = a.rotate_left(23) ^ b.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hashes a byte string (FNV-1a, then mixed).
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    mix(h, bytes.len() as u64)
}

/// A hash of an entry's term, kind and data (not its index).
pub fn entry_parts_hash(term: Term, kind: &EntryKind, data: &[u8]) -> u64 {
    let kind = match kind {
        EntryKind::Normal => 1,
        EntryKind::Noop => 2,
        EntryKind::ConfChange(cc) => {
            let (op, id) = match cc {
                crate::conf::ConfChange::AddVoter(id) => (3, id),
                crate::conf::ConfChange::AddLearner(id) => (4, id),
                crate::conf::ConfChange::Remove(id) => (5, id),
            };
            mix(op, *id)
        }
    };
    mix(mix(term, kind), hash_bytes(data))
}

/// A hash of one entry's term, kind and data.
pub fn entry_hash(entry: &Entry) -> u64 {
    entry_parts_hash(entry.term, &entry.kind, &entry.data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_depend_on_every_part() {
        let e = Entry {
            term: 1,
            index: 1,
            kind: EntryKind::Normal,
            data: b"v1".to_vec(),
        };
        let h = entry_hash(&e);
        assert_ne!(
            h,
            entry_hash(&Entry {
                term: 2,
                ..e.clone()
            })
        );
        assert_ne!(
            h,
            entry_hash(&Entry {
                kind: EntryKind::Noop,
                ..e.clone()
            })
        );
        assert_ne!(
            h,
            entry_hash(&Entry {
                data: b"v2".to_vec(),
                ..e.clone()
            })
        );
        assert_eq!(h, entry_hash(&Entry { index: 9, ..e }));
        assert_ne!(mix(1, 2), mix(2, 1));
        assert_ne!(hash_bytes(b""), hash_bytes(b"\0"));
    }
}

//! Helpers of the storage tests: building entries and hard states, and a
//! fresh store that has recorded its first vote.

#![allow(dead_code)]

use std::path::Path;

use faultline_kvnode::storage::{Storage, StorageOptions};
use faultline_raft::{Entry, EntryKind, HardState};

/// Normal entries at the indexes of `range`, all of `term`, each carrying
/// `data(index)`.
pub fn entries(
    range: impl IntoIterator<Item = u64>,
    term: u64,
    data: impl Fn(u64) -> Vec<u8>,
) -> Vec<Entry> {
    range
        .into_iter()
        .map(|index| Entry {
            term,
            index,
            kind: EntryKind::Normal,
            data: data(index),
        })
        .collect()
}

pub fn hs(term: u64, vote: Option<u64>, commit: u64) -> HardState {
    HardState { term, vote, commit }
}

/// A store opened in `dir` with the default options that has persisted
/// term 1 with a vote for node 1 and nothing committed.
pub fn open_voted(dir: &Path) -> Storage {
    let (mut s, _) = Storage::open(dir, StorageOptions::default()).unwrap();
    s.persist(Some(&hs(1, Some(1), 0)), &[], None).unwrap();
    s
}

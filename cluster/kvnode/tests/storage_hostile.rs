//! Regression tests for WAL contents the fuzz targets (fuzz/, `scripts/fuzz.sh`)
//! found: records with valid checksums whose indexes overflowed the replay
//! arithmetic (a panic with overflow checks, a wrong log without). Each must
//! refuse to open with a clear error naming the file and offset.

mod storage_common;

use std::fs;
use std::path::Path;

use faultline_kvnode::storage::{Storage, StorageError, StorageOptions};
use faultline_raft::{Entry, EntryKind, Snapshot, SnapshotMeta};
use serde::Serialize;
use storage_common::open_voted;

/// The serde layout of the WAL's records (same variants, same order).
#[derive(Serialize)]
#[allow(dead_code)]
enum Record {
    Entries(Vec<Entry>),
    CompactTo { index: u64, term: u64 },
    ResetTo { index: u64, term: u64 },
    Commit(u64),
}

fn entry(index: u64) -> Entry {
    Entry {
        term: 1,
        index,
        kind: EntryKind::Normal,
        data: vec![7],
    }
}

/// Replace the WAL with one segment holding `records`, framed as the WAL
/// frames them (`[u32 len][u32 crc32][payload]`, little-endian).
fn write_wal(dir: &Path, records: &[Record]) {
    let wal = dir.join("wal");
    for e in fs::read_dir(&wal).unwrap() {
        fs::remove_file(e.unwrap().path()).unwrap();
    }
    let mut bytes = Vec::new();
    for r in records {
        let payload = bincode::serde::encode_to_vec(r, bincode::config::standard()).unwrap();
        bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        bytes.extend_from_slice(&payload);
    }
    fs::write(wal.join("000000000001.log"), bytes).unwrap();
}

fn open_err(dir: &Path) -> String {
    match Storage::open(dir, StorageOptions::default()) {
        Ok((_, p)) => panic!("opened a corrupt WAL: {p:?}"),
        Err(e) => {
            assert!(matches!(e, StorageError::CorruptWal { .. }), "{e}");
            e.to_string()
        }
    }
}

/// Found by the wal_records target: with a snapshot file and no WAL marker,
/// entries at index 0 made `Storage::open` compute `0 - 1`.
#[test]
fn entries_at_index_zero_are_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open_voted(dir.path());
    let snap = Snapshot {
        meta: SnapshotMeta {
            index: 8,
            term: 1,
            voters: vec![1],
            learners: Vec::new(),
        },
        data: vec![],
    };
    s.persist(None, &[], Some(&snap)).unwrap();
    drop(s);
    write_wal(dir.path(), &[Record::Entries(vec![entry(0)])]);
    let err = open_err(dir.path());
    assert!(
        err.contains("index 0") && err.contains("000000000001.log at byte offset 0"),
        "{err}"
    );
}

/// `u64::MAX` followed by 0 wrapped to "contiguous" without overflow checks.
#[test]
fn a_batch_wrapping_past_the_largest_index_is_not_contiguous() {
    let dir = tempfile::tempdir().unwrap();
    drop(open_voted(dir.path()));
    write_wal(
        dir.path(),
        &[Record::Entries(vec![entry(u64::MAX), entry(0)])],
    );
    let err = open_err(dir.path());
    assert!(err.contains("not contiguous"), "{err}");
}

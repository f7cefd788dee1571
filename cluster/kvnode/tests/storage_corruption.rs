//! Crash and corruption handling: a torn tail is cut back to the last whole
//! record, damage before the tail refuses to open with the file and offset.

mod storage_common;

use faultline_kvnode::storage::{Storage, StorageError, StorageOptions};
use faultline_raft::Entry;
use std::fs;
use std::path::{Path, PathBuf};
use storage_common::{entries, hs, open_voted};

fn ents(range: std::ops::RangeInclusive<u64>, term: u64) -> Vec<Entry> {
    entries(range, term, |index| vec![index as u8; 40])
}

fn segment(dir: &Path, seq: u64) -> PathBuf {
    dir.join("wal").join(format!("{seq:012}.log"))
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to.join("wal")).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
    for entry in fs::read_dir(from.join("wal")).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), to.join("wal").join(entry.file_name())).unwrap();
    }
}

/// Five single-record batches; returns the byte offset each record starts at
/// and the final file length.
fn five_batches(dir: &Path) -> (Vec<u64>, u64) {
    let mut s = open_voted(dir);
    let mut offsets = Vec::new();
    for i in 0..5u64 {
        offsets.push(fs::metadata(segment(dir, 1)).unwrap().len());
        s.persist(None, &ents(3 * i + 1..=3 * i + 3, 1), None)
            .unwrap();
    }
    (offsets, fs::metadata(segment(dir, 1)).unwrap().len())
}

#[test]
fn torn_tail_at_every_offset_recovers_the_previous_records() {
    let original = tempfile::tempdir().unwrap();
    let (offsets, full) = five_batches(original.path());
    let last_start = offsets[4];
    for cut in last_start..full {
        let work = tempfile::tempdir().unwrap();
        copy_dir(original.path(), work.path());
        let seg = segment(work.path(), 1);
        let f = fs::OpenOptions::new().write(true).open(&seg).unwrap();
        f.set_len(cut).unwrap();
        drop(f);
        let (mut s, p) = Storage::open(work.path(), StorageOptions::default())
            .unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        assert_eq!(p.entries, ents(1..=12, 1), "cut at {cut}");
        assert_eq!(
            fs::metadata(&seg).unwrap().len(),
            last_start,
            "tail truncated"
        );
        // The log continues where it was cut.
        s.persist(None, &ents(13..=13, 2), None).unwrap();
        drop(s);
        let (_, p) = Storage::open(work.path(), StorageOptions::default()).unwrap();
        assert_eq!(p.entries.last().unwrap().term, 2);
        assert_eq!(p.entries.len(), 13);
    }
}

#[test]
fn zero_filled_tail_is_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let (_, full) = five_batches(dir.path());
    let seg = segment(dir.path(), 1);
    let mut bytes = fs::read(&seg).unwrap();
    bytes.extend(std::iter::repeat_n(0u8, 4096));
    fs::write(&seg, bytes).unwrap();
    let (_, p) = Storage::open(dir.path(), StorageOptions::default()).unwrap();
    assert_eq!(p.entries, ents(1..=15, 1));
    assert_eq!(fs::metadata(&seg).unwrap().len(), full);
}

#[test]
fn corrupt_last_record_checksum_is_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let (offsets, full) = five_batches(dir.path());
    let seg = segment(dir.path(), 1);
    let mut bytes = fs::read(&seg).unwrap();
    bytes[(full - 3) as usize] ^= 0xff;
    fs::write(&seg, bytes).unwrap();
    let (_, p) = Storage::open(dir.path(), StorageOptions::default()).unwrap();
    assert_eq!(p.entries, ents(1..=12, 1));
    assert_eq!(fs::metadata(&seg).unwrap().len(), offsets[4]);
}

#[test]
fn corrupt_middle_record_refuses_with_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let (offsets, _) = five_batches(dir.path());
    let seg = segment(dir.path(), 1);
    let original = fs::read(&seg).unwrap();
    // Damage the payload, then the length field, of the second record.
    for at in [offsets[1] + 20, offsets[1] + 1] {
        let mut bytes = original.clone();
        bytes[at as usize] ^= 0x5a;
        fs::write(&seg, &bytes).unwrap();
        let err = Storage::open(dir.path(), StorageOptions::default()).unwrap_err();
        match &err {
            StorageError::CorruptWal { path, offset, .. } => {
                assert_eq!(path, &seg);
                assert_eq!(*offset, offsets[1]);
            }
            other => panic!("expected CorruptWal, got {other}"),
        }
        let msg = err.to_string();
        assert!(msg.contains(&seg.display().to_string()), "{msg}");
        assert!(
            msg.contains(&format!("byte offset {}", offsets[1])),
            "{msg}"
        );
        assert!(msg.contains("catch up from its peers"), "{msg}");
        // Refusing must not have modified the file.
        assert_eq!(fs::read(&seg).unwrap(), bytes);
    }
}

#[test]
fn damage_in_a_non_last_segment_refuses() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut s, _) = Storage::open(dir.path(), StorageOptions { segment_size: 512 }).unwrap();
        for i in 1..=30u64 {
            s.persist(None, &ents(i..=i, 1), None).unwrap();
        }
        assert!(s.stats().segment_count >= 3);
    }
    // Cut the tail of segment 1: a torn write there cannot be a crash, since
    // later segments were written after it was complete.
    let seg = segment(dir.path(), 1);
    let len = fs::metadata(&seg).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(len - 5)
        .unwrap();
    let err = Storage::open(dir.path(), StorageOptions::default()).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, StorageError::CorruptWal { .. }), "{msg}");
    assert!(
        msg.contains("000000000001.log") && msg.contains("not the last"),
        "{msg}"
    );
}

#[test]
fn missing_segment_refuses() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut s, _) = Storage::open(dir.path(), StorageOptions { segment_size: 512 }).unwrap();
        for i in 1..=30u64 {
            s.persist(None, &ents(i..=i, 1), None).unwrap();
        }
    }
    fs::remove_file(segment(dir.path(), 2)).unwrap();
    let err = Storage::open(dir.path(), StorageOptions::default()).unwrap_err();
    assert!(
        err.to_string().contains("000000000002.log is missing"),
        "{err}"
    );
    // Losing the first segment without a snapshot is a gap too.
    fs::remove_file(segment(dir.path(), 1)).unwrap();
    let err = Storage::open(dir.path(), StorageOptions::default()).unwrap_err();
    assert!(matches!(err, StorageError::Inconsistent { .. }), "{err}");
}

#[test]
fn corrupt_hardstate_refuses() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut s, _) = Storage::open(dir.path(), StorageOptions::default()).unwrap();
        s.persist(Some(&hs(4, Some(2), 0)), &[], None).unwrap();
    }
    let path = dir.path().join("hardstate");
    let mut bytes = fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    fs::write(&path, bytes).unwrap();
    let err = Storage::open(dir.path(), StorageOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            StorageError::CorruptFile {
                what: "hardstate",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("checksum mismatch"), "{err}");
}

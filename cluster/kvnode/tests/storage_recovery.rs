//! Storage round trips: what `persist` writes, `open` gives back, across
//! restarts, overwrites, snapshots and compaction.

mod storage_common;

use faultline_kvnode::storage::{Storage, StorageError, StorageOptions};
use faultline_raft::{Entry, PersistedState, Snapshot, SnapshotMeta};
use std::path::Path;
use storage_common::{entries, hs};

fn ents(range: std::ops::RangeInclusive<u64>, term: u64) -> Vec<Entry> {
    entries(range, term, |index| {
        format!("entry {index} term {term}").into_bytes()
    })
}

fn snap(index: u64, term: u64, data: &[u8]) -> Snapshot {
    Snapshot {
        meta: SnapshotMeta {
            index,
            term,
            voters: vec![1, 2, 3],
            learners: Vec::new(),
        },
        data: data.to_vec(),
    }
}

fn small_segments() -> StorageOptions {
    StorageOptions { segment_size: 1024 }
}

fn tiny_segments() -> StorageOptions {
    StorageOptions { segment_size: 256 }
}

fn reopen(dir: &Path, opts: StorageOptions) -> (Storage, PersistedState) {
    Storage::open(dir, opts).expect("reopen")
}

fn wal_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("wal"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn fresh_directory_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let (s, p) = Storage::open(dir.path(), StorageOptions::default()).unwrap();
    assert_eq!(p, PersistedState::default());
    assert_eq!(s.stats().segment_count, 1);
    assert_eq!(wal_files(dir.path()), vec!["000000000001.log"]);
}

#[test]
fn round_trip() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut s, _) = Storage::open(dir.path(), StorageOptions::default()).unwrap();
        s.persist(Some(&hs(1, Some(1), 0)), &ents(1..=3, 1), None)
            .unwrap();
        s.persist(Some(&hs(1, Some(1), 2)), &ents(4..=5, 1), None)
            .unwrap();
    }
    let (s, p) = reopen(dir.path(), StorageOptions::default());
    assert_eq!(p.hard_state, hs(1, Some(1), 2));
    assert_eq!(p.snapshot, None);
    assert_eq!(p.entries, ents(1..=5, 1));
    assert_eq!(s.last_index(), 5);
}

#[test]
fn restart_after_many_batches_and_segment_rolls() {
    let dir = tempfile::tempdir().unwrap();
    let mut expected = Vec::new();
    for round in 0..5u64 {
        let (mut s, p) = reopen(dir.path(), small_segments());
        assert_eq!(p.entries, expected, "round {round}");
        for b in 0..40u64 {
            let first = expected.len() as u64 + 1;
            let batch = ents(first..=first + (b % 3), round + 1);
            let commit = first + (b % 3);
            s.persist(Some(&hs(round + 1, None, commit)), &batch, None)
                .unwrap();
            expected.extend(batch);
        }
        assert!(s.stats().segment_count > 1, "segments rolled");
    }
    let (_, p) = reopen(dir.path(), small_segments());
    assert_eq!(p.entries, expected);
    assert_eq!(p.hard_state.term, 5);
    assert_eq!(p.hard_state.commit, expected.len() as u64);
    assert!(wal_files(dir.path()).len() > 10);
}

#[test]
fn conflicting_suffix_is_overwritten_on_replay() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut s, _) = Storage::open(dir.path(), small_segments()).unwrap();
        s.persist(Some(&hs(1, Some(2), 2)), &ents(1..=10, 1), None)
            .unwrap();
        // A new leader of term 2 overwrites 5.. with a shorter suffix.
        s.persist(Some(&hs(2, None, 2)), &ents(5..=7, 2), None)
            .unwrap();
        // Then term 3 overwrites from 7 and extends.
        s.persist(Some(&hs(3, Some(3), 8)), &ents(7..=12, 3), None)
            .unwrap();
        assert_eq!(s.last_index(), 12);
    }
    let (_, p) = reopen(dir.path(), small_segments());
    let mut expected = ents(1..=4, 1);
    expected.extend(ents(5..=6, 2));
    expected.extend(ents(7..=12, 3));
    assert_eq!(p.entries, expected);
    assert_eq!(p.hard_state, hs(3, Some(3), 8));
}

#[test]
fn snapshot_compacts_segments_and_recovery_still_works() {
    let dir = tempfile::tempdir().unwrap();
    let (mut s, _) = Storage::open(dir.path(), tiny_segments()).unwrap();
    for i in 1..=60u64 {
        s.persist(Some(&hs(1, Some(1), i)), &ents(i..=i, 1), None)
            .unwrap();
    }
    let before = s.stats().segment_count;
    assert!(before > 4, "needs several segments, got {before}");
    // Snapshot at 50: segments holding only entries <= 50 go away.
    s.persist(None, &[], Some(&snap(50, 1, b"state at 50")))
        .unwrap();
    let after = s.stats().segment_count;
    assert!(
        after < before,
        "compaction deleted segments: {before} -> {after}"
    );
    assert_eq!(after, wal_files(dir.path()).len());
    s.persist(Some(&hs(1, Some(1), 62)), &ents(61..=62, 1), None)
        .unwrap();
    drop(s);
    let (s, p) = reopen(dir.path(), tiny_segments());
    assert_eq!(p.snapshot, Some(snap(50, 1, b"state at 50")));
    assert_eq!(p.entries, ents(51..=62, 1));
    assert_eq!(p.hard_state, hs(1, Some(1), 62));
    assert_eq!(s.snapshot_index(), 50);
    // A second snapshot compacts further.
    drop(s);
    let (mut s, _) = reopen(dir.path(), tiny_segments());
    for i in 63..=120u64 {
        s.persist(Some(&hs(1, Some(1), i)), &ents(i..=i, 1), None)
            .unwrap();
    }
    s.persist(None, &[], Some(&snap(118, 1, b"state at 118")))
        .unwrap();
    assert!(s.stats().segment_count <= 2, "{:?}", s.stats());
    drop(s);
    let (_, p) = reopen(dir.path(), tiny_segments());
    assert_eq!(p.snapshot.unwrap().meta.index, 118);
    assert_eq!(p.entries, ents(119..=120, 1));
}

#[test]
fn installed_snapshot_that_does_not_match_resets_the_log() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut s, _) = Storage::open(dir.path(), StorageOptions::default()).unwrap();
        s.persist(Some(&hs(1, None, 3)), &ents(1..=8, 1), None)
            .unwrap();
        // The leader's snapshot at 6 has term 2: our 6 (term 1) conflicts.
        s.persist(
            Some(&hs(2, None, 6)),
            &ents(7..=7, 2),
            Some(&snap(6, 2, b"leader state")),
        )
        .unwrap();
        assert_eq!(s.last_index(), 7);
    }
    let (_, p) = reopen(dir.path(), StorageOptions::default());
    assert_eq!(p.snapshot.unwrap().meta.term, 2);
    assert_eq!(p.entries, ents(7..=7, 2));
    assert_eq!(p.hard_state.commit, 6);
}

#[test]
fn snapshot_beyond_the_log_resets_it() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut s, _) = Storage::open(dir.path(), StorageOptions::default()).unwrap();
        s.persist(Some(&hs(1, None, 2)), &ents(1..=3, 1), None)
            .unwrap();
        s.persist(
            Some(&hs(3, None, 20)),
            &[],
            Some(&snap(20, 3, b"far ahead")),
        )
        .unwrap();
        s.persist(None, &ents(21..=22, 3), None).unwrap();
    }
    let (_, p) = reopen(dir.path(), StorageOptions::default());
    assert_eq!(p.snapshot.unwrap().meta.index, 20);
    assert_eq!(p.entries, ents(21..=22, 3));
    assert_eq!(p.hard_state, hs(3, None, 20));
}

#[test]
fn matching_snapshot_keeps_the_log_after_it() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut s, _) = Storage::open(dir.path(), StorageOptions::default()).unwrap();
        s.persist(Some(&hs(1, None, 5)), &ents(1..=9, 1), None)
            .unwrap();
        s.persist(None, &[], Some(&snap(5, 1, b"five"))).unwrap();
    }
    let (_, p) = reopen(dir.path(), StorageOptions::default());
    assert_eq!(p.entries, ents(6..=9, 1));
}

#[test]
fn leftover_temp_files_are_ignored_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut s, _) = Storage::open(dir.path(), StorageOptions::default()).unwrap();
        s.persist(Some(&hs(1, None, 3)), &ents(1..=4, 1), None)
            .unwrap();
        s.persist(None, &[], Some(&snap(2, 1, b"old"))).unwrap();
    }
    // A crash in the middle of writing new versions leaves half-written temps.
    std::fs::write(dir.path().join("snapshot.tmp"), b"half a snapshot").unwrap();
    std::fs::write(dir.path().join("hardstate.tmp"), b"\x00\x01").unwrap();
    let (_, p) = reopen(dir.path(), StorageOptions::default());
    assert_eq!(p.snapshot, Some(snap(2, 1, b"old")));
    assert_eq!(p.hard_state, hs(1, None, 3));
    assert_eq!(p.entries, ents(3..=4, 1));
    assert!(!dir.path().join("snapshot.tmp").exists());
    assert!(!dir.path().join("hardstate.tmp").exists());
}

#[test]
fn interrupted_snapshot_install_is_completed_on_open() {
    // Crash after the snapshot file was renamed into place but before its WAL
    // marker was written: build that state by copying a snapshot file.
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for d in [&a, &b] {
        let (mut s, _) = Storage::open(d.path(), StorageOptions::default()).unwrap();
        s.persist(Some(&hs(1, None, 6)), &ents(1..=10, 1), None)
            .unwrap();
    }
    {
        let (mut s, _) = reopen(b.path(), StorageOptions::default());
        s.persist(None, &[], Some(&snap(6, 1, b"six"))).unwrap();
    }
    std::fs::copy(b.path().join("snapshot"), a.path().join("snapshot")).unwrap();
    for _ in 0..2 {
        let (_, p) = reopen(a.path(), StorageOptions::default());
        assert_eq!(p.snapshot, Some(snap(6, 1, b"six")));
        assert_eq!(p.entries, ents(7..=10, 1));
    }
    let (mut s, _) = reopen(a.path(), StorageOptions::default());
    s.persist(None, &ents(11..=11, 1), None).unwrap();
    drop(s);
    let (_, p) = reopen(a.path(), StorageOptions::default());
    assert_eq!(p.entries, ents(7..=11, 1));
}

#[test]
fn one_fsync_per_batch() {
    let dir = tempfile::tempdir().unwrap();
    let (mut s, _) = Storage::open(dir.path(), StorageOptions::default()).unwrap();
    s.persist(Some(&hs(1, Some(1), 0)), &ents(1..=1, 1), None)
        .unwrap();
    let start = s.stats().fsync_count;
    for i in 2..=51u64 {
        // Entries plus a commit advance: one write, one fsync.
        s.persist(Some(&hs(1, Some(1), i - 1)), &ents(i..=i, 1), None)
            .unwrap();
    }
    assert_eq!(s.stats().fsync_count - start, 50);
    // A batch of 64 entries is still one fsync.
    let before = s.stats().fsync_count;
    s.persist(None, &ents(52..=115, 1), None).unwrap();
    assert_eq!(s.stats().fsync_count - before, 1);
    // A commit-only advance rides on the next fsync.
    let before = s.stats().fsync_count;
    s.persist(Some(&hs(1, Some(1), 100)), &[], None).unwrap();
    assert_eq!(s.stats().fsync_count, before);
    // Nothing new: nothing written.
    s.persist(Some(&hs(1, Some(1), 100)), &[], None).unwrap();
    assert_eq!(s.stats().fsync_count, before);
    // A vote change costs the atomic hardstate replacement (file + directory).
    s.persist(Some(&hs(2, Some(3), 100)), &ents(116..=116, 2), None)
        .unwrap();
    assert_eq!(s.stats().fsync_count, before + 3);
    let stats = s.stats();
    assert_eq!(stats.last_index, 116);
    assert_eq!(stats.segment_count, 1);
    assert!(stats.bytes_on_disk >= stats.wal_bytes_written);
    drop(s);
    let (_, p) = reopen(dir.path(), StorageOptions::default());
    assert_eq!(p.hard_state, hs(2, Some(3), 100));
    assert_eq!(p.entries.len(), 116);
}

#[test]
fn bad_input_is_refused_without_touching_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let (mut s, _) = Storage::open(dir.path(), StorageOptions::default()).unwrap();
    s.persist(Some(&hs(1, None, 2)), &ents(1..=5, 1), None)
        .unwrap();
    s.persist(None, &[], Some(&snap(3, 1, b"three"))).unwrap();
    let before = s.stats();
    let gap = s.persist(None, &ents(8..=9, 1), None).unwrap_err();
    assert!(gap.to_string().contains("gap"), "{gap}");
    let mut holey = ents(6..=6, 1);
    holey.extend(ents(8..=8, 1));
    assert!(matches!(
        s.persist(None, &holey, None),
        Err(StorageError::InvalidInput(_))
    ));
    let below = s.persist(None, &ents(2..=6, 1), None).unwrap_err();
    assert!(below.to_string().contains("snapshot"), "{below}");
    let stale = s
        .persist(None, &[], Some(&snap(2, 1, b"older")))
        .unwrap_err();
    assert!(matches!(
        stale,
        StorageError::StaleSnapshot {
            given: 2,
            current: 3
        }
    ));
    let commit = s.persist(Some(&hs(1, None, 99)), &[], None).unwrap_err();
    assert!(
        commit.to_string().contains("past the last log index"),
        "{commit}"
    );
    assert_eq!(s.stats(), before);
    // The same snapshot again is a no-op, and the storage still works.
    s.persist(None, &ents(6..=6, 1), Some(&snap(3, 1, b"three")))
        .unwrap();
    drop(s);
    let (_, p) = reopen(dir.path(), StorageOptions::default());
    assert_eq!(p.entries, ents(4..=6, 1));
}

#[test]
fn a_second_open_of_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_s, _) = Storage::open(dir.path(), StorageOptions::default()).unwrap();
    let err = Storage::open(dir.path(), StorageOptions::default()).unwrap_err();
    assert!(matches!(err, StorageError::Locked { .. }), "{err}");
}

//! `MemDisk`: an in-memory disk that holds exactly what a node made durable
//! from its `Ready` batches (hard state, log entries, snapshot) and from
//! compaction. A crash keeps it and loses everything else; a restart reads
//! it back as the core's `PersistedState`.

use crate::node::{PersistedState, Ready};
use crate::relabel::Renaming;
use crate::types::{Entry, HardState, Index, Snapshot};

/// The durable state of one node. Fields in the order of `PersistedState`
/// (and hashed the same way).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct MemDisk {
    pub hard_state: HardState,
    /// The latest snapshot, if any.
    pub snapshot: Option<Snapshot>,
    /// Entries after the snapshot, contiguous.
    pub entries: Vec<Entry>,
}

impl MemDisk {
    /// Index of the snapshot point (0 when there is none).
    pub fn snapshot_index(&self) -> Index {
        self.snapshot.as_ref().map_or(0, |s| s.meta.index)
    }

    /// Index of the last durable entry (or of the snapshot point).
    pub fn last_index(&self) -> Index {
        self.entries
            .last()
            .map_or(self.snapshot_index(), |e| e.index)
    }

    /// Whether `ready` asks for anything to be written.
    pub fn writes(ready: &Ready) -> bool {
        ready.hard_state.is_some() || !ready.entries.is_empty() || ready.snapshot.is_some()
    }

    /// Make a Ready's snapshot, entries and hard state durable, in that
    /// order (the contract of `Ready`).
    pub fn write(&mut self, ready: &Ready) {
        if let Some(snapshot) = &ready.snapshot {
            self.store_snapshot(snapshot.clone());
        }
        self.append(&ready.entries);
        if let Some(hs) = &ready.hard_state {
            self.hard_state = hs.clone();
        }
    }

    /// Appends entries, first discarding any at or after `entries[0].index`
    /// (entries covered by the snapshot are skipped).
    pub fn append(&mut self, entries: &[Entry]) {
        let Some(first) = entries.first() else { return };
        let keep = self.entries.partition_point(|e| e.index < first.index);
        self.entries.truncate(keep);
        let snap = self.snapshot_index();
        let skip = entries.iter().take_while(|e| e.index <= snap).count();
        self.entries.extend_from_slice(&entries[skip..]);
    }

    /// Stores a snapshot received from the leader or made by compaction:
    /// entries it covers go; if the log disagrees at its point, all go. An
    /// older snapshot than the one held changes nothing.
    pub fn store_snapshot(&mut self, snapshot: Snapshot) {
        if snapshot.meta.index <= self.snapshot_index() {
            return;
        }
        let (index, term) = (snapshot.meta.index, snapshot.meta.term);
        let matches = self
            .entries
            .iter()
            .any(|e| e.index == index && e.term == term);
        if matches {
            self.entries.retain(|e| e.index > index);
        } else {
            self.entries.clear();
        }
        self.snapshot = Some(snapshot);
    }

    /// What a restart reads back.
    pub fn persisted(&self) -> PersistedState {
        PersistedState {
            hard_state: self.hard_state.clone(),
            snapshot: self.snapshot.clone(),
            entries: self.entries.clone(),
        }
    }

    /// This disk with every server id renamed by `r` (see `relabel`).
    pub fn relabel(&self, r: &Renaming) -> MemDisk {
        MemDisk {
            hard_state: self.hard_state.relabel(r),
            snapshot: self.snapshot.as_ref().map(|s| s.relabel(r)),
            // Membership changes name servers; other entries carry no ids.
            entries: self
                .entries
                .iter()
                .map(|e| match e.kind {
                    crate::types::EntryKind::ConfChange(_) => e.relabel(r),
                    _ => e.clone(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

    use crate::types::{EntryKind, SnapshotMeta};

    use super::*;

    fn e(term: u64, index: u64) -> Entry {
        Entry {
            term,
            index,
            kind: EntryKind::Normal,
            data: vec![],
        }
    }

    fn snap(index: u64, term: u64) -> Snapshot {
        Snapshot {
            meta: SnapshotMeta {
                index,
                term,
                voters: vec![1],
                learners: vec![],
            },
            data: vec![],
        }
    }

    #[test]
    fn append_overwrites_a_conflicting_suffix() {
        let mut d = MemDisk::default();
        d.append(&[e(1, 1), e(1, 2), e(1, 3)]);
        d.append(&[e(2, 2)]);
        assert_eq!(d.entries, vec![e(1, 1), e(2, 2)]);
        assert_eq!(d.last_index(), 2);
    }

    #[test]
    fn snapshot_drops_covered_entries_and_keeps_a_matching_suffix() {
        let mut d = MemDisk::default();
        d.append(&[e(1, 1), e(1, 2), e(1, 3)]);
        d.store_snapshot(snap(2, 1));
        assert_eq!(d.entries, vec![e(1, 3)]);
        d.append(&[e(1, 2), e(1, 3), e(1, 4)]);
        assert_eq!(d.entries, vec![e(1, 3), e(1, 4)]);
        d.store_snapshot(snap(1, 1));
        assert_eq!(d.snapshot_index(), 2, "an older snapshot changes nothing");
        d.store_snapshot(snap(5, 2));
        assert!(d.entries.is_empty());
        assert_eq!(d.last_index(), 5);
        assert_eq!(d.persisted().snapshot.unwrap().meta.index, 5);
    }

    #[test]
    fn a_ready_is_written_snapshot_first_then_entries_then_hard_state() {
        let mut d = MemDisk::default();
        d.append(&[e(1, 1), e(1, 2)]);
        let ready = Ready {
            snapshot: Some(snap(4, 2)),
            entries: vec![e(2, 5)],
            hard_state: Some(HardState {
                term: 2,
                vote: Some(1),
                commit: 4,
            }),
            ..Ready::default()
        };
        assert!(MemDisk::writes(&ready));
        assert!(!MemDisk::writes(&Ready::default()));
        d.write(&ready);
        assert_eq!(d.entries, vec![e(2, 5)]);
        assert_eq!(d.hard_state.commit, 4);
        let p = d.persisted();
        assert_eq!((p.snapshot.unwrap().meta.index, p.entries.len()), (4, 1));
    }

    #[test]
    fn hashes_like_the_persisted_state_it_holds() {
        let mut d = MemDisk::default();
        d.append(&[e(1, 1)]);
        d.hard_state.term = 3;
        let h = BuildHasherDefault::<DefaultHasher>::default();
        assert_eq!(h.hash_one(&d), h.hash_one(d.persisted()));
    }
}

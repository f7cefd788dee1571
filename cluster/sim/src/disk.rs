//! A simulated node's disk: exactly what the node made durable from its
//! `Ready` batches (hard state, log entries, snapshot) and from compaction.
//! A crash keeps this and loses everything else; a restart reads it back as
//! the core's `PersistedState`.

use faultline_raft::{Entry, HardState, Index, PersistedState, Snapshot};

/// The durable state of one simulated node.
#[derive(Debug, Clone, Default)]
pub struct Disk {
    pub hard_state: HardState,
    pub snapshot: Option<Snapshot>,
    /// Entries after the snapshot, contiguous.
    pub entries: Vec<Entry>,
}

impl Disk {
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

    /// Appends entries, first discarding any at or after `entries[0].index`
    /// (entries covered by the snapshot are skipped).
    pub fn append(&mut self, entries: &[Entry]) {
        let Some(first) = entries.first() else { return };
        let snap = self.snapshot_index();
        let keep_below = first.index.max(snap + 1);
        let base = snap + 1;
        let keep = (keep_below - base) as usize;
        if keep < self.entries.len() {
            self.entries.truncate(keep);
        }
        let skip = entries.iter().take_while(|e| e.index <= snap).count();
        self.entries.extend_from_slice(&entries[skip..]);
    }

    /// Stores a snapshot received from the leader or made by compaction:
    /// entries it covers go; if the log disagrees at its point, all go.
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
}

#[cfg(test)]
mod tests {
    use faultline_raft::{EntryKind, SnapshotMeta};

    use super::*;

    fn e(term: u64, index: u64) -> Entry {
        Entry {
            term,
            index,
            kind: EntryKind::Normal,
            data: vec![],
        }
    }

    #[test]
    fn append_overwrites_a_conflicting_suffix() {
        let mut d = Disk::default();
        d.append(&[e(1, 1), e(1, 2), e(1, 3)]);
        d.append(&[e(2, 2)]);
        assert_eq!(d.entries, vec![e(1, 1), e(2, 2)]);
        assert_eq!(d.last_index(), 2);
    }

    #[test]
    fn snapshot_drops_covered_entries_and_keeps_a_matching_suffix() {
        let mut d = Disk::default();
        d.append(&[e(1, 1), e(1, 2), e(1, 3)]);
        let snap = |index, term| Snapshot {
            meta: SnapshotMeta {
                index,
                term,
                voters: vec![1],
            },
            data: vec![],
        };
        d.store_snapshot(snap(2, 1));
        assert_eq!(d.entries, vec![e(1, 3)]);
        d.append(&[e(1, 2), e(1, 3), e(1, 4)]);
        assert_eq!(d.entries, vec![e(1, 3), e(1, 4)]);
        d.store_snapshot(snap(5, 2));
        assert!(d.entries.is_empty());
        assert_eq!(d.last_index(), 5);
        assert_eq!(d.persisted().snapshot.unwrap().meta.index, 5);
    }
}

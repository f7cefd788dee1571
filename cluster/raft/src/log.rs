//! The node's view of its log: the latest snapshot, the retained entries after
//! it (durable and not-yet-durable alike), and the four cursors that say how
//! far the log is committed, durable, handed to the caller and applied.
//!
//! Invariants (checked by `debug_check`):
//! `snapshot.index <= applied <= committed`, `applied <= persisted <= last_index`,
//! and `entries[k].index == snapshot.index + 1 + k`.

use crate::conf::ConfState;
use crate::types::{Entry, Index, Snapshot, SnapshotMeta, Term};

/// Why entries could not be appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendError {
    /// The entries would overwrite a committed entry with a different one.
    ConflictsWithCommitted { index: Index, committed: Index },
}

/// The log of one node.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RaftLog {
    /// The latest snapshot (index 0: none). Its data is kept so a leader can
    /// send it to a lagging follower.
    snapshot: Snapshot,
    /// Entries `snapshot.index + 1 ..= last_index`.
    entries: Vec<Entry>,
    /// Highest index known committed.
    committed: Index,
    /// Highest index the caller has applied (reported through `advance`).
    applied: Index,
    /// Highest index known durable on this node's disk.
    persisted: Index,
    /// Entries up to here were handed out in a `Ready` not yet advanced.
    handed: Index,
    /// Committed entries up to here were handed out for applying.
    applying: Index,
    /// A snapshot received from a leader that is not yet durable.
    snapshot_pending: bool,
    /// That snapshot was handed out in a `Ready` not yet advanced.
    snapshot_handed: bool,
}

impl RaftLog {
    /// A log restored from disk: `snapshot` (if any), the contiguous entries
    /// after it, and the persisted commit index. Everything given is durable;
    /// the applied index starts at the snapshot.
    pub fn restore(
        snapshot: Option<Snapshot>,
        entries: Vec<Entry>,
        commit: Index,
    ) -> Result<RaftLog, String> {
        let snapshot = snapshot.unwrap_or_default();
        let snap_index = snapshot.meta.index;
        let mut prev_term = snapshot.meta.term;
        for (k, e) in entries.iter().enumerate() {
            let want = snap_index + 1 + k as u64;
            if e.index != want {
                return Err(format!(
                    "persisted entries are not contiguous after the snapshot: expected index {want}, found {}",
                    e.index
                ));
            }
            if e.term < prev_term {
                return Err(format!(
                    "persisted entry {} has term {} below the previous term {prev_term}",
                    e.index, e.term
                ));
            }
            prev_term = e.term;
        }
        let last = snap_index + entries.len() as u64;
        if commit > last {
            return Err(format!(
                "persisted commit index {commit} is beyond the last persisted entry {last}"
            ));
        }
        Ok(RaftLog {
            snapshot,
            entries,
            committed: commit.max(snap_index),
            applied: snap_index,
            persisted: last,
            handed: last,
            applying: snap_index,
            snapshot_pending: false,
            snapshot_handed: false,
        })
    }

    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }
    pub fn snapshot_index(&self) -> Index {
        self.snapshot.meta.index
    }
    pub fn first_index(&self) -> Index {
        self.snapshot.meta.index + 1
    }
    pub fn last_index(&self) -> Index {
        self.snapshot.meta.index + self.entries.len() as u64
    }
    pub fn last_term(&self) -> Term {
        self.entries
            .last()
            .map_or(self.snapshot.meta.term, |e| e.term)
    }
    pub fn committed(&self) -> Index {
        self.committed
    }
    pub fn applied(&self) -> Index {
        self.applied
    }
    pub fn persisted(&self) -> Index {
        self.persisted
    }
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Term of the entry at `index`: known for the snapshot point and the
    /// retained entries (and 0 for index 0), unknown otherwise.
    pub fn term(&self, index: Index) -> Option<Term> {
        let snap = self.snapshot.meta.index;
        if index == snap {
            return Some(self.snapshot.meta.term);
        }
        if index < snap || index > self.last_index() {
            return None;
        }
        Some(self.entries[(index - snap - 1) as usize].term)
    }

    /// Whether the entry at `index` has term `term`.
    pub fn matches(&self, index: Index, term: Term) -> bool {
        self.term(index) == Some(term)
    }

    /// Whether a log ending at (`last_term`, `last_index`) is at least as up
    /// to date as this one (Raft §5.4.1).
    pub fn is_up_to_date(&self, last_index: Index, last_term: Term) -> bool {
        (last_term, last_index) >= (self.last_term(), self.last_index())
    }

    /// Up to `max` entries from `lo` (inclusive) on; empty when `lo` is past
    /// the end. `lo` must be in the retained log or just after it.
    pub fn entries_from(&self, lo: Index, max: usize) -> &[Entry] {
        let snap = self.snapshot.meta.index;
        if lo <= snap || lo > self.last_index() {
            return &[];
        }
        let start = (lo - snap - 1) as usize;
        let end = start.saturating_add(max).min(self.entries.len());
        &self.entries[start..end]
    }

    /// The first index at or before `index` whose entry has the same term as
    /// the entry at `index`, not going below `floor` (the rejection hint of
    /// fast log backup). `index` must be in the retained log.
    pub fn first_index_of_term_at(&self, index: Index, floor: Index) -> Index {
        let Some(term) = self.term(index) else {
            return index;
        };
        let lower = floor.max(self.first_index());
        let mut i = index;
        while i > lower && self.term(i - 1) == Some(term) {
            i -= 1;
        }
        i
    }

    /// The largest index `<= index` whose term is `<= term`, and that term
    /// (leader side of fast log backup). Stops at the snapshot point.
    pub fn last_index_with_term_at_most(&self, index: Index, term: Term) -> (Index, Term) {
        let mut i = index.min(self.last_index());
        loop {
            match self.term(i) {
                Some(t) if t <= term => return (i, t),
                Some(_) if i > self.snapshot.meta.index => i -= 1,
                _ => return (i, 0),
            }
        }
    }

    /// Leader side: append one entry at the end.
    pub fn push(&mut self, entry: Entry) {
        assert_eq!(
            entry.index,
            self.last_index() + 1,
            "pushed entry must extend the log"
        );
        self.entries.push(entry);
    }

    /// Follower side: `entries` follow `prev` (already matched). Entries that
    /// already match are skipped; at the first conflict the log is truncated
    /// and the rest appended. Returns the index of the last new entry.
    pub fn append_after(&mut self, prev: Index, entries: &[Entry]) -> Result<Index, AppendError> {
        let last_new = prev + entries.len() as u64;
        let conflict = entries
            .iter()
            .find(|e| !self.matches(e.index, e.term) && e.index > self.snapshot.meta.index);
        let Some(first) = conflict else {
            return Ok(last_new);
        };
        if first.index <= self.committed {
            return Err(AppendError::ConflictsWithCommitted {
                index: first.index,
                committed: self.committed,
            });
        }
        let from = first.index;
        self.truncate_from(from);
        let skip = (from - prev - 1) as usize;
        self.entries.extend_from_slice(&entries[skip..]);
        Ok(last_new)
    }

    /// Drop every entry at or after `index` (uncommitted ones only).
    fn truncate_from(&mut self, index: Index) {
        let snap = self.snapshot.meta.index;
        debug_assert!(index > self.committed && index > snap);
        self.entries.truncate((index - snap - 1) as usize);
        self.persisted = self.persisted.min(index - 1);
        self.handed = self.handed.min(index - 1);
    }

    /// Raise the commit index (never lowers it). Capped at the last index.
    pub fn commit_to(&mut self, index: Index) -> bool {
        let index = index.min(self.last_index());
        if index > self.committed {
            self.committed = index;
            true
        } else {
            false
        }
    }

    /// Entries not yet durable nor handed out.
    pub fn unstable_entries(&self) -> &[Entry] {
        let from = self.persisted.max(self.handed) + 1;
        self.entries_from(from, usize::MAX)
    }

    /// Mark the unstable entries handed out (in a `Ready`).
    pub fn hand_out_entries(&mut self) {
        self.handed = self.handed.max(self.last_index());
    }

    /// Committed, durable entries not yet handed out for applying.
    pub fn next_committed(&self) -> &[Entry] {
        let from = self.applying.max(self.snapshot.meta.index) + 1;
        let to = self.committed.min(self.persisted);
        if to < from {
            return &[];
        }
        self.entries_from(from, (to - from + 1) as usize)
    }

    /// Mark committed entries up to `index` handed out for applying.
    pub fn hand_out_committed(&mut self, index: Index) {
        self.applying = self.applying.max(index);
    }

    /// The caller made entries up to (`index`, `term`) durable. Ignored if
    /// the log changed under it since (that entry was truncated).
    pub fn stable_to(&mut self, index: Index, term: Term) {
        if self.matches(index, term) && index > self.persisted {
            self.persisted = index;
        }
    }

    /// The caller applied entries up to `index`.
    pub fn applied_to(&mut self, index: Index) {
        // A caller cannot apply what was never committed: cap, never panic.
        let index = index.min(self.committed);
        if index > self.applied {
            self.applied = index;
            self.applying = self.applying.max(index);
        }
    }

    /// A snapshot received from the leader, not yet handed out.
    pub fn pending_snapshot(&self) -> Option<&Snapshot> {
        (self.snapshot_pending && !self.snapshot_handed).then_some(&self.snapshot)
    }

    pub fn hand_out_snapshot(&mut self) {
        if self.snapshot_pending {
            self.snapshot_handed = true;
        }
    }

    /// The caller made the snapshot at `index` durable and restored it.
    pub fn snapshot_stable(&mut self, index: Index) {
        if self.snapshot_pending && self.snapshot.meta.index == index {
            self.snapshot_pending = false;
            self.snapshot_handed = false;
        }
        if index <= self.committed && index > self.applied {
            self.applied = index;
        }
    }

    /// Replace the whole log by a snapshot from the leader.
    pub fn install_snapshot(&mut self, snapshot: Snapshot) {
        let index = snapshot.meta.index;
        self.snapshot = snapshot;
        self.entries.clear();
        self.committed = index;
        self.persisted = index;
        self.handed = index;
        self.applying = index;
        self.snapshot_pending = true;
        self.snapshot_handed = false;
    }

    /// The application has a snapshot at `index` (retained, applied): drop
    /// the log up to it.
    pub fn compact(&mut self, index: Index, data: Vec<u8>, conf: ConfState) {
        let term = self
            .term(index)
            .expect("compact index checked to be in the retained log");
        let drop = (index - self.snapshot.meta.index) as usize;
        self.entries.drain(..drop);
        self.snapshot = Snapshot {
            meta: SnapshotMeta {
                index,
                term,
                voters: conf.voters,
                learners: conf.learners,
            },
            data,
        };
    }

    /// Rewrite the snapshot's voters and learners and the entries' ids
    /// (renaming servers, see relabel.rs).
    pub fn relabel_ids(&mut self, f: impl Fn(&[u64]) -> Vec<u64>, g: impl Fn(&Entry) -> Entry) {
        self.snapshot.meta.voters = f(&self.snapshot.meta.voters);
        self.snapshot.meta.learners = f(&self.snapshot.meta.learners);
        for e in &mut self.entries {
            if matches!(e.kind, crate::types::EntryKind::ConfChange(_)) {
                *e = g(e);
            }
        }
    }

    /// Check the cursor invariants (debug builds and tests).
    pub fn debug_check(&self) {
        let snap = self.snapshot.meta.index;
        debug_assert!(snap <= self.applied.max(snap));
        debug_assert!(self.applied <= self.committed);
        debug_assert!(self.committed <= self.last_index());
        debug_assert!(self.persisted <= self.last_index());
        debug_assert!(
            self.entries
                .iter()
                .enumerate()
                .all(|(k, e)| e.index == snap + 1 + k as u64)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::EntryKind;

    fn e(index: Index, term: Term) -> Entry {
        Entry {
            term,
            index,
            kind: EntryKind::Normal,
            data: vec![index as u8],
        }
    }

    fn log_of(terms: &[Term]) -> RaftLog {
        let entries = terms
            .iter()
            .enumerate()
            .map(|(k, t)| e(k as u64 + 1, *t))
            .collect();
        RaftLog::restore(None, entries, 0).unwrap()
    }

    #[test]
    fn restore_rejects_gaps_and_bad_commit() {
        assert!(RaftLog::restore(None, vec![e(1, 1), e(3, 1)], 0).is_err());
        assert!(RaftLog::restore(None, vec![e(1, 2), e(2, 1)], 0).is_err());
        assert!(RaftLog::restore(None, vec![e(1, 1)], 2).is_err());
        let log = RaftLog::restore(None, vec![e(1, 1), e(2, 1)], 2).unwrap();
        assert_eq!((log.committed(), log.applied(), log.persisted()), (2, 0, 2));
    }

    #[test]
    fn terms_and_matching() {
        let log = log_of(&[1, 1, 2]);
        assert_eq!(log.term(0), Some(0));
        assert_eq!(log.term(3), Some(2));
        assert_eq!(log.term(4), None);
        assert!(log.matches(2, 1));
        assert!(!log.matches(2, 2));
        assert!(log.is_up_to_date(3, 2));
        assert!(log.is_up_to_date(1, 3));
        assert!(!log.is_up_to_date(5, 1));
        assert!(!log.is_up_to_date(2, 2));
    }

    #[test]
    fn append_skips_matching_and_truncates_conflicts() {
        let mut log = log_of(&[1, 1, 2, 2]);
        // Matching prefix only: nothing changes, last new index is 3.
        assert_eq!(log.append_after(1, &[e(2, 1), e(3, 2)]), Ok(3));
        assert_eq!(log.last_index(), 4);
        // Conflict at 3: truncate 3.. and append.
        assert_eq!(log.append_after(2, &[e(3, 3)]), Ok(3));
        assert_eq!(log.last_index(), 3);
        assert_eq!(log.term(3), Some(3));
        assert_eq!(log.persisted(), 2, "truncation lowers the durable cursor");
        assert_eq!(log.unstable_entries().len(), 1);
    }

    #[test]
    fn append_refuses_to_overwrite_committed() {
        let mut log = log_of(&[1, 1, 2]);
        log.commit_to(3);
        assert_eq!(
            log.append_after(1, &[e(2, 1), e(3, 5)]),
            Err(AppendError::ConflictsWithCommitted {
                index: 3,
                committed: 3
            })
        );
        assert_eq!(log.term(3), Some(2));
    }

    #[test]
    fn conflict_hints() {
        let log = log_of(&[1, 1, 3, 3, 3, 4]);
        assert_eq!(log.first_index_of_term_at(5, 0), 3);
        assert_eq!(log.first_index_of_term_at(5, 4), 4);
        assert_eq!(log.first_index_of_term_at(2, 0), 1);
        assert_eq!(log.last_index_with_term_at_most(6, 3), (5, 3));
        assert_eq!(log.last_index_with_term_at_most(6, 2), (2, 1));
        assert_eq!(log.last_index_with_term_at_most(9, 9), (6, 4));
        assert_eq!(log.last_index_with_term_at_most(6, 0), (0, 0));
    }

    #[test]
    fn committed_entries_wait_for_durability() {
        let mut log = log_of(&[1]);
        log.push(e(2, 1));
        log.push(e(3, 1));
        log.commit_to(3);
        assert_eq!(log.next_committed().len(), 1, "only entry 1 is durable");
        assert_eq!(log.unstable_entries().len(), 2);
        log.hand_out_entries();
        assert!(log.unstable_entries().is_empty());
        log.stable_to(3, 1);
        assert_eq!(log.next_committed().len(), 3);
        log.hand_out_committed(3);
        assert!(log.next_committed().is_empty());
        log.applied_to(3);
        assert_eq!(log.applied(), 3);
    }

    #[test]
    fn stale_stable_to_is_ignored() {
        let mut log = log_of(&[1]);
        log.push(e(2, 1));
        log.hand_out_entries();
        // Entry 2 is replaced before the caller reports it durable.
        log.append_after(1, &[e(2, 2)]).unwrap();
        log.stable_to(2, 1);
        assert_eq!(log.persisted(), 1);
        assert_eq!(log.unstable_entries().len(), 1);
    }

    #[test]
    fn compact_and_install_snapshot() {
        let mut log = log_of(&[1, 1, 2, 2]);
        log.commit_to(4);
        log.applied_to(3);
        log.compact(3, b"s".to_vec(), ConfState::with_voters(vec![1]));
        assert_eq!(log.first_index(), 4);
        assert_eq!(log.term(3), Some(2));
        assert_eq!(log.term(2), None);
        assert_eq!(log.entries_from(4, 10).len(), 1);
        assert!(log.entries_from(3, 10).is_empty());
        let snap = Snapshot {
            meta: SnapshotMeta {
                index: 9,
                term: 5,
                voters: vec![1],
                learners: vec![],
            },
            data: vec![],
        };
        log.install_snapshot(snap);
        assert_eq!((log.last_index(), log.committed()), (9, 9));
        assert!(log.pending_snapshot().is_some());
        log.hand_out_snapshot();
        assert!(log.pending_snapshot().is_none());
        log.snapshot_stable(9);
        assert_eq!(log.applied(), 9);
        log.debug_check();
    }
}

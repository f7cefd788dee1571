//! `Storage`: one node's data directory, written from the Ready loop and read
//! back on restart.
//!
//! Layout of the directory:
//! ```text
//! LOCK                 held (flock) while open: one process per directory
//! hardstate            term + vote (+ a commit floor), replaced atomically
//! snapshot             the latest snapshot (meta + data), replaced atomically
//! wal/000000000001.log WAL segments, records `[len][crc32][payload]`
//! ```
//!
//! Order inside [`Storage::persist`], chosen so that any crash leaves a state
//! the node may restart from:
//! 1. `hardstate` when term or vote changed (temp file, fsync, rename, fsync
//!    the directory). It goes first, so the durable term is never below the
//!    term of a durable entry or snapshot.
//! 2. `snapshot` the same way.
//! 3. One WAL write holding the snapshot marker, the entries and the new
//!    commit index, then ONE `fdatasync`. A batch that only advances the commit
//!    index is written without an fsync: the commit index is not needed for
//!    safety (a lower one is always correct) and rides on the next fsync.
//! 4. WAL segments wholly covered by the snapshot are deleted.
//!
//! So a Ready with entries costs exactly one fsync, plus two when the term or
//! vote changed and two when it carries a snapshot. Rolling to a new segment
//! costs one directory fsync (and one for the old segment if it held unsynced
//! commit records).

use std::collections::VecDeque;
use std::fs::{self, File, TryLockError};
use std::path::{Path, PathBuf};

use faultline_raft::{Entry, HardState, Index, NodeId, PersistedState, Snapshot, Term};
use serde::{Deserialize, Serialize};

use super::atomic_file::{self, sync_dir};
use super::codec;
use super::error::{Result, StorageError, io_err};
use super::options::StorageOptions;
use super::record::{WalRecordRef, append_framed};
use super::replay::{self, SegmentInfo};
use super::segment::ActiveSegment;
use super::stats::StorageStats;
use super::term_log::TermLog;

const HARDSTATE: &str = "hardstate";
const SNAPSHOT: &str = "snapshot";
const LOCK: &str = "LOCK";
const WAL_DIR: &str = "wal";
const HARDSTATE_MAGIC: &[u8; 8] = b"FLHARD01";
const SNAPSHOT_MAGIC: &[u8; 8] = b"FLSNAP01";

/// How a snapshot is recorded in the WAL (see [`WalRecordRef`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MarkerKind {
    Compact,
    Reset,
}

/// Raft Figure 13: keep the log after the snapshot only if it holds the
/// snapshot's last entry with the same term.
fn marker_for(log: &TermLog, index: Index, term: Term) -> MarkerKind {
    if index >= log.base_index() && log.term_at(index) == Some(term) {
        MarkerKind::Compact
    } else {
        MarkerKind::Reset
    }
}

fn apply_marker(log: &mut TermLog, kind: MarkerKind, index: Index, term: Term) {
    match kind {
        MarkerKind::Compact => log.compact_to(index, term),
        MarkerKind::Reset => log.reset_to(index, term),
    }
}

/// The content of the `hardstate` file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct HardStateFile {
    term: Term,
    vote: Option<NodeId>,
    /// A commit index known durable when the file was written.
    commit: Index,
}

/// A closed (no longer written) WAL segment.
#[derive(Debug, Clone)]
struct ClosedSegment {
    seq: u64,
    path: PathBuf,
    len: u64,
    max_index: Index,
}

/// A node's durable state. Not thread-safe by itself: the Ready loop owns it.
/// After any error the caller must stop using it (the node should exit and
/// restart from disk); later calls return the same kind of error again.
#[derive(Debug)]
pub struct Storage {
    dir: PathBuf,
    wal_dir: PathBuf,
    opts: StorageOptions,
    _lock: File,
    active: ActiveSegment,
    active_max_index: Index,
    closed: VecDeque<ClosedSegment>,
    log: TermLog,
    /// Durable hard state; `commit` is the highest commit written.
    hard_state: HardState,
    snapshot: Option<(Index, Term)>,
    /// Segment holding the latest snapshot marker.
    marker_seq: Option<u64>,
    hardstate_file_len: u64,
    snapshot_file_len: u64,
    fsyncs: u64,
    batches: u64,
    wal_bytes_written: u64,
    failed: bool,
    /// Planted bug `no-fsync`: WAL writes are not fsynced.
    no_wal_fsync: bool,
}

impl Storage {
    /// Open (creating if needed) the data directory `dir` and recover what
    /// survived: hard state, snapshot and the log after it.
    pub fn open(dir: impl AsRef<Path>, opts: StorageOptions) -> Result<(Storage, PersistedState)> {
        let dir = dir.as_ref().to_path_buf();
        let wal_dir = dir.join(WAL_DIR);
        let mut fsyncs = 0;
        if !wal_dir.is_dir() {
            fs::create_dir_all(&wal_dir).map_err(io_err("create directory", &wal_dir))?;
            sync_dir(&dir)?;
            fsyncs += 1;
            // Make the data directory's own entry durable too (best effort:
            // the parent may not be readable).
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty())
                && sync_dir(parent).is_ok()
            {
                fsyncs += 1;
            }
        }
        let lock = lock_dir(&dir)?;
        atomic_file::remove_leftovers(&dir)?;

        let hs_file: HardStateFile =
            read_decoded(&dir, HARDSTATE, "hardstate", HARDSTATE_MAGIC)?.unwrap_or_default();
        let snapshot: Option<Snapshot> = read_decoded(&dir, SNAPSHOT, "snapshot", SNAPSHOT_MAGIC)?;
        let file_len = |name: &str| fs::metadata(dir.join(name)).map(|m| m.len()).unwrap_or(0);
        let (hardstate_file_len, snapshot_file_len) = (file_len(HARDSTATE), file_len(SNAPSHOT));

        let mut wal = replay::replay(&wal_dir)?;
        let inconsistent = |detail: String| StorageError::Inconsistent {
            dir: dir.clone(),
            detail,
        };

        // Reconcile the snapshot file with the markers in the WAL.
        let (base_index, base_term) = snapshot
            .as_ref()
            .map_or((0, 0), |s| (s.meta.index, s.meta.term));
        let mut pending_marker = None;
        match (&snapshot, wal.marker) {
            (None, Some(m)) => {
                return Err(inconsistent(format!(
                    "the WAL records a snapshot at index {} (segment {}) but there is no snapshot file",
                    m.index, m.seq
                )));
            }
            (Some(_), Some(m)) if m.index > base_index => {
                return Err(inconsistent(format!(
                    "the WAL records a snapshot at index {} but the snapshot file is at index {base_index}",
                    m.index
                )));
            }
            (Some(_), Some(m)) if m.index == base_index => {
                if m.term != base_term {
                    return Err(inconsistent(format!(
                        "the WAL records a snapshot at index {} term {} but the snapshot file has term {base_term}",
                        m.index, m.term
                    )));
                }
            }
            (Some(_), _) => {
                // The snapshot file was written but the crash came before its
                // WAL marker: finish the job the same way `persist` would have.
                let log = TermLog::new(
                    // Replay refuses entries at index 0, so this cannot wrap.
                    wal.entries.first().map_or(0, |e| e.index.saturating_sub(1)),
                    0,
                    wal.entries.iter().map(|e| e.term),
                );
                let kind = marker_for(&log, base_index, base_term);
                tracing::info!(
                    index = base_index,
                    ?kind,
                    "completing an interrupted snapshot install"
                );
                match kind {
                    MarkerKind::Compact => wal.entries.retain(|e| e.index > base_index),
                    MarkerKind::Reset => wal.entries.clear(),
                }
                pending_marker = Some(kind);
            }
            (None, None) => {}
        }
        if let Some(first) = wal.entries.first()
            && base_index.checked_add(1) != Some(first.index)
        {
            return Err(inconsistent(format!(
                "the log on disk starts at index {} but the snapshot covers only up to {base_index} \
                 (a WAL segment was lost)",
                first.index
            )));
        }

        let last_index = wal.entries.last().map_or(base_index, |e| e.index);
        let mut commit = hs_file.commit.max(wal.commit).max(base_index);
        if commit > last_index {
            tracing::warn!(
                commit,
                last_index,
                "recorded commit index is past the log; clamping"
            );
            commit = last_index;
        }
        let hard_state = HardState {
            term: hs_file.term,
            vote: hs_file.vote,
            commit,
        };

        let marker_seq = wal.marker.map(|m| m.seq);
        let mut closed: VecDeque<ClosedSegment> = wal
            .segments
            .iter()
            .map(|s: &SegmentInfo| ClosedSegment {
                seq: s.seq,
                path: s.path.clone(),
                len: s.len,
                max_index: s.max_index,
            })
            .collect();
        let (active, active_max_index) = match closed.pop_back() {
            Some(last) => (
                ActiveSegment::open(last.path, last.seq, last.len)?,
                last.max_index,
            ),
            None => {
                fsyncs += 1;
                (ActiveSegment::create(&wal_dir, 1)?, 0)
            }
        };
        let log = TermLog::new(base_index, base_term, wal.entries.iter().map(|e| e.term));
        let mut storage = Storage {
            dir,
            wal_dir,
            opts,
            _lock: lock,
            active,
            active_max_index,
            closed,
            log,
            hard_state: hard_state.clone(),
            snapshot: snapshot.as_ref().map(|s| (s.meta.index, s.meta.term)),
            marker_seq,
            hardstate_file_len,
            snapshot_file_len,
            fsyncs,
            batches: 0,
            wal_bytes_written: 0,
            failed: false,
            no_wal_fsync: false,
        };
        if let Some(kind) = pending_marker {
            let mut buf = Vec::new();
            append_framed(&marker_record(kind, base_index, base_term), &mut buf)?;
            storage.write_wal(&buf, true)?;
            storage.marker_seq = Some(storage.active.seq);
            storage.compact_segments();
        }
        tracing::info!(
            dir = %storage.dir.display(),
            term = hard_state.term,
            commit = hard_state.commit,
            snapshot_index = base_index,
            last_index = storage.log.last_index(),
            segments = storage.closed.len() + 1,
            truncated_bytes = wal.truncated_bytes,
            "storage recovered"
        );
        let persisted = PersistedState {
            hard_state,
            snapshot,
            entries: wal.entries,
        };
        Ok((storage, persisted))
    }

    /// Make one Ready's state durable: `hard_state` (if changed), `snapshot`
    /// (if any; it precedes `entries`), then `entries`, which replace any
    /// persisted entries at or after `entries[0].index`. Returns once all of
    /// it is on disk (see the module docs for the order and the fsyncs).
    pub fn persist(
        &mut self,
        hard_state: Option<&HardState>,
        entries: &[Entry],
        snapshot: Option<&Snapshot>,
    ) -> Result<()> {
        if self.failed {
            return Err(StorageError::InvalidInput(
                "storage is unusable after an earlier I/O error; restart from disk".into(),
            ));
        }
        // Validate everything before touching the disk.
        let snapshot = match snapshot {
            Some(s) if self.snapshot == Some((s.meta.index, s.meta.term)) => None,
            Some(s) => {
                let current = self.snapshot.map_or(0, |(i, _)| i);
                if s.meta.index <= current {
                    return Err(StorageError::StaleSnapshot {
                        given: s.meta.index,
                        current,
                    });
                }
                Some(s)
            }
            None => None,
        };
        let mut planned = None;
        if let Some(s) = snapshot {
            let (index, term) = (s.meta.index, s.meta.term);
            let kind = marker_for(&self.log, index, term);
            let mut log = self.log.clone();
            apply_marker(&mut log, kind, index, term);
            planned = Some((kind, log));
        }
        let log_after_snapshot = planned.as_ref().map_or(&self.log, |(_, log)| log);
        validate_entries(log_after_snapshot, entries)?;
        let last_after = entries
            .last()
            .map_or(log_after_snapshot.last_index(), |e| e.index);
        let new_commit = hard_state
            .map(|h| h.commit)
            .filter(|&c| c > self.hard_state.commit);
        if let Some(c) = new_commit
            && c > last_after
        {
            return Err(StorageError::InvalidInput(format!(
                "commit index {c} is past the last log index {last_after}"
            )));
        }
        let vote_changed = hard_state
            .is_some_and(|h| (h.term, h.vote) != (self.hard_state.term, self.hard_state.vote));

        let result = self.write_batch(
            hard_state,
            vote_changed,
            entries,
            snapshot,
            planned,
            new_commit,
        );
        if result.is_err() {
            self.failed = true;
        }
        result
    }

    fn write_batch(
        &mut self,
        hard_state: Option<&HardState>,
        vote_changed: bool,
        entries: &[Entry],
        snapshot: Option<&Snapshot>,
        planned: Option<(MarkerKind, TermLog)>,
        new_commit: Option<Index>,
    ) -> Result<()> {
        let mut wrote = false;
        // 1. hard state
        if let Some(h) = hard_state.filter(|_| vote_changed) {
            let file = HardStateFile {
                term: h.term,
                vote: h.vote,
                commit: self.hard_state.commit,
            };
            let payload = codec::encode("hard state", &file)?;
            self.hardstate_file_len =
                atomic_file::write(&self.dir, HARDSTATE, HARDSTATE_MAGIC, &payload)?;
            self.fsyncs += 2;
            self.hard_state.term = h.term;
            self.hard_state.vote = h.vote;
            wrote = true;
        }
        // 2. snapshot
        if let Some(s) = snapshot {
            let payload = codec::encode("snapshot", s)?;
            self.snapshot_file_len =
                atomic_file::write(&self.dir, SNAPSHOT, SNAPSHOT_MAGIC, &payload)?;
            self.fsyncs += 2;
            wrote = true;
        }
        // 3. one WAL write, one fsync
        let mut buf = Vec::new();
        let mut marker = None;
        if let (Some(s), Some((kind, _))) = (snapshot, planned.as_ref()) {
            append_framed(&marker_record(*kind, s.meta.index, s.meta.term), &mut buf)?;
            marker = Some((s.meta.index, s.meta.term));
        }
        if !entries.is_empty() {
            append_framed(&WalRecordRef::Entries(entries), &mut buf)?;
        }
        let needs_sync = !buf.is_empty();
        if let Some(c) = new_commit {
            append_framed(&WalRecordRef::Commit(c), &mut buf)?;
        }
        if !buf.is_empty() {
            self.write_wal(&buf, needs_sync)?;
            wrote = true;
        }
        // In-memory state follows the disk.
        if let Some((_, log)) = planned {
            self.log = log;
        }
        if let Some(first) = entries.first() {
            self.log
                .truncate_and_append(first.index, entries.iter().map(|e| e.term));
            let last = entries.last().map_or(0, |e| e.index);
            self.active_max_index = self.active_max_index.max(last);
        }
        if let Some(c) = new_commit {
            self.hard_state.commit = c;
        }
        if wrote {
            self.batches += 1;
        }
        // 4. compaction
        if let Some(m) = marker {
            self.snapshot = Some(m);
            self.marker_seq = Some(self.active.seq);
            self.compact_segments();
        }
        Ok(())
    }

    /// Append `buf` to the WAL in one write, rolling first if the active
    /// segment would pass the size threshold; fsync when `sync`.
    fn write_wal(&mut self, buf: &[u8], sync: bool) -> Result<()> {
        let sync = sync && !self.no_wal_fsync;
        if self.active.len > 0 && self.active.len + buf.len() as u64 > self.opts.segment_size {
            self.roll()?;
        }
        self.active.append(buf)?;
        self.wal_bytes_written += buf.len() as u64;
        if sync {
            self.active.sync()?;
            self.fsyncs += 1;
        }
        Ok(())
    }

    fn roll(&mut self) -> Result<()> {
        if self.active.unsynced && !self.no_wal_fsync {
            self.active.sync()?;
            self.fsyncs += 1;
        }
        let next = ActiveSegment::create(&self.wal_dir, self.active.seq + 1)?;
        self.fsyncs += 1;
        let old = std::mem::replace(&mut self.active, next);
        tracing::debug!(closed = %old.path.display(), bytes = old.len, "rolled WAL segment");
        self.closed.push_back(ClosedSegment {
            seq: old.seq,
            path: old.path,
            len: old.len,
            max_index: self.active_max_index,
        });
        self.active_max_index = 0;
        Ok(())
    }

    /// Delete the oldest closed segments whose entries the snapshot covers.
    /// The segment holding the latest marker is never deleted, so replay
    /// always sees it. Deletion needs no fsync: a segment that reappears after
    /// a crash replays to the same log.
    fn compact_segments(&mut self) {
        let (Some((snap_index, _)), Some(marker_seq)) = (self.snapshot, self.marker_seq) else {
            return;
        };
        while let Some(front) = self.closed.front() {
            if front.seq >= marker_seq || front.max_index > snap_index {
                break;
            }
            if let Err(e) = fs::remove_file(&front.path) {
                tracing::warn!(path = %front.path.display(), error = %e, "cannot delete a compacted WAL segment; will retry");
                break;
            }
            tracing::debug!(path = %front.path.display(), "deleted compacted WAL segment");
            self.closed.pop_front();
        }
    }

    /// Size and activity counters.
    /// Planted bug `no-fsync`: from now on WAL writes are not fsynced (the
    /// hard state and snapshot files still are).
    pub fn plant_no_fsync(&mut self) {
        self.no_wal_fsync = true;
    }

    pub fn stats(&self) -> StorageStats {
        StorageStats {
            bytes_on_disk: self.closed.iter().map(|s| s.len).sum::<u64>()
                + self.active.len
                + self.hardstate_file_len
                + self.snapshot_file_len,
            segment_count: self.closed.len() + 1,
            fsync_count: self.fsyncs,
            batches: self.batches,
            wal_bytes_written: self.wal_bytes_written,
            last_index: self.log.last_index(),
            snapshot_index: self.log.base_index(),
        }
    }

    /// The durable hard state (commit: the highest written).
    pub fn hard_state(&self) -> &HardState {
        &self.hard_state
    }

    /// Index of the last durable entry (or of the snapshot when none follow).
    pub fn last_index(&self) -> Index {
        self.log.last_index()
    }

    /// Index of the durable snapshot (0: none).
    pub fn snapshot_index(&self) -> Index {
        self.log.base_index()
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

fn marker_record(kind: MarkerKind, index: Index, term: Term) -> WalRecordRef<'static> {
    match kind {
        MarkerKind::Compact => WalRecordRef::CompactTo { index, term },
        MarkerKind::Reset => WalRecordRef::ResetTo { index, term },
    }
}

/// Entries must be contiguous, start after the snapshot and not leave a gap.
fn validate_entries(log: &TermLog, entries: &[Entry]) -> Result<()> {
    let Some(first) = entries.first() else {
        return Ok(());
    };
    if let Some(w) = entries.windows(2).find(|w| w[1].index != w[0].index + 1) {
        return Err(StorageError::InvalidInput(format!(
            "entries are not contiguous: index {} followed by {}",
            w[0].index, w[1].index
        )));
    }
    if first.index <= log.base_index() {
        return Err(StorageError::InvalidInput(format!(
            "entries start at index {}, at or below the snapshot at {}",
            first.index,
            log.base_index()
        )));
    }
    if first.index > log.last_index() + 1 {
        return Err(StorageError::InvalidInput(format!(
            "entries start at index {} but the log ends at {}: that would leave a gap",
            first.index,
            log.last_index()
        )));
    }
    Ok(())
}

fn lock_dir(dir: &Path) -> Result<File> {
    let path = dir.join(LOCK);
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err("create", &path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(StorageError::Locked {
            path: dir.to_path_buf(),
        }),
        Err(TryLockError::Error(e)) => Err(io_err("lock", &path)(e)),
    }
}

fn read_decoded<T: serde::de::DeserializeOwned>(
    dir: &Path,
    name: &str,
    what: &'static str,
    magic: &[u8; 8],
) -> Result<Option<T>> {
    let Some(payload) = atomic_file::read(dir, name, what, magic)? else {
        return Ok(None);
    };
    codec::decode(&payload)
        .map(Some)
        .map_err(|detail| StorageError::CorruptFile {
            what,
            path: dir.join(name),
            detail,
        })
}

//! Recovery of the WAL: read every segment in order, apply its records to an
//! in-memory log, truncate a torn tail, and refuse corruption before the tail.

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};

use faultline_raft::{Entry, Index, Term};

use super::error::{Result, StorageError, io_err};
use super::record::{self, WalRecord};
use super::segment::{list_segments, segment_name};

/// A snapshot marker read from the WAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    pub index: Index,
    pub term: Term,
    /// Sequence number of the segment holding it.
    pub seq: u64,
}

/// One segment as found on disk (after any tail truncation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentInfo {
    pub seq: u64,
    pub path: PathBuf,
    pub len: u64,
    /// Highest entry index written in it (0: none).
    pub max_index: Index,
}

/// The log rebuilt from the WAL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayedWal {
    /// Contiguous entries; they start wherever the surviving segments start.
    pub entries: Vec<Entry>,
    /// The last snapshot marker seen.
    pub marker: Option<Marker>,
    /// Highest commit index recorded.
    pub commit: Index,
    pub segments: Vec<SegmentInfo>,
    /// Bytes cut from the last segment's torn tail.
    pub truncated_bytes: u64,
}

impl ReplayedWal {
    fn apply(&mut self, record: WalRecord, seq: u64) -> std::result::Result<(), String> {
        match record {
            WalRecord::Entries(batch) => {
                let Some(first) = batch.first().map(|e| e.index) else {
                    return Ok(());
                };
                if first == 0 {
                    return Err("entries from index 0 (log indexes start at 1)".to_string());
                }
                if let Some(w) = batch
                    .windows(2)
                    .find(|w| w[0].index.checked_add(1) != Some(w[1].index))
                {
                    return Err(format!(
                        "entries batch is not contiguous ({} then {})",
                        w[0].index, w[1].index
                    ));
                }
                if let Some(m) = self.marker
                    && first <= m.index
                {
                    return Err(format!(
                        "entries from index {first} at or below the snapshot marker at {}",
                        m.index
                    ));
                }
                match (self.entries.first(), self.entries.last()) {
                    (Some(head), Some(last)) => {
                        // `first - 1 > last` is `first > last + 1` without overflow.
                        if first - 1 > last.index {
                            return Err(format!(
                                "entries from index {first} leave a gap after index {}",
                                last.index
                            ));
                        }
                        let keep = first.saturating_sub(head.index) as usize;
                        self.entries.truncate(keep);
                    }
                    _ => {
                        // No entries since the last marker: the batch may
                        // start past it. Compaction deletes whole segments, so
                        // the oldest surviving one can hold an old marker
                        // followed by entries whose predecessors were in the
                        // deleted segments; a later marker in the WAL covers
                        // the gap. Whether one did is checked once, against
                        // the snapshot file, after the replay (`Storage::open`
                        // refuses a log that does not start right after the
                        // snapshot), as for a WAL with no marker at all.
                    }
                }
                self.entries.extend(batch);
            }
            WalRecord::CompactTo { index, term } => {
                let keep_from = self.entries.partition_point(|e| e.index <= index);
                self.entries.drain(..keep_from);
                self.marker = Some(Marker { index, term, seq });
            }
            WalRecord::ResetTo { index, term } => {
                self.entries.clear();
                self.marker = Some(Marker { index, term, seq });
            }
            WalRecord::Commit(c) => self.commit = self.commit.max(c),
        }
        Ok(())
    }
}

/// Replay every segment of `wal_dir`.
pub fn replay(wal_dir: &Path) -> Result<ReplayedWal> {
    let segments = list_segments(wal_dir)?;
    if let Some(pair) = segments.windows(2).find(|p| p[1].0 != p[0].0 + 1) {
        return Err(StorageError::Inconsistent {
            dir: wal_dir.to_path_buf(),
            detail: format!(
                "WAL segment {} is missing (found {} then {})",
                segment_name(pair[0].0 + 1),
                segment_name(pair[0].0),
                segment_name(pair[1].0)
            ),
        });
    }
    let mut wal = ReplayedWal::default();
    let count = segments.len();
    for (i, (seq, path)) in segments.into_iter().enumerate() {
        let is_last = i + 1 == count;
        let bytes = fs::read(&path).map_err(io_err("read", &path))?;
        let scan = record::scan(&bytes);
        let mut max_index = 0;
        for rec in scan.records {
            if let WalRecord::Entries(batch) = &rec.record
                && let Some(last) = batch.last()
            {
                max_index = max_index.max(last.index);
            }
            wal.apply(rec.record, seq)
                .map_err(|detail| StorageError::CorruptWal {
                    path: path.clone(),
                    offset: rec.offset,
                    detail,
                })?;
        }
        let mut len = bytes.len() as u64;
        if let Some(stop) = scan.stop {
            if !is_last {
                return Err(StorageError::CorruptWal {
                    path,
                    offset: stop.offset,
                    detail: format!(
                        "{} in a segment that is not the last one (later segments exist)",
                        stop.reason
                    ),
                });
            }
            if let Some(valid) = stop.valid_record_after {
                return Err(StorageError::CorruptWal {
                    path,
                    offset: stop.offset,
                    detail: format!(
                        "{}, and a valid record follows at offset {valid}",
                        stop.reason
                    ),
                });
            }
            tracing::warn!(
                path = %path.display(),
                offset = stop.offset,
                cut_bytes = len - stop.offset,
                reason = %stop.reason,
                "truncating a torn WAL tail (an interrupted write that was never acknowledged)"
            );
            let file = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(io_err("open", &path))?;
            file.set_len(stop.offset)
                .map_err(io_err("truncate", &path))?;
            file.sync_all().map_err(io_err("fsync", &path))?;
            wal.truncated_bytes = len - stop.offset;
            len = stop.offset;
        }
        wal.segments.push(SegmentInfo {
            seq,
            path,
            len,
            max_index,
        });
    }
    Ok(wal)
}

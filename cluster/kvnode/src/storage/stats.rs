//! Counters a `Storage` exposes for benchmarks and the node status page.

use faultline_raft::Index;
use serde::{Deserialize, Serialize};

/// A snapshot of a storage's size and activity since it was opened.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageStats {
    /// WAL segments, `hardstate` and `snapshot` files together.
    pub bytes_on_disk: u64,
    /// WAL segment files currently on disk.
    pub segment_count: usize,
    /// fsyncs issued (files and directories) since open.
    pub fsync_count: u64,
    /// `persist` calls that wrote something since open.
    pub batches: u64,
    /// Bytes appended to the WAL since open.
    pub wal_bytes_written: u64,
    /// Last log index on disk.
    pub last_index: Index,
    /// Index of the snapshot on disk (0: none).
    pub snapshot_index: Index,
}

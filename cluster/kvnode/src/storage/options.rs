//! Tunables of a node's storage.

/// Default size at which the active WAL segment is closed and a new one begun.
pub const DEFAULT_SEGMENT_SIZE: u64 = 16 * 1024 * 1024;

/// Options for [`Storage::open`](super::Storage::open).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageOptions {
    /// A new segment is begun when the next batch would take the active one
    /// past this many bytes (a single larger batch still goes in one segment).
    pub segment_size: u64,
}

impl Default for StorageOptions {
    fn default() -> Self {
        StorageOptions {
            segment_size: DEFAULT_SEGMENT_SIZE,
        }
    }
}

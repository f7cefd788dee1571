//! Typed errors of the storage layer. Every error that means "the data on disk
//! is not what we wrote" names the file and byte offset and says what to do.

use std::io;
use std::path::PathBuf;

use faultline_raft::Index;

/// What went wrong while opening or writing a node's data directory.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A system call failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// A WAL record before the tail is damaged. Opening would silently drop the
    /// valid records after it, so the node refuses to start.
    #[error(
        "corrupt WAL record in {} at byte offset {offset}: {detail}. \
         Refusing to open: the records after it would be lost silently. \
         To recover, move this node's data directory aside and let the node \
         catch up from its peers (it will receive a snapshot); only if you know \
         the records after this offset were never acknowledged (e.g. the machine \
         lost power during that write) truncate the file to {offset} bytes",
        path.display()
    )]
    CorruptWal {
        path: PathBuf,
        offset: u64,
        detail: String,
    },

    /// The `hardstate` or `snapshot` file is damaged (they are replaced by an
    /// atomic rename, so this is media corruption, not a crash).
    #[error(
        "corrupt {what} file {}: {detail}. Refusing to open; move this node's \
         data directory aside and let the node catch up from its peers",
        path.display()
    )]
    CorruptFile {
        what: &'static str,
        path: PathBuf,
        detail: String,
    },

    /// The WAL does not form one contiguous log (a segment was removed by hand,
    /// or the snapshot file does not match the WAL).
    #[error(
        "inconsistent data directory {}: {detail}. Refusing to open; move this \
         node's data directory aside and let the node catch up from its peers",
        dir.display()
    )]
    Inconsistent { dir: PathBuf, detail: String },

    /// The caller handed over something the log cannot take (a bug in the caller).
    #[error("invalid persist request: {0}")]
    InvalidInput(String),

    /// A snapshot older than the one already on disk.
    #[error("stale snapshot at index {given}: the snapshot on disk is at index {current}")]
    StaleSnapshot { given: Index, current: Index },

    /// One record would not fit the 32-bit length field.
    #[error("WAL record of {0} bytes exceeds the 4 GiB record limit")]
    RecordTooLarge(usize),

    /// Another process has the data directory open.
    #[error("data directory {} is locked by another process (is another kvnode running on it?)", path.display())]
    Locked { path: PathBuf },

    /// Serialization failed (should not happen for well-formed values).
    #[error("encoding {what}: {detail}")]
    Encode { what: &'static str, detail: String },
}

/// Shorthand used throughout the storage layer.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// Attach an operation name and a path to an `io::Error`.
pub(crate) fn io_err(
    op: &'static str,
    path: impl Into<PathBuf>,
) -> impl FnOnce(io::Error) -> StorageError {
    let path = path.into();
    move |source| StorageError::Io { op, path, source }
}

//! Durable storage of one node: a write-ahead log in segment files, the hard
//! state and the latest snapshot, each replaced atomically, with crash
//! recovery that truncates a torn tail and refuses any other corruption.
//!
//! The entry point is [`Storage`]: `open` returns the `PersistedState` the
//! Raft core restarts from, `persist` makes one Ready durable.

mod atomic_file;
mod codec;
pub mod error;
mod options;
mod record;
mod replay;
mod segment;
mod stats;
mod store;
mod term_log;

pub use error::StorageError;
pub use options::{DEFAULT_SEGMENT_SIZE, StorageOptions};
pub use stats::StorageStats;
pub use store::Storage;

//! faultline-diskfs: a FUSE file system for power-loss faults (LazyFS's
//! idea, in Rust). Mounted over a node's data directory, it passes the
//! namespace through to a backing folder but keeps written data in memory
//! until the file is fsynced, and namespace changes undoable until their
//! directory is fsynced. On command (the control socket) it loses all of
//! that, optionally tearing the newest write at a seeded byte.
//!
//! - [`dirty`]: one file's unsynced bytes (pure);
//! - [`journal`]: unsynced creates / renames / removals and their undo;
//! - [`overlay`]: the whole state over a backing folder, no FUSE — what the
//!   unit tests drive;
//! - [`fuse`]: the `fuser` adapter;
//! - [`control`]: the control socket (`drop`, `drop tear`, `stats`) and its
//!   client;
//! - [`mounts`]: finding and unmounting mounts whose server is gone
//!   (`faultline clean`).

pub mod control;
pub mod dirty;
mod error;
pub mod fuse;
pub mod journal;
pub mod mounts;
pub mod overlay;

pub use error::{DiskError, Result};
pub use overlay::{Loss, Overlay, Stats};

/// The FUSE file-system name a mount shows in `/proc/self/mountinfo`
/// (`faultline-diskfs@<server pid>`), so `faultline clean` can tell a
/// diskfs mount and whether its server still runs.
pub const FS_NAME: &str = "faultline-diskfs";

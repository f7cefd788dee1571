//! The Raft test kit: what every host of the core needs to drive it in a
//! test, a simulation or a model checker, written once. Pure code, under
//! the core's rules (no I/O, no clocks, no threads, no unordered maps).
//!
//! - `disk`: `MemDisk`, an in-memory disk that applies a `Ready` and
//!   compaction and yields the `PersistedState` of a restart;
//! - `driver`: the one Ready driver (`handle_ready`, `drain`) in the
//!   order the core's contract asks, with a `ReadyHost` for the host's
//!   network, state machine and checks;
//! - `fmt`: the one readable form of messages and entries;
//! - `safety`: the Raft safety properties and their checks;
//! - `hash`: fixed 64-bit hashing for log prefixes and digests;
//! - [`command`]: a hand-built command entry for tests.
//!
//! Used by the raft integration tests, `faultline-sim` and the stateright
//! model in `faultline-checker`.

pub mod disk;
pub mod driver;
pub mod fmt;
pub mod hash;
pub mod safety;

pub use disk::MemDisk;
pub use driver::{Drained, Handled, ReadyHost, Send, drain, handle_ready};
pub use fmt::{Formatter, Payload, Text};
pub use safety::{Breach, Safety};

use crate::types::{Entry, EntryKind};

/// A client command entry carrying `data`, for tests that build logs by hand.
pub fn command(term: u64, index: u64, data: &str) -> Entry {
    Entry {
        term,
        index,
        kind: EntryKind::Normal,
        data: data.as_bytes().to_vec(),
    }
}

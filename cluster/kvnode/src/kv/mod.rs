//! The replicated key/value state machine: commands and replies
//! (`command`), the exactly-once session table (`sessions`), the store that
//! applies committed commands (`store`) and its snapshot format (`snapshot`).
//!
//! Everything here is deterministic and driven only by the log: the same
//! committed entries give the same state and replies on every replica.

mod command;
mod error;
mod sessions;
mod snapshot;
mod store;

pub use command::{Command, Op, Reply, decode_command, encode_command};
pub use error::KvError;
pub use sessions::{DEFAULT_MAX_SESSIONS, SessionLookup, Sessions};
pub use store::{ApplyOutcome, KvStore};

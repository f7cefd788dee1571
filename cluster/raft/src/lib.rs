//! faultline-raft: the Raft core as a pure, deterministic state machine.
//!
//! It owns elections (with PreVote and CheckQuorum), log replication, commit,
//! snapshots, ReadIndex, single-server membership changes and (off by default) leader leases. It does no I/O: time enters through `tick()`,
//! randomness through a seeded RNG, messages through `step()`, and all output
//! leaves through a `Ready` batch. kvnode, the simulator and the model checker
//! all drive this one core.

pub mod bugs;
pub mod conf;
mod confchange;
mod election;
pub mod error;
mod lease;
mod log;
pub mod node;
mod progress;
mod raft;
pub mod raw_node;
mod read_index;
mod read_only;
pub mod relabel;
mod replication;
pub mod rng;
pub mod testkit;
pub mod types;

pub use bugs::{BugInfo, BugSet, RaftBug};
pub use conf::{ConfChange, ConfChangeError, ConfState};
pub use error::RaftError;
pub use lease::{LEASE_CTX_LEN, LEASE_CTX_PREFIX, ReadMode, UnknownReadMode, lease_ticks};
pub use node::{Config, DEFAULT_MAX_CLOCK_DRIFT_PCT, PersistedState, Ready, Status};
pub use raw_node::RawNode;
pub use relabel::Renaming;
pub use rng::{SplitMix64, splitmix64};
pub use types::*;

//! faultline-workloads: the Jepsen-style pieces on the client side of a test.
//!
//! - [`op`]: an operation ([`Op`]) and what became of it ([`Outcome`]).
//! - [`client`] / [`db`]: the two protocols a system under test implements
//!   (Jepsen's Client and DB): invoke an operation; set up, tear down, kill,
//!   pause and inspect nodes. Both are object-safe: the runner takes
//!   `Box<dyn Db>` and `Arc<dyn ClientFactory>`.
//! - [`stop`]: the flag that ends a run early (Ctrl-C) or at its time limit.
//! - [`net_control`]: network and clock faults a `Db` may offer the nemesis.
//! - [`shard_control`]: Join / Leave / Move / Query a sharded `Db` may offer
//!   the nemesis.
//! - [`membership_control`]: add a fresh node to / remove a node from a
//!   replica group, a `Db` may offer the nemesis.
//! - [`generator`]: seeded operation generators, `register` and `append`.
//! - [`history`]: the streaming `history.jsonl` recorder (one monotonic clock).
//! - [`stats`]: live counters for progress lines and the results summary.
//! - [`rate`]: an optional global rate limit.
//! - [`runner`]: the client workers: one process at a time per worker, a new
//!   process number after an unknown outcome, and the final reads.

pub mod client;
pub mod db;
pub mod error;
pub mod generator;
pub mod history;
pub mod membership_control;
pub mod net_control;
pub mod op;
pub mod rate;
pub mod runner;
pub mod shard_control;
pub mod stats;
pub mod stop;

pub use client::{Client, ClientFactory};
pub use db::{Db, NodeProcess, NodeState, await_startup_leader, wait_for_leader};
pub use error::WorkloadError;
pub use generator::{Generator, WorkloadKind, WorkloadOptions};
pub use history::{HistoryWriter, Process};
pub use membership_control::MembershipControl;
pub use net_control::NetControl;
pub use op::{F, Op, Outcome};
pub use shard_control::{ShardControl, ShardLayout};
pub use stats::Stats;
pub use stop::StopFlag;

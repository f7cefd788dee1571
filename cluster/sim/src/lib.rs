//! The deterministic simulator of the Raft core (`faultline sim raft`).
//!
//! N in-memory nodes drive the real `faultline_raft::RawNode` over a
//! simulated network with delay, loss, duplication, reordering and
//! partitions; nodes crash (losing all that is not on their simulated disk)
//! and restart from their disk; clients propose commands and ask for
//! ReadIndex reads; with membership changes on, an operator asks leaders
//! to add and remove servers; time is virtual. After every step the Raft safety
//! properties are checked (`invariants`), and once faults heal the cluster
//! must make progress. Everything follows from one seed.
//!
//! Modules: `world` (the engine: event queue, Ready loop on the test kit's
//! driver, faults, clients), `node` (a server: its core, its disk (the test
//! kit's `MemDisk`) and its application), `network`, `schedule` (the faults
//! of a seed), `membership` (the operator's membership changes), `reconfig_race` (its
//! targeted pattern, the 2015 bug's shape),
//! `invariants` (the test kit's safety checks fed with the run, plus read
//! linearizability), `trace`, `runner` (random runs over many
//! seeds), `cluster` (a scripted API for tests, after the MIT 6.5840 lab's
//! config.go), `rng`.

pub mod cluster;
pub mod error;
pub mod invariants;
pub mod membership;
pub mod network;
pub mod node;
pub mod reconfig_race;
pub mod rng;
pub mod runner;
pub mod schedule;
pub mod trace;
pub mod world;

pub use cluster::Cluster;
pub use error::SimError;
pub use invariants::Property;
pub use runner::{FoundViolation, SeedOutcome, SimOptions, Summary, replay, run_seed, run_seeds};
pub use trace::Trace;
pub use world::{TICK, Violation, World, WorldConfig};

//! The stateright model of the Raft core: exhaustive, bounded model checking
//! of Raft's safety properties on the *same* `faultline-raft` code the nodes
//! run (DESIGN.md invariant 1).
//!
//! A state holds every server's `RawNode` and the disk it persisted, the set
//! of messages in flight, bounded counters (crashes, proposals, reads), ghost
//! history for the properties, and the clients' history. Steps: deliver a
//! message (or, with `--duplicating`, deliver and keep a copy; with
//! `--lossy`, lose it), an election timeout (the server campaigns), a
//! leader's heartbeat timeout, a crash with a restart from disk, a client
//! proposal of a new value at a leader, a ReadIndex read at a leader, and
//! (`--conf-changes N`) a leader's single-server membership change, adding
//! a spare or removed server or removing a voter. After
//! each step the server's Ready loop runs to quiescence (`driver`, on the
//! test kit's Ready driver, `faultline_raft::testkit`).
//!
//! Module map: `options` (bounds), `state`, `network`, `action`,
//! `model` (the `Model`), `driver` (the model's Ready host), `ghost` and
//! `clients` (history for properties; the register linearizability
//! tester), `properties` (the named properties; the Raft safety checks are
//! the test kit's, shared with the simulator), `symmetry` and
//! `dead_messages` (reductions), `render` (readable traces, in the test
//! kit's format), `run` (checker runs and their results), `shortest`
//! (shortest traces).
//!
//! (The history models of the linearizability checker are `crate::models`.)
//!
//! What the model leaves out, on purpose: the cores run classic Raft
//! (PreVote and CheckQuorum off) so the model compares with `raft.tla`
//! (`--prevote` turns PreVote on; CheckQuorum's lease needs followers'
//! timers, which the model does not run);
//! followers' tick counters never move (timeouts fire as whole actions);
//! crashes happen between steps, never in the middle of a Ready (a crash
//! after sending and before persisting looks like a lost message plus a
//! crash, except for a leader's own unpersisted entries); the log is never
//! compacted (no snapshots); identical messages in flight are one message.

pub mod action;
pub mod clients;
pub mod dead_messages;
pub mod driver;
pub mod error;
pub mod ghost;
pub mod model;
pub mod network;
pub mod options;
pub mod properties;
pub mod render;
pub mod run;
pub mod shortest;
pub mod state;
pub mod symmetry;

pub use action::Action;
pub use error::ModelError;
pub use model::RaftModel;
pub use options::RaftModelOptions;
pub use properties::{Expectation, Goal, Invariant, NamedProperty};
pub use render::TraceStep;
pub use run::{
    ModelRun, PropertyResult, SearchOptions, StopWhen, Strategy, Verdict, check, explore,
};
pub use state::ModelState;

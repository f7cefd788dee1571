//! faultline-nemesis: faults, their schedules, and the thread that applies
//! them during a run.
//!
//! - [`package`]: the [`Package`] abstraction (Jepsen's nemesis package): a
//!   [`PackageInfo`] (name, plot colour, needs), a fault it starts and
//!   stops, a final heal.
//! - [`kill`], [`pause`]: the first packages (SIGKILL + restart on the same
//!   data; SIGSTOP + SIGCONT).
//! - [`partition`], [`clock`], [`packet`]: faults on the network and clocks
//!   of nodes in network namespaces (iptables DROP by grudge, libfaketime
//!   offsets, iptables random loss).
//! - [`clock_partition`]: a leader cut off while its clock is set back and
//!   runs slow and the others' run fast (aimed at leader leases).
//! - [`power`]: SIGKILL + drop what the node's disk had not fsynced
//!   (diskfs; optionally a torn write) + restart on what survived.
//! - [`shard_move`]: Join / Leave / Move through the shard controller of a
//!   sharded system, undone at the stop.
//! - [`membership`]: remove a member, add a fresh one, or replace one, in
//!   the system's replica group; the stop restores the original size.
//! - [`targets`]: which nodes a fault hits (one, a minority, the leader),
//!   within one replica group.
//! - [`registry`]: `--nemesis kill,pause | all | none` to packages; every
//!   package's info by name.
//! - [`schedule`]: the seeded, staggered fault/heal timetable.
//! - [`runner`]: applies a schedule, records every action in the history,
//!   heals everything at the end.
//! - `StopFlag` (from faultline-workloads): the flag that ends a run early
//!   (Ctrl-C) or at its time limit.

pub mod clock;
pub mod clock_partition;
pub mod error;
pub mod kill;
pub mod membership;
pub mod package;
pub mod packet;
pub mod partition;
pub mod pause;
pub mod power;
pub mod registry;
pub mod runner;
pub mod schedule;
pub mod shard_move;
pub mod targets;
#[cfg(test)]
mod test_support;

pub use error::NemesisError;
pub use faultline_workloads::StopFlag;
pub use package::{Package, PackageInfo};
pub use registry::{available, info, needs_network, parse_packages, parse_packages_for};
pub use runner::{Nemesis, NemesisReport};
pub use schedule::{Action, ActionKind, Schedule, ScheduleOptions};

//! Nodes in network namespaces: the real-network side of faults.
//!
//! A run gets a short id ([`names`]), a private /24 ([`addr`]), a bridge and
//! one namespace per node joined to it by a veth pair ([`network`]).
//! Partitions and packet loss are iptables rules inside the node namespaces
//! ([`firewall`]); clock skew is a per-node libfaketime control file
//! ([`faketime`]). Everything is entered in an on-disk record before it is
//! created ([`leftovers`]), so teardown after an error, a panic, Ctrl-C or a
//! SIGKILLed runner (`faultline clean`) removes all of it. [`control`]
//! offers it all to the nemesis as the workloads' `NetControl`; the
//! harness that starts kvnodes inside the namespaces is
//! [`crate::NetnsHarness`]. One network may carry several groups
//! (a sharded deployment puts its controller group and every shard group on
//! one), its nodes then known by name ([`Network::set_names`]).

pub mod addr;
pub mod cmd;
pub mod control;
pub mod error;
pub mod faketime;
pub mod firewall;
pub mod leftovers;
pub mod names;
pub mod network;

pub use addr::AddrPlan;
pub use cmd::preflight;
pub use error::NetnsError;
pub use firewall::{Purpose, Rule};
pub use leftovers::{
    CleanReport, RUN_ENV, RunRecord, cleanup_leftovers, cleanup_own_runs, process_in_run, runs_dir,
};
pub use names::RunId;
pub use network::{Network, NetworkOptions, NodeNet};

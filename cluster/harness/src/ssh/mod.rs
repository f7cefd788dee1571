//! Nodes on remote hosts over SSH (`faultline run --hosts FILE`).
//!
//! The hosts file ([`hosts`]) says where and how to connect; [`remote`]
//! keeps one multiplexed OpenSSH session per host (the `openssh` crate over
//! the system `ssh`) and runs scripts, uploads and fetches over it, quick
//! ones through a long-lived [`shell`] per host;
//! [`cluster`] is one run's hosts (preflight, run id, leftovers record);
//! [`placement`] says which host, port and group id each member gets;
//! [`harness`] starts, signals and stops kvnodes there; [`network`] applies
//! partitions, packet loss and clock faults there; [`cleanup`] is what a
//! run leaves on its hosts and how `faultline clean` removes it.
//!
//! Operation times are the runner's: clients run here and time their
//! operations with this machine's monotonic clock; the hosts' clocks (and
//! libfaketime's skew of them) never enter the history.

pub mod cleanup;
pub mod cluster;
pub mod error;
pub mod harness;
pub mod hosts;
pub mod network;
pub mod placement;
pub mod remote;
pub mod shell;

pub use cleanup::RemoteRun;
pub use cluster::{Needs, SshCluster};
pub use error::SshError;
pub use harness::{SshHarness, SshOptions};
pub use hosts::{Host, HostsError, HostsFile};
pub use network::SshNetwork;
pub use placement::Place;

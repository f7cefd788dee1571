//! A generic process-member launcher: any program as the nodes of a system
//! under test. [`MemberProcess`] is one child (its output appended to a log
//! file, in a process group of its own so signals reach whatever it forks,
//! always killed and reaped when dropped); [`ProcessGroup`] is `n` members
//! named `1..=n`, on 127.0.0.1 with ports of their own or one per network
//! namespace of a run's [`Network`](crate::netns::Network) (started as `ip
//! netns exec <ns> env <run marker, faketime vars> program ...`, both exec
//! in place so the recorded pid is the program's). etcd members and the
//! nodes of a `--system FILE` run are started this way.

mod error;
mod group;
mod process;

pub use error::ProcessError;
pub use group::{Endpoint, GroupOptions, Launch, ProcessGroup, free_ports};
pub use process::MemberProcess;

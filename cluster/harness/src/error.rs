//! Errors of starting, signalling and querying node processes.

use std::path::{Path, PathBuf};

use faultline_raft::NodeId;

/// What went wrong in a harness.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error(
        "cannot find the kvnode binary (looked next to {exe} and on PATH); build it with `cargo build --release --bins`"
    )]
    KvnodeMissing { exe: String },
    #[error("{op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no node {0} in this group")]
    UnknownNode(NodeId),
    #[error("node {0} is not running")]
    NotRunning(NodeId),
    #[error("node {0} is already running")]
    AlreadyRunning(NodeId),
    #[error("signal {signal} to node {id} (pid {pid}): {source}")]
    Signal {
        id: NodeId,
        pid: u32,
        signal: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("status of node {id}: {detail}")]
    Status { id: NodeId, detail: String },
    #[error("membership change: {0}")]
    Membership(String),
    #[error(
        "no spare network namespace left for a new member ({0} were made at setup); start the group with more spares"
    )]
    NoSpareSlot(usize),
    #[error("no leader within {0:?}")]
    NoLeader(std::time::Duration),
    #[error(
        "cannot find the faultline-diskfs binary (looked next to {exe} and on PATH); build it with `cargo build --release --bins`"
    )]
    DiskfsMissing { exe: String },
    #[error(
        "/dev/fuse is missing: disk faults need FUSE (modprobe fuse; in a container, pass --device /dev/fuse)"
    )]
    NoFuse,
    #[error("faultline-diskfs for node {id} did not come up: {detail}")]
    DiskfsStart { id: NodeId, detail: String },
    #[error("disk faults of node {id}: {detail}")]
    DiskfsControl { id: NodeId, detail: String },
    #[error(
        "this group runs without disk faults; start it with disk faults (`faultline run --disk fuse`, or a `power` nemesis)"
    )]
    NoDiskFaults,
    /// Network namespaces: setup (with advice on how to fix it) or a node's
    /// place in the network.
    #[error(transparent)]
    Netns(#[from] crate::netns::NetnsError),
    /// Remote hosts over SSH.
    #[error(transparent)]
    Ssh(#[from] crate::ssh::SshError),
}

impl HarnessError {
    pub(crate) fn io(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> HarnessError {
        let path = path.to_path_buf();
        move |source| HarnessError::Io { op, path, source }
    }
}

//! Errors of setting up, faulting and tearing down a run's network
//! namespaces. Environment problems say how to fix them (and that
//! `--no-netns` runs on loopback instead).

use std::path::PathBuf;

/// The advice appended to every environment problem.
pub const FIX: &str = "run faultline as root on a Linux host with iproute2, iptables and libfaketime installed \
     (`apt-get install iproute2 iptables faketime libfaketime`), or pass --no-netns to run every node \
     on loopback (no partitions, clock skew or packet loss)";

/// What went wrong with namespaces, devices, rules or clock files.
#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    #[error("network namespaces need root (effective uid is {euid}); {FIX}")]
    NotRoot { euid: u32 },
    #[error("the `{tool}` command is missing (package {package}); {FIX}")]
    ToolMissing {
        tool: &'static str,
        package: &'static str,
    },
    #[error("network namespaces are not usable here (`ip netns add` failed: {detail}); {FIX}")]
    Unsupported { detail: String },
    #[error("libfaketime.so.1 not found (looked in {looked}); {FIX}")]
    FaketimeMissing { looked: String },
    #[error("`{cmd}` failed ({status}): {stderr}")]
    Command {
        cmd: String,
        status: String,
        stderr: String,
    },
    #[error("cannot start `{cmd}`: {source}")]
    Spawn {
        cmd: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("leftovers record {}: {source}", path.display())]
    Record {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "no free private /24 for this run (every candidate 10.x.y.0/24 overlaps an existing route)"
    )]
    NoSubnet,
    #[error("no node {0:?} in this run's network")]
    UnknownNode(String),
    #[error("bad fault parameter: {0}")]
    BadParameter(String),
}

impl NetnsError {
    pub(crate) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> NetnsError {
        let path = path.into();
        move |source| NetnsError::Io { op, path, source }
    }
}

//! Errors of starting, signalling and querying etcd members.

use std::path::PathBuf;

/// What went wrong with an etcd cluster.
#[derive(Debug, thiserror::Error)]
pub enum EtcdError {
    #[error(
        "cannot find the etcd binary (/usr/bin/etcd or on PATH); install it with `apt-get install etcd-server` (scripts/setup.sh does)"
    )]
    EtcdMissing,
    #[error(
        "FAULTLINE_ETCD names {0}, which is not a file; point it at an etcd binary or unset it (scripts/setup.sh installs etcd 3.5.1 at /opt/faultline/etcd-3.5.1/etcd)"
    )]
    EnvMissing(PathBuf),
    #[error("{op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no etcd member {0}")]
    UnknownMember(String),
    #[error("etcd member {0} is not running")]
    NotRunning(String),
    #[error("etcd member {0} is already running")]
    AlreadyRunning(String),
    #[error("signal {signal} to etcd member {name} (pid {pid}): {source}")]
    Signal {
        name: String,
        pid: u32,
        signal: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("network namespaces: {0}")]
    Netns(#[from] crate::netns::NetnsError),
    #[error("etcd member {name}: {detail}")]
    Call { name: String, detail: String },
    #[error("no etcd leader within {0:?}")]
    NoLeader(std::time::Duration),
}

impl From<crate::procs::ProcessError> for EtcdError {
    fn from(e: crate::procs::ProcessError) -> EtcdError {
        use crate::procs::ProcessError as P;
        match e {
            P::Io { op, path, source } => EtcdError::Io { op, path, source },
            P::UnknownMember(n) => EtcdError::UnknownMember(n),
            P::NotRunning(n) => EtcdError::NotRunning(n),
            P::AlreadyRunning(n) => EtcdError::AlreadyRunning(n),
            P::Signal {
                name,
                pid,
                signal,
                source,
            } => EtcdError::Signal {
                name,
                pid,
                signal,
                source,
            },
            P::Netns(e) => EtcdError::Netns(e),
        }
    }
}

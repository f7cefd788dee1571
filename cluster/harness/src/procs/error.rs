//! Errors of starting and signalling member processes.

use std::path::{Path, PathBuf};

/// What went wrong with a member process or its group.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("{op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no member {0}")]
    UnknownMember(String),
    #[error("member {0} is not running")]
    NotRunning(String),
    #[error("member {0} is already running")]
    AlreadyRunning(String),
    #[error("signal {signal} to member {name} (pid {pid}): {source}")]
    Signal {
        name: String,
        pid: u32,
        signal: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("network namespaces: {0}")]
    Netns(#[from] crate::netns::NetnsError),
}

impl ProcessError {
    pub(crate) fn io(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ProcessError {
        let path = path.to_path_buf();
        move |source| ProcessError::Io { op, path, source }
    }
}

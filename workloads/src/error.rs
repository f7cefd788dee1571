//! Errors of the workloads crate: bad options, history I/O, and failures of
//! the system under test reported through the [`Db`](crate::Db) protocol.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    #[error("bad workload option: {0}")]
    Option(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the system under test: {0}")]
    Db(String),
}
